# Session tokens: 27 URL-safe characters = base64url (no padding) of 20 bytes:
#   4-byte header (slot index and slot generation, each 16 bits, XOR-masked per ring so the
#   token carries no readable meaning) + 16-byte secret from os.urandom (128 bits).
# The header lets the ring find the slot in O(1); the secret is what proves the session.
# Checking a token allocates nothing and never raises on bad input.
import os

from micropython import const

SECRET_BYTES = const(16)
RAW_BYTES = const(20)  # header + secret
TOKEN_LEN = const(27)  # ceil(20 * 8 / 6)
_INVALID = const(255)
_TYPES = (str, bytes, bytearray, memoryview)

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# ASCII code -> 6-bit value, _INVALID for anything outside the alphabet.
_DECODE = bytearray(128)
for _i in range(128):
    _DECODE[_i] = _INVALID
for _i in range(64):
    _DECODE[_ALPHABET[_i]] = _i
_DECODE = bytes(_DECODE)


def new_secret():
    return os.urandom(SECRET_BYTES)


def _code(tok, i):
    # 6-bit value of character i of a str, bytes, bytearray or memoryview; _INVALID if bad.
    c = tok[i]
    if isinstance(c, str):
        c = ord(c)
    if c >= 128:
        return _INVALID
    return _DECODE[c]


def well_formed(tok):
    # True when tok is exactly a canonical token: right type, length and alphabet, and the
    # last character's unused low bits zero (so one token has exactly one spelling).
    if not isinstance(tok, _TYPES):
        return False
    if len(tok) != TOKEN_LEN:
        return False
    for i in range(TOKEN_LEN):
        if _code(tok, i) == _INVALID:
            return False
    # 27 chars carry 162 bits for 160: the last char holds 4 data bits and 2 zero bits
    return _code(tok, TOKEN_LEN - 1) & 0x03 == 0


def header(tok, half):
    # Half 0 or 1 of the 32-bit header of a well-formed token, as a 16-bit int (two calls
    # rather than a tuple, so that nothing is allocated). Bytes 0..3 come from chars 0..5.
    if half == 0:
        a = _code(tok, 0)
        b = _code(tok, 1)
        c = _code(tok, 2)
        return ((a << 2) | (b >> 4)) | ((((b & 0x0F) << 4) | (c >> 2)) << 8)
    c = _code(tok, 2)
    d = _code(tok, 3)
    e = _code(tok, 4)
    f = _code(tok, 5)
    return (((c & 0x03) << 6) | d) | (((e << 2) | (f >> 4)) << 8)


def secret_matches(tok, buf, off):
    # Constant-time compare of the token's secret (raw bytes 4..19) with buf[off:off+16].
    # Walks every character whatever the result; allocates nothing.
    diff = 0
    acc = 0
    nbits = 0
    k = -4  # raw byte index relative to the secret; the first 4 bytes are the header
    for i in range(TOKEN_LEN):
        acc = ((acc << 6) | _code(tok, i)) & 0x3FFF
        nbits += 6
        if nbits >= 8:
            nbits -= 8
            if 0 <= k < SECRET_BYTES:
                diff |= ((acc >> nbits) & 0xFF) ^ buf[off + k]
            k += 1
    return diff == 0


def encode(lo, hi, secret):
    # Token text for header halves lo, hi (16 bits each) and a 16-byte secret.
    raw = bytearray(RAW_BYTES)
    raw[0] = lo & 0xFF
    raw[1] = lo >> 8
    raw[2] = hi & 0xFF
    raw[3] = hi >> 8
    raw[4:] = secret
    out = bytearray(TOKEN_LEN)
    acc = 0
    nbits = 0
    j = 0
    for x in raw:
        acc = ((acc << 8) | x) & 0xFFFF
        nbits += 8
        while nbits >= 6:
            nbits -= 6
            out[j] = _ALPHABET[(acc >> nbits) & 0x3F]
            j += 1
    out[j] = _ALPHABET[(acc << (6 - nbits)) & 0x3F]
    return out.decode()
