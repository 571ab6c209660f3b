# Fernet tokens (the published spec): version 0x80, 64-bit big-endian Unix timestamp, 16-byte
# IV from os.urandom, AES-128-CBC with PKCS7 padding, HMAC-SHA256 over all of that, base64url
# with padding. A 32-byte key: the first half signs, the second encrypts. The sealed session
# store (sealed.py) puts its cookies in these; this module knows nothing of sessions.
import binascii
import os

from micropython import const

from . import token as _tok
from .auth import hmac_sha256

try:
    import cryptolib
except ImportError:  # a port built without it: seal() and unseal() cannot work here
    cryptolib = None

_VERSION = const(0x80)
SKEW = const(60)  # seconds a timestamp may lie in the future (Fernet's allowance)
_MIN_RAW = const(73)  # version 1 + time 8 + IV 16 + one block 16 + MAC 32
MAX_TOKEN = const(4096)
_ALPHA = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TEXT = (str, bytes, bytearray, memoryview)

# base64url character -> 1 when allowed
_OK = bytearray(128)
for _c in _ALPHA:
    _OK[_c] = 1


# -- base64url, canonical only ----------------------------------------------------------------
def b64u_encode(b):
    s = binascii.b2a_base64(b)
    return s[: len(s) - 1].replace(b"+", b"-").replace(b"/", b"_").decode()


def b64u_decode(s):
    # Bytes of canonical base64url text with padding, else None. MicroPython's a2b_base64
    # skips characters outside the alphabet, so the result must encode back to the same text
    # (that also refuses stray bits in the last character); the character scan before it
    # refuses junk sooner and turns the text into standard base64 in place (one copy).
    n = len(s)
    if n == 0 or n % 4:
        return None
    std = bytearray(s, "utf-8") if isinstance(s, str) else bytearray(s)
    if len(std) != n:
        return None  # not ASCII
    pad = 2 if std[n - 2] == 0x3D else 1 if std[n - 1] == 0x3D else 0
    if pad == 2 and std[n - 1] != 0x3D:
        return None
    for i in range(n - pad):
        c = std[i]
        if c >= 128 or not _OK[c]:
            return None
        if c == 0x2D:  # - is + in standard base64
            std[i] = 0x2B
        elif c == 0x5F:  # _ is /
            std[i] = 0x2F
    try:
        raw = binascii.a2b_base64(std)
    except ValueError:
        return None
    enc = binascii.b2a_base64(raw)  # the one spelling of raw, with a newline
    if len(enc) != n + 1 or not _tok.equal(enc, 0, std, 0, n):
        return None
    return raw


# -- keys ---------------------------------------------------------------------------------------
def derive_key(master, purpose):
    # The 32-byte Fernet key of one purpose: HMAC-SHA256(master, "sessionring/v1/" + purpose);
    # its first half signs, the second encrypts.
    return hmac_sha256(master, b"sessionring/v1/" + purpose.encode())


def key(k):
    # A Fernet key given as 32 bytes or as its 44-character base64url text.
    if isinstance(k, str) or (isinstance(k, (bytes, bytearray)) and len(k) == 44):
        k = b64u_decode(k)
    if k is None or len(k) != 32:
        raise ValueError("a Fernet key is 32 bytes (or 44 characters of base64url)")
    return bytes(k)


# -- Fernet -------------------------------------------------------------------------------------
def sealed_len(plain_len):
    # Characters of the token for a plaintext of plain_len bytes.
    raw = 57 + (plain_len // 16 + 1) * 16
    return (raw + 2) // 3 * 4


def seal(key, plain, ts, iv=None):
    # Fernet token (str) of plain (bytes) under key (32 bytes) at Unix time ts.
    if iv is None:
        iv = os.urandom(16)
    n = 16 - len(plain) % 16
    body = bytearray(plain)
    for _ in range(n):
        body.append(n)
    msg = bytearray(b"\x80")
    msg.extend(int(ts).to_bytes(8, "big"))
    msg.extend(iv)
    msg.extend(cryptolib.aes(key[16:], 2, iv).encrypt(body))
    msg.extend(hmac_sha256(key[:16], msg))
    return b64u_encode(msg)


def unseal(keys, tok, now, ttl=0, skew=SKEW):
    # (plaintext, index of the key that opened it, timestamp), or None for anything that is
    # not a valid token under one of keys at Unix time now: junk, forged, truncated, too
    # old (ttl seconds, 0: no limit) or too far ahead. The MAC is checked, in constant time,
    # before anything is decrypted. Never raises on bad input.
    if not isinstance(tok, _TEXT) or not 0 < len(tok) <= MAX_TOKEN:
        return None
    try:
        raw = b64u_decode(tok)
    except (TypeError, ValueError, UnicodeError):
        return None
    if raw is None or len(raw) < _MIN_RAW or (len(raw) - 57) % 16 or raw[0] != _VERSION:
        return None
    end = len(raw) - 32
    signed = memoryview(raw)[:end]
    found = -1
    for i in range(len(keys)):
        if _tok.equal(hmac_sha256(keys[i][:16], signed), 0, raw, end, 32):
            found = i
            break
    if found < 0:
        return None
    ts = int.from_bytes(raw[1:9], "big")
    if ts > now + skew or (ttl and ts + ttl < now):
        return None
    body = cryptolib.aes(keys[found][16:], 2, raw[9:25]).decrypt(raw[25:end])
    n = body[-1]
    if not 1 <= n <= 16:
        return None
    d = 0
    for i in range(len(body) - n, len(body)):
        d |= body[i] ^ n
    if d:
        return None
    return body[: len(body) - n], found, ts
