# Session tokens: 27 URL-safe characters = base64url (no padding) of 20 raw bytes:
#   4-byte header (slot index and slot generation, each 16 bits, XOR-masked per ring so the
#   token carries no readable meaning) + 16-byte secret from os.urandom (128 bits).
# The header lets the ring find the slot in O(1); the secret is what proves the session.
# Checking a token allocates nothing and never raises on bad input.
# This module also has the library's one base64url (b64url; b64_into decodes) and its one
# constant-time compare (equal, and same() for two whole byte strings).
import binascii
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


try:
    from ._viper import b64_into, decode_into, equal, xor_into
except Exception:  # noqa: BLE001 - no native emitter in this build (or CPython)
    # ring.py calls token.equal; fernet.py b64_into and xor_into (with this module's _DECODE)
    from ._plain import b64_into, decode_into, equal, xor_into  # noqa: F401


def decode(tok, out):
    # True when tok is a well-formed token (type, length, alphabet, canonical); its 20 raw
    # bytes are then in out (a bytearray of RAW_BYTES). Never raises, allocates nothing.
    if not isinstance(tok, _TYPES) or len(tok) != TOKEN_LEN:
        return False
    return bool(decode_into(tok, out, _DECODE))


def well_formed(tok):
    return decode(tok, bytearray(RAW_BYTES))


def encode(lo, hi, secret):
    # Token text for header halves lo, hi (16 bits each) and a 16-byte secret.
    raw = bytearray(RAW_BYTES)
    raw[0] = lo & 0xFF
    raw[1] = lo >> 8
    raw[2] = hi & 0xFF
    raw[3] = hi >> 8
    raw[4:] = secret
    return b64url(raw, False)


def b64url(b, pad=True):
    # The base64url text (str) of bytes b, with its "=" padding, or without when pad is False.
    s = binascii.b2a_base64(b)  # (standard alphabet, a newline at the end)
    s = s[: len(s) - 1].replace(b"+", b"-").replace(b"/", b"_")
    return (s if pad else s.rstrip(b"=")).decode()


def same(a, b):
    # Constant-time equality of two whole byte strings (the time depends on the length only).
    return len(a) == len(b) and bool(equal(a, 0, b, 0, len(a)))
