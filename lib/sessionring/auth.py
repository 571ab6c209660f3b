# Login security: PBKDF2-HMAC-SHA256 password hashes, a login throttle (per client and per
# account, with device cookies), CSRF tokens and the Origin/Referer check. Built on
# hashlib.sha256 and os.urandom only: boards have no hmac, secrets or hashlib.pbkdf2_hmac.
import binascii
import hashlib
import os
import time

from micropython import const

from . import token as _tok
from .host import host_ok

_BLOCK = const(64)  # SHA-256 block size
_DIGEST = const(32)
_SALT_BYTES = const(16)
_CSRF_BYTES = const(24)  # 192 bits -> 32 URL-safe characters, no padding
_MAX_ITERATIONS = const(10000000)
_MAX_SECRET = const(64)  # longest salt or stored hash accepted by verify_password
_MIN_HASH = const(16)
_PROBE_MS = const(100)  # iterations_for: time at least this long before scaling

SCHEME = "pbkdf2-sha256"
_TEXT = (str, bytes, bytearray)
_BYTES = (bytes, bytearray, memoryview)


# -- HMAC and PBKDF2 ---------------------------------------------------------------------------
def _pads(key):
    # The HMAC key XORed with ipad and opad, each one full block. Computed once per password
    # (or per key: hmac_pads); sha256 has no copy() on MicroPython, so every MAC feeds them to
    # a fresh sha256.
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    i = bytearray(_BLOCK)
    o = bytearray(_BLOCK)
    for n in range(len(key)):
        i[n] = key[n]
        o[n] = key[n]
    for n in range(_BLOCK):
        i[n] ^= 0x36
        o[n] ^= 0x5C
    return bytes(i), bytes(o)


hmac_pads = _pads  # (ipad, opad) of a key, for hmac_with: keep them when the key is reused


def hmac_with(pads, msg):
    # HMAC-SHA256 of msg under the key whose hmac_pads() are pads: two hash objects and two
    # digests, nothing else allocated.
    h = hashlib.sha256(pads[0])
    h.update(msg)
    d = h.digest()
    h = hashlib.sha256(pads[1])
    h.update(d)
    return h.digest()


def hmac_sha256(key, msg):
    # HMAC-SHA256 (RFC 2104) of msg under key, both bytes-like.
    return hmac_with(_pads(key), msg)


def pbkdf2_sha256(password, salt, iterations, dklen=32):
    # PBKDF2 (RFC 8018) with HMAC-SHA256: dklen bytes derived from password and salt (bytes).
    # Each iteration costs four SHA-256 compressions here (two with a midstate copy).
    if not isinstance(password, _BYTES) or not isinstance(salt, _BYTES):
        raise TypeError("password and salt must be bytes")
    if type(iterations) is not int or iterations < 1:
        raise ValueError("iterations must be an int >= 1")
    if type(dklen) is not int or not 1 <= dklen <= 1024:
        raise ValueError("dklen must be 1..1024")
    sha = hashlib.sha256
    ipad, opad = _pads(password)
    out = bytearray()
    i = 1
    while len(out) < dklen:
        h = sha(ipad)
        h.update(salt)
        h.update(i.to_bytes(4, "big"))
        u = sha(opad + h.digest()).digest()
        # XOR the 32-byte blocks as one big integer: far faster than a byte loop in Python
        t = int.from_bytes(u, "big")
        for _ in range(iterations - 1):
            u = sha(opad + sha(ipad + u).digest()).digest()
            t ^= int.from_bytes(u, "big")
        out += t.to_bytes(_DIGEST, "big")
        i += 1
    return bytes(out[:dklen])


# -- password hashes ---------------------------------------------------------------------------
def _b64(b):
    return binascii.b2a_base64(b).decode().rstrip("\n")


def _unb64(s):
    # Bytes of canonical standard base64 text, else None (MicroPython's decoder skips junk, so
    # the result is encoded again and must give back the same text).
    try:
        b = binascii.a2b_base64(s)
    except ValueError:
        return None
    if _b64(b) != s:
        return None
    return b


def _utf8(password):
    # Passwords are compared as their UTF-8 bytes (no Unicode normalisation on a board).
    if isinstance(password, str):
        return password.encode()
    if isinstance(password, _BYTES):
        return bytes(password)
    return None


def hash_password(password, iterations, salt=None):
    # "pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>": everything verify needs.
    pw = _utf8(password)
    if pw is None:
        raise TypeError("password must be str")
    if type(iterations) is not int or not 1 <= iterations <= _MAX_ITERATIONS:
        raise ValueError("iterations must be 1..%d" % _MAX_ITERATIONS)
    if salt is None:
        salt = os.urandom(_SALT_BYTES)
    if not isinstance(salt, _BYTES) or not 1 <= len(salt) <= _MAX_SECRET:
        raise ValueError("salt must be 1..%d bytes" % _MAX_SECRET)
    dk = pbkdf2_sha256(pw, salt, iterations)
    return "%s$%d$%s$%s" % (SCHEME, iterations, _b64(salt), _b64(dk))


def verify_password(password, stored):
    # True when password matches the stored hash. False for a wrong password, a wrong type
    # or a malformed stored string; never raises for those.
    pw = _utf8(password)
    if pw is None or not isinstance(stored, str):
        return False
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        return False
    it = parts[1]
    if not 1 <= len(it) <= 8 or it[0] == "0":
        return False
    n = 0
    for c in it:  # ASCII digits only: int() would also take " 12", "+12", "1_2" or "١٢"
        if not "0" <= c <= "9":
            return False
        n = n * 10 + ord(c) - 48
    if n > _MAX_ITERATIONS:
        return False
    salt = _unb64(parts[2])
    want = _unb64(parts[3])
    if salt is None or want is None:
        return False
    if not 1 <= len(salt) <= _MAX_SECRET or not _MIN_HASH <= len(want) <= _MAX_SECRET:
        return False
    return _tok.same(pbkdf2_sha256(pw, salt, n, len(want)), want)


def iterations_for(ms_budget, measure=None, start=1000, floor=1000):
    # An iteration count that takes about ms_budget ms here. measure(n) returns the ms that
    # n iterations take (default: time pbkdf2_sha256 with ticks_ms). The probe doubles until
    # it lasts _PROBE_MS, then scales; the result is rounded down to a multiple of 100.
    if measure is None:
        measure = _measure
    n = max(1, start)
    ms = measure(n)
    for _ in range(30):
        if ms >= _PROBE_MS:
            break
        n *= 2
        ms = measure(n)
    it = n * ms_budget // max(1, ms)
    it -= it % 100
    return max(floor, min(it, _MAX_ITERATIONS))


def _measure(n):
    t0 = time.ticks_ms()
    pbkdf2_sha256(b"probe", b"0123456789abcdef", n)
    return time.ticks_diff(time.ticks_ms(), t0)


def new_csrf():
    # A synchronizer token for forms: 192 bits from os.urandom as 32 URL-safe characters.
    return _tok.b64url(os.urandom(_CSRF_BYTES), False)


def csrf_equal(a, b):
    # Constant-time comparison of a submitted CSRF token with the expected one. False for
    # None, other types, different lengths or empty tokens.
    if not isinstance(a, _TEXT) or not isinstance(b, _TEXT):
        return False
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    if not a or len(a) != len(b):
        return False
    return _tok.same(a, b)


def same_origin(headers, host, scheme="http"):
    # True when the request comes from a page of this very origin, scheme://host (host with
    # its port when the Host header has one). headers: lower-case names -> str.
    # Origin, when present, must equal it exactly ("null" never does). Without Origin, the
    # Referer must be the origin itself or start with it followed by "/". Neither -> False.
    # host must pass the server's Host rule (host.host_ok: an IP literal or a DNS name, and a
    # valid port), names not limited to an allow-list (that is the server's own check).
    if scheme != "http" and scheme != "https" or not isinstance(host, str):
        return False
    hb = host.encode()
    if not host_ok(hb, 0, len(hb)):
        return False
    try:
        origin = headers.get("origin")
        referer = headers.get("referer")
    except AttributeError:
        return False
    base = scheme + "://" + host
    if origin is not None:
        return isinstance(origin, str) and origin == base
    if not isinstance(referer, str):
        return False
    return referer == base or (
        referer.startswith(base) and referer[len(base) : len(base) + 1] == "/"
    )
