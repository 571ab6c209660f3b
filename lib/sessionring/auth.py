# Login security: PBKDF2-HMAC-SHA256 password hashes, a per-account login throttle, CSRF tokens
# and the Origin/Referer check. Built on hashlib.sha256 and os.urandom only: boards have no
# hmac, secrets or hashlib.pbkdf2_hmac.
import binascii
import hashlib
import os
import time

from micropython import const

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
    # The HMAC key XORed with ipad and opad, each one full block. Computed once per password;
    # sha256 has no copy() on MicroPython, so every round feeds them to a fresh sha256.
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = bytes(key) + bytes(_BLOCK - len(key))
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sha256(key, msg):
    # HMAC-SHA256 (RFC 2104) of msg under key, both bytes-like.
    ipad, opad = _pads(key)
    h = hashlib.sha256(ipad)
    h.update(msg)
    return hashlib.sha256(opad + h.digest()).digest()


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


def _ct_equal(a, b):
    # Constant-time equality of two byte strings (time depends on the length only).
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= a[i] ^ b[i]
    return d == 0


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
    return _ct_equal(pbkdf2_sha256(pw, salt, n, len(want)), want)


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


# -- login throttle ----------------------------------------------------------------------------
class Throttle:
    # Failed logins per account make the next attempt wait: the first `free` failures cost
    # nothing, then each further one doubles the wait (base_s, 2*base_s, 4*base_s, ...) up to
    # max_s. Check wait() BEFORE hashing and answer 429 without hashing while it is > 0; call
    # failed() after a wrong password and succeeded() after a right one (which resets).
    #
    # A fixed table of `slots` accounts; when it is full, the entry of the least recent
    # failure is reused. Feed it only names of accounts that exist (map every unknown name to
    # one shared key), or an attacker cycling through made-up names could push a real
    # account's entry out. An account quiet for FORGET_S after its wait is forgotten.
    #
    # With one shared account ('admin'), anyone who can reach the login form can make its
    # owner wait too: that is the price of throttling by account, and why the wait is capped
    # at max_s (5 minutes by default) rather than locking the account.
    FORGET_S = 3600

    def __init__(self, clock=time, free=3, base_s=1, max_s=300, slots=8):
        if free < 0 or base_s < 1 or max_s < base_s or slots < 1:
            raise ValueError("need free >= 0, 1 <= base_s <= max_s, slots >= 1")
        self._clock = clock
        self.free = free
        self.base_s = base_s
        self.max_s = max_s
        self._names = [None] * slots
        self._fails = [0] * slots
        self._last = [0] * slots  # ticks_ms of the latest failure

    def _delay_s(self, fails):
        k = fails - self.free - 1
        if k < 0:
            return 0
        if k >= 24:
            return self.max_s
        return min(self.max_s, self.base_s << k)

    def _since(self, i, now):
        # ms since entry i last failed; -1 when that is too long ago to measure (over half the
        # ticks period) or the entry has been quiet long enough to forget.
        d = self._clock.ticks_diff(now, self._last[i])
        if d < 0 or d >= (self._delay_s(self._fails[i]) + self.FORGET_S) * 1000:
            return -1
        return d

    def _find(self, account):
        names = self._names
        for i in range(len(names)):
            if names[i] is not None and names[i] == account:
                return i
        return -1

    def _drop(self, i):
        self._names[i] = None
        self._fails[i] = 0

    def wait(self, account):
        # Seconds (rounded up) before account may try again; 0: it may try now.
        i = self._find(account)
        if i < 0:
            return 0
        d = self._since(i, self._clock.ticks_ms())
        if d < 0:
            self._drop(i)
            return 0
        rem = self._delay_s(self._fails[i]) * 1000 - d
        return (rem + 999) // 1000 if rem > 0 else 0

    def failed(self, account):
        # Count a failed login for account. Returns the wait it now has, in seconds.
        now = self._clock.ticks_ms()
        i = self._find(account)
        if i >= 0 and self._since(i, now) < 0:
            self._fails[i] = 0
        if i < 0:
            i = self._slot(now)
            self._names[i] = account
            self._fails[i] = 0
        if self._fails[i] < self.free + 32:
            self._fails[i] += 1
        self._last[i] = now
        return self._delay_s(self._fails[i])

    def succeeded(self, account):
        i = self._find(account)
        if i >= 0:
            self._drop(i)

    def _slot(self, now):
        # A free or forgettable entry, else the one whose latest failure is the oldest.
        best = 0
        best_age = -1
        for i in range(len(self._names)):
            if self._names[i] is None:
                return i
            d = self._since(i, now)
            if d < 0:
                return i
            if d > best_age:
                best = i
                best_age = d
        return best

    def __len__(self):
        # Accounts in the table.
        return len(self._names) - self._names.count(None)


# -- CSRF and origin ---------------------------------------------------------------------------
def new_csrf():
    # A synchronizer token for forms: 192 bits from os.urandom as 32 URL-safe characters.
    s = binascii.b2a_base64(os.urandom(_CSRF_BYTES)).decode().rstrip("\n")
    return s.replace("+", "-").replace("/", "_")


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
    return _ct_equal(a, b)


def _host_ok(host):
    # A Host value that can be part of an origin: printable ASCII, no path, user or query.
    if not isinstance(host, str) or not host:
        return False
    for c in host:
        if not "!" <= c <= "~" or c in "/\\@?#":
            return False
    return True


def same_origin(headers, host, scheme="http"):
    # True when the request comes from a page of this very origin, scheme://host (host with
    # its port when the Host header has one). headers: lower-case names -> str.
    # Origin, when present, must equal it exactly ("null" never does). Without Origin, the
    # Referer must be the origin itself or start with it followed by "/". Neither -> False.
    if scheme != "http" and scheme != "https":
        return False
    if not _host_ok(host):
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
