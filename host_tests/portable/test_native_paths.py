# The viper fast paths must be the ones in use however an app imports the library. An import
# cycle once left token.py with its pure-Python decoder when an app imported the server first
# (as every app does): requests then cost 288 more heap bytes each and a fifth of the
# throughput, while test_token.py, which imports token first, saw nothing. So this module
# imports the server before anything else (each portable module runs in a fresh interpreter).
from sessionring.http import Server  # noqa: I001 - first, on purpose

import sys

from _support import IS_MICROPYTHON, no_alloc
from sessionring import cookie, head as parser, token
from sessionring.ring import Session, SessionRing


def test_fast_paths_are_in_use_when_the_server_is_imported_first():
    # the unix port has a native emitter: the pure-Python twins are not even loaded
    assert ("sessionring._plain" in sys.modules) != IS_MICROPYTHON
    from sessionring import _plain

    used = (token.decode_into, token.equal, parser.names_ok, cookie.span)
    twins = (_plain.decode_into, _plain.equal, _plain.names_ok, _plain.cookie_span)
    for i in range(len(used)):
        assert (used[i] is twins[i]) != IS_MICROPYTHON, i
    assert Server.hosts is None


def test_a_lookup_allocates_nothing_when_the_server_is_imported_first():
    ring = SessionRing(slots=4)
    tok = ring.create("admin").token
    view = Session(ring)
    assert no_alloc(ring.get, tok, view) is view
    assert no_alloc(ring.get, tok.encode(), view) is view
