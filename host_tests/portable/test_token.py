# Tokens: format, uniqueness, and rejection of every malformed kind before any lookup.
from array import array

from _support import no_alloc
from sessionring import _plain, token
from sessionring.ring import SessionRing
from sessionring.session import ROLE_ANON

# Host-scale: not collected on the qemu legs (host_tests/harness.py).
HOST_ONLY = ("test_tokens_unique_over_100k_mints",)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_token_shape():
    ring = SessionRing(slots=4)
    t = ring.create("admin").token
    assert isinstance(t, str)
    assert len(t) == token.TOKEN_LEN == 27
    for c in t:
        assert c in ALPHABET
    assert token.well_formed(t)
    # 16 secret bytes = 128 bits of os.urandom, plus the 4-byte slot header
    assert token.SECRET_BYTES * 8 >= 128


def test_encode_round_trip():
    secret = bytes(range(16))
    t = token.encode(0x1234, 0xBEEF, secret)
    raw = bytearray(token.RAW_BYTES)
    assert token.decode(t, raw)
    assert raw[0] | raw[1] << 8 == 0x1234
    assert raw[2] | raw[3] << 8 == 0xBEEF
    assert bytes(raw[4:]) == secret
    assert token.equal(raw, 4, secret, 0, 16)
    other = bytearray(secret)
    other[15] ^= 1
    assert not token.equal(raw, 4, other, 0, 16)


def test_fast_and_plain_decoders_agree():
    # Where viper is available token.decode_into is the viper one (test_native_paths.py); the
    # pure-Python twin (boards without a native emitter) must give the same answers.
    ring = SessionRing(slots=4)
    good = [ring.create("a").token for _ in range(3)]
    cases = good + [g.encode() for g in good] + _malformed(good[0])
    for tok in cases:
        if not isinstance(tok, (str, bytes)) or len(tok) != token.TOKEN_LEN:
            continue
        a = bytearray(token.RAW_BYTES)
        b = bytearray(token.RAW_BYTES)
        ok_fast = bool(token.decode_into(tok, a, token._DECODE))
        ok_py = bool(_plain.decode_into(tok, b, token._DECODE))
        assert ok_fast == ok_py, repr(tok)
        if ok_fast:
            assert a == b
            assert token.equal(a, 0, b, 0, 20) and _plain.equal(a, 0, b, 0, 20)


def test_tokens_unique_over_100k_mints():
    # Mint through a small ring so that slots are reused over and over: every token is new,
    # and no earlier token ever matches its reused slot again.
    ring = SessionRing(slots=4, data_bytes=0, per_user=0)
    # 60 bits of each secret, as two 30-bit halves (small ints on a 32-bit board too), in an
    # open-addressing table of two arrays allocated once: no object per token (100k 60-bit
    # ints are heap objects on 32-bit, and a growing set or dict needs ever larger blocks of
    # a fragmented heap).
    n, size = 100000, 1 << 18
    keys, vals = array("i", bytes(4 * size)), array("i", bytes(4 * size))
    old = []
    for i in range(n):
        t = ring.create("u", ROLE_ANON).token
        lo, hi = _secret_bits(t, 6) + 1, _secret_bits(t, 11)  # keys: 0 is a free entry
        j = lo & (size - 1)
        while keys[j]:
            assert not (keys[j] == lo and vals[j] == hi), "token %d repeats a secret" % i
            j = (j + 1) & (size - 1)
        keys[j], vals[j] = lo, hi
        if i % 5000 == 0:
            old.append(t)
    assert sum(1 for k in keys if k) == n
    for t in old:
        assert ring.get(t) is None


def _secret_bits(t, at):
    # 30 bits of the token's secret (5 characters from `at`) as a small int on any port.
    v = 0
    for c in t[at : at + 5]:
        v = (v << 6) | ALPHABET.index(c)
    return v


def _malformed(valid):
    return [
        "",
        valid[:-1],
        valid + "A",
        valid[:10],
        valid * 2,
        valid[:-2] + "+" + valid[-1],
        valid[:-2] + "/" + valid[-1],
        valid[:-2] + "=" + valid[-1],
        valid[:-2] + " " + valid[-1],
        valid[:-2] + "." + valid[-1],
        valid[:-2] + "\x00" + valid[-1],
        valid[:-2] + "\u00e9" + valid[-1],  # non-ASCII, same length in characters
        "\u00e9" * 27,
        valid[:-1] + "B",  # last char has its 2 unused bits set: not canonical
        valid.encode()[:-1] + b"\xff",
        bytes(27),
        b"\xff" * 27,
        None,
        12345,
        3.5,
        ["x"] * 27,
    ]


def test_malformed_tokens_rejected():
    ring = SessionRing(slots=4)
    valid = ring.create("admin").token
    # the canonical last character of this token has its two low bits zero
    assert ALPHABET.index(valid[-1]) & 3 == 0
    visits = ring.visits
    for bad in _malformed(valid):
        assert not token.well_formed(bad), repr(bad)
        assert ring.get(bad) is None, repr(bad)
        assert ring.touch(bad) is False
        assert ring.revoke(bad) is False
    # rejected before any lookup: no slot was visited
    assert ring.visits == visits
    assert ring.get(valid) is not None


def test_malformed_rejection_allocates_nothing():
    ring = SessionRing(slots=4)
    valid = ring.create("admin").token
    for bad in _malformed(valid):
        if isinstance(bad, str) and len(bad) == 27 and max(ord(c) for c in bad) > 127:
            continue  # indexing a non-ASCII str may make a new char object on MicroPython
        assert no_alloc(ring.get, bad) is None


def test_forged_secret_and_header():
    ring = SessionRing(slots=8)
    real = ring.create("admin").token
    # flip each character to another letter in turn: none of them may match
    for i in range(len(real)):
        for repl in ("A", "w"):
            if real[i] == repl or (i == len(real) - 1):
                continue
            forged = real[:i] + repl + real[i + 1 :]
            assert ring.get(forged) is None, i
    assert ring.get(real) is not None
