# The viper fast paths must be the ones in use however an app imports the library. An import
# cycle once left token.py with its pure-Python decoder when an app imported the server first
# (as every app does): requests then cost 288 more heap bytes each and a fifth of the
# throughput, while test_token.py, which imports token first, saw nothing. So this module
# imports the server before anything else (each portable module runs in a fresh interpreter).
from sessionring.http import Server  # noqa: I001 - first, on purpose

from _support import IS_MICROPYTHON, no_alloc
from sessionring import cookie, request, token
from sessionring.ring import Session, SessionRing


def test_fast_paths_are_in_use_when_the_server_is_imported_first():
    if IS_MICROPYTHON:  # the unix port has a native emitter
        assert token.decode_into is not token.decode_into_py
        assert token.equal is not token.equal_py
        assert request.names_ok is not request.names_ok_py
        assert cookie.span is not cookie.span_py
    else:
        assert token.decode_into is token.decode_into_py
        assert request.names_ok is request.names_ok_py
    assert Server.HOSTS is None


def test_a_lookup_allocates_nothing_when_the_server_is_imported_first():
    ring = SessionRing(slots=4)
    tok = ring.create("admin").token
    view = Session(ring)
    assert no_alloc(ring.get, tok, view) is view
    assert no_alloc(ring.get, tok.encode(), view) is view
