"""The sealed store's cookies are Fernet tokens: cryptography.fernet opens ours and we open its
(host only: the cryptography package), with the same timestamp, TTL and clock-skew rules."""

import base64
import os
import subprocess

import pytest
from _wall import Wall
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import interpreter_command
from sessionring import fernet
from sessionring.sealed import SealedStore

T0 = 1800000000


def _pair():
    text = Fernet.generate_key()
    return text, Fernet(text), fernet.key(text.decode())


@given(st.binary(max_size=600), st.integers(T0 - 10**6, T0 + 10**6))
@settings(max_examples=60, deadline=None)
def test_we_open_what_fernet_seals(data, ts):
    text, f, key = _pair()
    tok = f.encrypt_at_time(data, ts)
    got = fernet.unseal([key], tok.decode(), ts + 5, 60)
    assert got == (data, 0, ts)
    assert fernet.unseal([key], tok, ts + 5, 60)[0] == data  # bytes too


@given(st.binary(max_size=600), st.integers(T0 - 10**6, T0 + 10**6))
@settings(max_examples=60, deadline=None)
def test_fernet_opens_what_we_seal(data, ts):
    text, f, key = _pair()
    tok = fernet.seal(key, data, ts)
    assert f.decrypt_at_time(tok.encode(), 60, ts + 5) == data
    assert f.extract_timestamp(tok.encode()) == ts


@given(st.integers(-200, 200), st.sampled_from([0, 1, 30, 60, 900]))
@settings(max_examples=200, deadline=None)
def test_timestamp_rules_match_fernet(delta, ttl):
    # A token sealed at T0, read at T0 + delta: accepted by us exactly when Fernet accepts it.
    text, f, key = _pair()
    tok = f.encrypt_at_time(b"x", T0)
    try:
        if ttl:
            f.decrypt_at_time(tok, ttl, T0 + delta)
        else:
            # no TTL: only the clock-skew rule (Fernet has no decrypt_at_time without a TTL)
            if T0 > T0 + delta + 60:
                raise InvalidToken
        theirs = True
    except InvalidToken:
        theirs = False
    assert (fernet.unseal([key], tok, T0 + delta, ttl) is not None) == theirs


def test_store_cookie_is_a_fernet_token_of_the_documented_plaintext():
    text, f, key = _pair()
    store = SealedStore(keys=[text.decode()], clock=Wall())
    s = store.create("admin", 2)
    s["lang"] = "en"
    tok = store.pending(s)
    p = f.decrypt_at_time(tok.encode(), 900, T0)
    assert p[:2] == b"\x01\x00"  # plaintext version 1, not compressed
    assert p[2:10].hex() == s.handle
    assert int.from_bytes(p[10:14], "big") == 0  # generation
    assert int.from_bytes(p[14:18], "big") == T0  # created
    assert int.from_bytes(p[18:22], "big") == T0 + store.absolute_s  # expiry
    assert p[22] == 2 and p[23:31] == b"\x07session" and p[31:37] == b"\x05admin"
    assert p[37:] == b"\x04langs\x02en"  # the ring's data encoding
    # and a cookie made by Fernet with that plaintext opens in the store
    p2 = os.urandom(8) + p[10:]
    tok2 = f.encrypt_at_time(b"\x01\x00" + p2, T0)
    assert store.get(tok2.decode())["lang"] == "en"


def test_multifernet_rotation_and_our_key_ring_agree():
    old_text, old_f, old_key = _pair()
    new_text, new_f, new_key = _pair()
    store = SealedStore(keys=[new_key, old_key], clock=Wall())
    tok = SealedStore(keys=[old_key], clock=Wall()).create("u").token
    v = store.get(tok)
    assert store.touch(v)
    ours = store.pending(v)  # re-sealed under the first key, as MultiFernet.rotate does
    assert ours is not None
    new_f.decrypt_at_time(ours.encode(), 900, T0)
    with pytest.raises(InvalidToken):
        old_f.decrypt_at_time(ours.encode(), 900, T0)
    theirs = MultiFernet([new_f, old_f]).rotate(tok.encode())
    assert SealedStore(keys=[new_key], clock=Wall()).get(theirs.decode()).user == "u"


def test_key_text_is_fernet_key_format():
    text = Fernet.generate_key()
    assert fernet.key(text) == base64.urlsafe_b64decode(text)
    assert fernet.b64u_encode(fernet.key(text.decode())).encode() == text


def test_micropython_seals_and_opens_fernet_tokens(tmp_path):
    # The unix port's own cryptolib and hashlib, not the shim: both ways with cryptography.
    text, f, key = _pair()
    theirs = f.encrypt_at_time(b"from cryptography", T0).decode()
    script = tmp_path / "mp_fernet.py"
    script.write_text(
        "from sessionring import fernet\n"
        "k = fernet.key(%r)\n"
        "print(fernet.seal(k, b'from micropython', %d))\n"
        "print(fernet.unseal([k], %r, %d, 60)[0].decode())\n" % (text.decode(), T0, theirs, T0)
    )
    argv, env = interpreter_command("micropython", script)
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    ours, opened = out.stdout.strip().split("\n")
    assert f.decrypt_at_time(ours.encode(), 60, T0) == b"from micropython"
    assert opened == "from cryptography"
