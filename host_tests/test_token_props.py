"""Property tests of the token codec against CPython's base64 (host only: hypothesis)."""

import base64
import re

from hypothesis import given
from hypothesis import strategies as st

from sessionring import token

CANONICAL = re.compile(r"[A-Za-z0-9_-]{26}[AEIMQUYcgkosw048]\Z")


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(min_size=16, max_size=16))
def test_encode_is_base64url_of_header_and_secret(lo, hi, secret):
    raw = lo.to_bytes(2, "little") + hi.to_bytes(2, "little") + secret
    t = token.encode(lo, hi, secret)
    assert t == base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    out = bytearray(20)
    assert token.decode(t, out)
    assert bytes(out) == raw


@given(st.text(min_size=0, max_size=40))
def test_well_formed_agrees_with_reference(s):
    assert token.well_formed(s) == bool(CANONICAL.match(s))


@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        min_size=27,
        max_size=27,
    )
)
def test_well_formed_on_alphabet_strings(s):
    assert token.well_formed(s) == bool(CANONICAL.match(s))
    if token.well_formed(s):
        out = bytearray(20)
        assert token.decode(s, out)
        assert bytes(out) == base64.urlsafe_b64decode(s + "=")
