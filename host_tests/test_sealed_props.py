"""Property tests of the sealed store's opener (host only: hypothesis): whatever a client
sends, get() answers None or a session and never raises."""

from _wall import Wall
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionring import fernet
from sessionring.sealed import SealedStore

T0 = 1800000000
KEY = bytes(range(32))


STORE = SealedStore(keys=[KEY], clock=Wall(), compress=True)
_s = STORE.create("admin", 2)
_s["csrf"] = "abc"
GOOD = STORE.pending(_s)
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="


@given(st.one_of(st.binary(max_size=300), st.text(max_size=300), st.text(B64, max_size=300)))
@settings(max_examples=400, deadline=None)
def test_random_input_never_raises(tok):
    assert STORE.get(tok) is None
    assert fernet.unseal([KEY], tok, T0) is None
    assert STORE.revoke(tok) is False and STORE.touch(tok) is False


@given(st.integers(0, len(GOOD) - 1), st.text(B64 + "+/ \n%", min_size=0, max_size=3), st.data())
@settings(max_examples=400, deadline=None)
def test_edited_cookie_is_refused_never_raises(i, ins, data):
    cut = data.draw(st.integers(0, 3))
    bad = GOOD[:i] + ins + GOOD[i + cut :]
    got = STORE.get(bad)
    assert got is None or bad == GOOD


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_any_plaintext_under_the_key_never_raises(plain):
    # Even a correctly sealed token whose plaintext is garbage (only a key holder could make
    # one) is answered with None or a session, never an exception.
    tok = fernet.seal(KEY, plain, T0)
    got = STORE.get(tok)
    assert got is None or got.user is not None
    body = b"\x01\x01" + plain  # flagged compressed: the inflater must refuse quietly too
    got = STORE.get(fernet.seal(KEY, body, T0))
    assert got is None or got.user is not None


def test_the_good_cookie_opens():
    assert STORE.get(GOOD)["csrf"] == "abc"
