# Fernet tokens (the published spec): version 0x80, 64-bit big-endian Unix timestamp, 16-byte
# IV from os.urandom, AES-128-CBC with PKCS7 padding, HMAC-SHA256 over all of that, base64url
# with padding. A 32-byte key: the first half signs, the second encrypts. The sealed session
# store (sealed.py) puts its cookies in these; this module knows nothing of sessions.
import os

from micropython import const

from . import token as _tok
from .auth import hmac_pads, hmac_sha256, hmac_with

try:
    import cryptolib
except ImportError:  # a port built without it: seal() and unseal() cannot work here
    cryptolib = None

_VERSION = const(0x80)
SKEW = const(60)  # seconds a timestamp may lie in the future (Fernet's allowance)
_MIN_RAW = const(73)  # version 1 + time 8 + IV 16 + one block 16 + MAC 32
MAX_TOKEN = const(4096)
_TEXT = (str, bytes, bytearray, memoryview)


# -- base64url, canonical only ----------------------------------------------------------------
b64u_encode = _tok.b64url  # (with padding, as Fernet has it)


def b64u_decode(s):
    # Bytes of canonical base64url text with padding, else None: one spelling per byte string
    # (no junk characters skipped, no stray bits in the last character; token.b64_into).
    if not isinstance(s, _TEXT):
        raise TypeError("base64url text is str or bytes")
    n = len(s)
    if n == 0 or n % 4:
        return None
    raw = bytearray(n // 4 * 3)
    m = _tok.b64_into(s, n, raw, _tok._DECODE)
    return None if m < 0 else bytes(raw[:m])


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


def _stamp(raw, base):
    # The token's 64-bit timestamp minus base, computed in 16-bit halves: on a 32-bit board
    # today's Unix time is past the small-int range and every sum with it would allocate.
    # None past 2**32 (the year 2106).
    if raw[1] | raw[2] | raw[3] | raw[4]:
        return None
    hi = (raw[5] << 8 | raw[6]) - (base >> 16)
    return hi * 65536 + (raw[7] << 8 | raw[8]) - (base & 0xFFFF)


class Opener:
    # Opens Fernet tokens under a fixed key ring with state made once: per key the HMAC pads
    # and an AES-ECB decryptor (the CBC chaining is done here), one buffer for the decoded
    # token. Opening a token that fits the buffer allocates only the two hash objects of the
    # MAC, their digests and two memoryview slices. Times are Unix seconds minus base (so a
    # caller can keep them small ints). Not re-entrant: one open() at a time (it never awaits).
    # (open() is split into steps of few locals each: on MicroPython a call whose locals and
    # stack need more than 11 words puts its frame on the heap, on every request.)
    def __init__(self, keys, raw_bytes=256, base=0):
        self.keys = keys
        self._pads = [hmac_pads(k[:16]) for k in keys]
        self._ecb = [cryptolib.aes(k[16:], 1) for k in keys]
        self._raw = bytearray(raw_bytes)
        self._mv = memoryview(self._raw)
        self._base = base
        self._cur = self._mv  # the decoded token being opened (self._raw, or a bigger one)
        self._end = 0  # where its MAC starts
        self.kidx = 0  # open(): the index of the key that opened the token
        self.ts = 0  # open(): its timestamp (minus base)
        self.out = None  # open(): where the plaintext was decrypted (out, or a bigger buffer)

    def open(self, tok, now, ttl, out, skew=SKEW):
        # The plaintext length (in self.out), or -1 for anything that is not a valid token
        # under one of the keys at time now: junk, forged, truncated, older than ttl seconds
        # (0: no limit), more than skew seconds ahead. The MAC is checked, in constant time,
        # before anything is decrypted. Never raises on bad input.
        if self._decode(tok) < 0 or self._mac() < 0:
            return -1
        ts = _stamp(self._cur, self._base)
        if ts is None or ts > now + skew or (ttl and ts + ttl < now):
            return -1
        self.ts = ts
        return self._decrypt(out)

    def _decode(self, tok):
        # The token's bytes into self._cur (a memoryview); where its MAC starts, or -1.
        if not isinstance(tok, _TEXT):
            return -1
        n = len(tok)
        if not 0 < n <= MAX_TOKEN or n % 4:
            return -1
        raw = self._mv
        if n // 4 * 3 > len(raw):
            raw = memoryview(bytearray(n // 4 * 3))  # a larger token than the buffer: this once
        self._cur = raw
        n = _tok.b64_into(tok, n, raw, _tok._DECODE)
        if n < _MIN_RAW or (n - 57) % 16 or raw[0] != _VERSION:
            return -1
        self._end = n - 32
        return n - 32

    def _mac(self):
        # The index of the key whose MAC the token carries (also in self.kidx), or -1.
        signed = self._cur[: self._end]
        for i in range(len(self._pads)):
            if self._mac_is(i, signed):
                self.kidx = i
                return i
        return -1

    def _mac_is(self, i, signed):
        return _tok.equal(hmac_with(self._pads[i], signed), 0, self._cur, self._end, 32)

    def _decrypt(self, out):
        # The ciphertext decrypted with the key of self.kidx into out (or a bigger buffer: then
        # self.out); the plaintext length, or -1 for bad padding.
        n = self._end - 25  # ciphertext bytes
        if out is None or len(out) < n:
            out = bytearray(n)
        self.out = out
        self._ecb[self.kidx].decrypt(self._cur[25 : self._end], out)
        _tok.xor_into(out, 0, self._cur, 9, n)  # CBC: each block XOR the one before (the IV)
        return _unpad(out, n)


def _unpad(out, n):
    # The length of out[:n] without its PKCS7 padding, or -1 when the padding is bad (every
    # padding byte is looked at: no early exit).
    p = out[n - 1]
    if not 1 <= p <= 16:
        return -1
    d = 0
    for i in range(n - p, n):
        d |= out[i] ^ p
    return -1 if d else n - p


def unseal(keys, tok, now, ttl=0, skew=SKEW):
    # (plaintext, index of the key that opened it, timestamp), or None for anything that is
    # not a valid token under one of keys at Unix time now: junk, forged, truncated, too
    # old (ttl seconds, 0: no limit) or too far ahead. The MAC is checked, in constant time,
    # before anything is decrypted. Never raises on bad input. (Opener, made for this call:
    # a store keeps one.)
    if not isinstance(tok, _TEXT) or not 0 < len(tok) <= MAX_TOKEN:
        return None
    o = Opener(keys, len(tok) // 4 * 3)
    n = o.open(tok, now, ttl, None, skew)
    if n < 0:
        return None
    return bytes(o.out[:n]), o.kidx, o.ts
