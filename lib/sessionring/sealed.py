# SealedStore: client-side sessions. The session's state travels in the cookie as a Fernet
# token (version 0x80, 64-bit big-endian Unix timestamp, 16-byte IV, AES-128-CBC with PKCS7,
# HMAC-SHA256 over all of that, base64url with padding): encrypted so the browser cannot read
# it, authenticated so it cannot change it. The device keeps no slot per session: only a small
# deny-list (logouts) and one generation number per user (log out everywhere), on flash.
# Same interface as SessionRing (create/get/touch/revoke/revoke_user/rotate/pending/tick).
#
# Plaintext (version 1): [1][flags] then the body, deflated (zlib format) when flags & 1:
#   sid 8 | generation 4 | created 4 | expiry 4 (Unix s, 0: none) | role 1
#   | purpose length 1 + purpose | user length 1 + user | data (ring.encode_items)
import binascii
import json
import os
import time

from micropython import const

from . import flashfile
from . import token as _tok
from .fernet import (
    SKEW,
    b64u_decode,
    b64u_encode,
    cryptolib,  # None on a port built without it
    derive_key,
    seal,
    sealed_len,
    unseal,
)
from .fernet import key as _fernet_key
from .ring import (  # noqa: F401 - the same exceptions as the ring, for apps to import here
    ROLE_USER,
    RingFull,
    SessionDataFull,
    SessionEnded,
    decode_items,
    encode_items,
)

_PLAIN_V = const(1)
_COMPRESSED = const(1)
_SID = const(8)
_FIXED = const(23)  # version, flags, sid, generation, created, expiry, role
_MAX_PLAIN = const(4096)  # inflated plaintext cap (against a compressed bomb)
_ZLIB_WBITS = const(10)  # 1 KB window: a board inflates with no more than that
_KEYS_MAX = const(3)
_MASTER = const(32)
MIN_UNIX = const(1704067200)  # 2024-01-01: a wall clock below this was never set
_DIRTY = const(1)  # view state: data changed since the last seal
_STALE = const(2)  # touch(): past half the idle timeout, or opened with an older key
_UNSENT = const(4)  # create()/rotate(): the token is new


def _be32(b, o):
    # big-endian unsigned 32 bits at b[o], with no slice
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]


class ClockNotSet(RuntimeError):
    # The wall clock reads before 2024 (no NTP, no RTC): a cookie sealed now would be misread
    # by every correctly clocked peer. Use the ring, or set the clock (ntptime) first.
    pass


# -- time -------------------------------------------------------------------------------------
def unix_offset(epoch_year):
    # Seconds from 1970-01-01 to epoch_year-01-01 (ESP32: 2000; unix and RP2 ports: 1970).
    days = 0
    for y in range(1970, epoch_year):
        days += 366 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 365
    return days * 86400


# -- keys -------------------------------------------------------------------------------------
def read_masters(path):
    # The master secrets in a key file (one base64url line each, the first seals), or None
    # when the file is missing. ValueError for a damaged file: never replaced silently, since
    # a fleet shares it.
    raw = flashfile.read(path, 1024)
    if raw is None:
        return None
    out = []
    for line in raw.decode().split("\n"):
        line = line.strip()
        if line:
            m = b64u_decode(line)
            if m is None or len(m) != _MASTER:
                raise ValueError("key file %s is damaged" % path)
            out.append(m)
    if not 1 <= len(out) <= _KEYS_MAX:
        raise ValueError("key file %s holds %d keys (1..%d)" % (path, len(out), _KEYS_MAX))
    return out


def write_masters(path, masters):
    flashfile.write(path, "".join(b64u_encode(m) + "\n" for m in masters[:_KEYS_MAX]))


def load_keys(path, purpose="session"):
    # The key ring of one purpose from the key file at path, made (os.urandom, written
    # atomically) at first use.
    masters = read_masters(path)
    if masters is None:
        masters = [os.urandom(_MASTER)]
        write_masters(path, masters)
    return [derive_key(m, purpose) for m in masters]


def add_master(path):
    # Key rotation: a new first master seals from now on; the older ones still open, and the
    # oldest of three is retired (its cookies are refused from then on).
    masters = read_masters(path) or []
    write_masters(path, [os.urandom(_MASTER)] + masters[: _KEYS_MAX - 1])


# -- compression (optional, feature-detected) -------------------------------------------------
def _module(name, attr):
    # The module if this runtime has it with attr (a feature test, never a platform test).
    try:
        m = __import__(name)
    except ImportError:
        return None
    return m if hasattr(m, attr) else None


def _find_deflater():
    zlib = _module("zlib", "compressobj")  # CPython
    if zlib is not None:

        def z(data):
            c = zlib.compressobj(9, 8, _ZLIB_WBITS)
            return c.compress(data) + c.flush()

        return z
    deflate = _module("deflate", "DeflateIO")
    if deflate is not None and hasattr(deflate.DeflateIO, "write"):  # DEFLATE_COMPRESS builds
        import io

        def d(data):
            out = io.BytesIO()
            f = deflate.DeflateIO(out, deflate.ZLIB, _ZLIB_WBITS)
            f.write(data)
            f.close()
            return out.getvalue()

        return d
    return None


def inflate(data, cap):
    # The zlib stream's contents, or None if it is damaged, asks for a window over 1 KB or
    # inflates to more than cap bytes (read no further than that: no bomb).
    if len(data) < 2 or data[0] & 0x0F != 8 or data[0] >> 4 > _ZLIB_WBITS - 8:
        return None
    try:
        deflate = _module("deflate", "DeflateIO")  # MicroPython
        if deflate is not None:
            import io

            out = deflate.DeflateIO(io.BytesIO(data), deflate.ZLIB).read(cap + 1)
        else:
            z = _module("zlib", "decompressobj").decompressobj()
            out = z.decompress(data, cap + 1)
            if len(out) <= cap and not z.eof:
                return None
    except Exception:  # noqa: BLE001 - a damaged stream: OSError here, zlib.error on CPython
        return None
    if out is None or len(out) > cap:
        return None
    return out


# -- the store --------------------------------------------------------------------------------
class SealedStore:
    COOKIE_MAX = 4096  # browsers drop a cookie whose name and value exceed this

    def __init__(
        self,
        keys=None,
        key_file=None,
        idle_s=900,
        absolute_s=43200,
        purpose="session",
        gen_file=None,
        deny_slots=32,
        compress=False,
        cookie_name="sid",
        clock=time,
    ):
        # keys: 1..3 Fernet keys (32 bytes or base64url text), the first seals; or key_file,
        # the path of a key file of master secrets (load_keys). gen_file: where the users'
        # generations are kept (None: RAM only, lost at reboot). clock: time() and gmtime()
        # as the time module has them.
        if cryptolib is None:
            raise RuntimeError("this MicroPython build has no cryptolib: use the ring")
        if key_file is not None:
            keys = load_keys(key_file, purpose)
        keys = [_fernet_key(k) for k in keys or ()]
        if not 1 <= len(keys) <= _KEYS_MAX:
            raise ValueError("1..%d keys" % _KEYS_MAX)
        self._keys = keys
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self.purpose = purpose
        self._pb = purpose.encode()
        self.cookie_name = cookie_name
        self._clock = clock
        self._offset = unix_offset(clock.gmtime(0)[0])
        self._deflate = _find_deflater() if compress else None
        self.compress = self._deflate is not None  # False when asked but unsupported here
        self._gen_file = gen_file
        self._gens = {}
        if gen_file:
            raw = flashfile.read(gen_file)
            if raw is not None:
                try:
                    self._gens = json.loads(raw)
                except ValueError:
                    self._gens = None
                if not isinstance(self._gens, dict):
                    raise ValueError("generation file %s is damaged" % gen_file)
        self._n = deny_slots
        self._deny = bytearray(deny_slots * _SID)
        self._deny_exp = [0] * deny_slots  # Unix time the entry may go (0: free)
        self._deny_ver = 0  # moves on at every deny: views then look at the list again
        self.created = 0
        self.hits = 0
        self.misses = 0
        self.resealed = 0
        self.revoked = 0
        self.bumped = 0

    # -- the interface shared with SessionRing --------------------------------------------------
    capacity = None  # no limit on sessions: nothing is kept per session

    def __len__(self):
        return 0  # the sealed store cannot list or count the sessions it handed out

    def __iter__(self):
        return iter(())

    def by_handle(self, handle):
        return None

    def view(self):
        return SealedSession(self)

    def unix(self):
        # Unix seconds now; ClockNotSet when the wall clock was never set.
        t = int(self._clock.time()) + self._offset
        if t < MIN_UNIX:
            raise ClockNotSet(
                "the wall clock reads %d (Unix s), before 2024: it was never set; set it"
                " (ntptime) or use the session ring" % t
            )
        return t

    def stats(self):
        now = self._now_or(0)
        used = 0
        for e in self._deny_exp:
            if e > now:
                used += 1
        return {
            "capacity": None,
            "live": None,
            "deny_used": used,
            "deny_slots": self._n,
            "users_with_generation": len(self._gens),
            "keys": len(self._keys),
            "compress": self.compress,
            "created": self.created,
            "hits": self.hits,
            "misses": self.misses,
            "resealed": self.resealed,
            "revoked": self.revoked,
            "generation_bumps": self.bumped,
        }

    def generation(self, user):
        return self._gens.get(user, 0)

    def _now_or(self, default):
        try:
            return self.unix()
        except ClockNotSet:
            return default

    def tick(self):
        # Watchdog upkeep: free deny-list entries whose tokens have expired anyway.
        now = self._now_or(0)
        e = self._deny_exp
        for i in range(self._n):
            if e[i] and e[i] <= now:
                e[i] = 0

    sweep = tick

    def get(self, tok, into=None):
        # The session sealed in tok, or None: junk, forged, expired, revoked, another
        # purpose's, or from before its user's generation bump. Never raises on bad input.
        now = self._now_or(0)
        if not now:
            self.misses += 1
            return None
        try:
            v = self._open(tok, now, into)
        except (ValueError, TypeError, IndexError, KeyError, UnicodeError):
            v = None
        if v is None:
            self.misses += 1
        else:
            self.hits += 1
        return v

    def _open(self, tok, now, into):
        r = unseal(self._keys, tok, now, self.idle_s)
        if r is None:
            return None
        p, kidx, ts = r
        if len(p) < 2 or p[0] != _PLAIN_V:
            return None
        if p[1] & _COMPRESSED:
            body = inflate(memoryview(p)[2:], _MAX_PLAIN)
            if body is None:
                return None
            p = p[:2] + body
        if len(p) < _FIXED + 2:
            return None
        exp = _be32(p, 18)
        if exp and now >= exp:
            return None
        q = _FIXED
        pl = p[q]
        pb = self._pb
        if pl != len(pb) or q + 1 + pl >= len(p) or not _tok.equal(p, q + 1, pb, 0, pl):
            return None
        q += 1 + pl
        ul = p[q]
        if q + 1 + ul > len(p):
            return None
        user = bytes(p[q + 1 : q + 1 + ul]).decode()
        q += 1 + ul
        gen = _be32(p, 10)
        sid = bytes(p[2:10])
        if gen != self._gens.get(user, 0) or self._denied(sid, now):
            return None
        items = decode_items(p, q, len(p))
        v = into if isinstance(into, SealedSession) else SealedSession(self)
        v._bind(self, sid, gen, _be32(p, 14), exp, p[22], user, items)
        v._ts = ts
        v._kidx = kidx
        v.token = tok if isinstance(tok, str) else bytes(tok).decode()
        return v

    def touch(self, x):
        # Mark the session used now: True if it is live. Past half the idle timeout, or when
        # it was opened with an older key, pending() then hands out a fresh seal (sliding).
        v = self._as_view(x)
        if v is None:
            return False
        now = self.unix()
        if v._kidx or (self.idle_s and now - v._ts >= self.idle_s // 2):
            v._state |= _STALE
        return True

    def create(self, user, role=ROLE_USER):
        # A new sealed session; its .token is the cookie value. ClockNotSet when the wall
        # clock was never set (then use the ring).
        ub = user.encode() if isinstance(user, str) else bytes(user)
        if len(ub) > 255:
            raise ValueError("user name longer than 255 bytes")
        if not 0 <= role <= 255:
            raise ValueError("role must be 0..255")
        now = self.unix()
        v = SealedSession(self)
        exp = now + self.absolute_s if self.absolute_s else 0
        u = ub.decode()
        v._bind(self, os.urandom(_SID), self._gens.get(u, 0), now, exp, role, u, [])
        self._seal_view(v, now)
        v._state = _UNSENT
        self.created += 1
        return v

    def rotate(self, x):
        # A new token (and session id) for a live session, same user, role, times and data;
        # the old token is refused from now on. Returns the view; pending() gives its token.
        v = self._as_view(x)
        if v is None:
            raise SessionEnded("no such session")
        now = self.unix()
        self._deny_or_bump(v, now)
        v._sid = os.urandom(_SID)
        v._gen = self._gens.get(v._user, 0)
        self._seal_view(v, now)
        v._state = _UNSENT
        return v

    def revoke(self, x):
        # Log out the session of a view or token: its id goes on the deny-list until its
        # cookies would have expired anyway; when the list is full, the user's generation is
        # bumped instead (every session of that user ends). True if it was live.
        v = self._as_view(x)
        if v is None:
            return False
        self._deny_or_bump(v, self.unix())
        v._live = False
        self.revoked += 1
        return True

    def revoke_user(self, user, keep=None):
        # End every session of user (password change, log out everywhere) by bumping the
        # user's generation, on flash when the store has a gen_file; `keep` (a live view of
        # that user) gets the new generation, and pending() its new seal. Returns None: a
        # sealed store cannot count the cookies out there.
        keep = self._as_view(keep) if keep is not None else None
        self._bump(user)
        if keep is not None and keep._user == user:
            keep._gen = self._gens[user]
            keep._state |= _DIRTY

    def pending(self, view):
        # The token the client must be sent now, or None: a fresh seal when the data changed,
        # when touch() marked it for sliding/re-keying, or the token of create()/rotate()
        # that was not asked for yet (equal to view.token: a server that has already sent
        # that one can skip it).
        if not isinstance(view, SealedSession) or not view.valid or not view._state:
            return None
        if view._state & (_DIRTY | _STALE):
            now = self.unix()
            if view._exp and now >= view._exp:
                return None  # past its absolute timeout: never sealed again
            self._seal_view(view, now)
            self.resealed += 1
        view._state = 0
        return view.token

    # -- internals --------------------------------------------------------------------------
    def _as_view(self, x):
        if isinstance(x, SealedSession):
            return x if x._store is self and x.valid else None
        if x is None:
            return None
        return self.get(x)

    def _denied(self, sid, now):
        d = self._deny
        e = self._deny_exp
        for i in range(self._n):
            if e[i] > now and _tok.equal(d, i * _SID, sid, 0, _SID):
                return True
        return False

    def _deny_or_bump(self, v, now):
        # Put v's session id on the deny-list until every token of it has expired, else bump.
        until = now + self.idle_s + SKEW if self.idle_s else 0
        if v._exp and (not until or v._exp + SKEW < until):
            until = v._exp + SKEW
        e = self._deny_exp
        if until:
            for i in range(self._n):
                if e[i] <= now:
                    e[i] = until
                    o = i * _SID
                    self._deny[o : o + _SID] = v._sid
                    self._deny_ver += 1
                    return
        self._bump(v._user)

    def _bump(self, user):
        self._gens[user] = (self._gens.get(user, 0) + 1) & 0xFFFFFFFF
        self.bumped += 1
        if self._gen_file:
            flashfile.write(self._gen_file, json.dumps(self._gens))

    def _pack(self, v, data):
        # The plaintext of view v with encoded data, deflated when that makes it shorter.
        ub = v._user.encode()
        p = bytearray(b"\x01\x00")
        p.extend(v._sid)
        p.extend(v._gen.to_bytes(4, "big"))
        p.extend(v._created.to_bytes(4, "big"))
        p.extend(v._exp.to_bytes(4, "big"))
        p.append(v.role)
        p.append(len(self._pb))
        p.extend(self._pb)
        p.append(len(ub))
        p.extend(ub)
        p.extend(data)
        if self._deflate is not None:
            z = self._deflate(bytes(p[2:]))
            if len(z) + 2 < len(p):
                p = bytearray(b"\x01\x01") + z
        return p

    def _fits(self, n):
        return len(self.cookie_name) + n <= self.COOKIE_MAX

    def _seal_view(self, v, now):
        v.token = seal(self._keys[0], self._pack(v, encode_items(v._items)), now)
        v._ts = now
        v._kidx = 0


class SealedSession:
    # A view of one sealed session: the opened cookie's contents, held in this object. It
    # goes stale (valid False, data access raises SessionEnded) once revoked or when its
    # user's generation moves on. Data as in the ring: a small dict of str keys to str, bytes,
    # int, bool or None.

    def __init__(self, store):
        self._store = store
        self._live = False
        self.token = None
        self._state = 0
        self._kidx = 0
        self._ts = 0

    def _bind(self, store, sid, gen, created, exp, role, user, items):
        self._store = store
        self._live = True
        self._sid = sid
        self._gen = gen
        self._created = created
        self._exp = exp
        self._role = role
        self._user = user
        self._items = items
        self._state = 0
        self._dv = store._deny_ver

    @property
    def valid(self):
        s = self._store
        if not self._live or self._gen != s._gens.get(self._user, 0):
            return False
        if self._dv != s._deny_ver:  # something was denied since: is it this session?
            if s._denied(self._sid, s._now_or(0)):
                self._live = False
                return False
            self._dv = s._deny_ver
        return True

    def _check(self):
        if not self.valid:
            raise SessionEnded("session has ended")

    @property
    def user(self):
        self._check()
        return self._user

    @property
    def role(self):
        self._check()
        return self._role

    @property
    def handle(self):
        # Public name of the session (hex of its random id, kept across re-seals, new on
        # rotate); not a credential.
        self._check()
        return binascii.hexlify(self._sid).decode()

    @property
    def age(self):
        self._check()
        return self._store.unix() - self._created

    @property
    def idle(self):
        # Seconds since the cookie was last sealed (the store sees no requests in between).
        self._check()
        return self._store.unix() - self._ts

    def expires_in(self):
        # Seconds until the session ends if it stays idle (the nearer of both timeouts).
        s = self._store
        now = s.unix()
        left = []
        if s.idle_s:
            left.append(s.idle_s - (now - self._ts))
        if self._exp:
            left.append(self._exp - now)
        return max(0, min(left)) if left else None

    @property
    def sealed_size(self):
        # Bytes of the cookie value for the session as it is now.
        self._check()
        return sealed_len(len(self._store._pack(self, encode_items(self._items))))

    # -- data ---------------------------------------------------------------------------------
    def _set(self, items):
        # Store items if the cookie still fits, else SessionDataFull and nothing changes.
        s = self._store
        n = sealed_len(len(s._pack(self, encode_items(items))))
        if not s._fits(n):
            raise SessionDataFull(
                "the sealed cookie would be %d bytes with its name, browsers keep %d"
                % (len(s.cookie_name) + n, s.COOKIE_MAX)
            )
        self._items = items
        self._state |= _DIRTY

    def __getitem__(self, key):
        self._check()
        for k, v in self._items:
            if k == key:
                return v
        raise KeyError(key)

    def get(self, key, default=None):
        self._check()
        for k, v in self._items:
            if k == key:
                return v
        return default

    def __contains__(self, key):
        self._check()
        for k, _ in self._items:
            if k == key:
                return True
        return False

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError("session keys are str")
        self._check()
        self._set([kv for kv in self._items if kv[0] != key] + [(key, value)])

    def __delitem__(self, key):
        self._check()
        kept = [kv for kv in self._items if kv[0] != key]
        if len(kept) == len(self._items):
            raise KeyError(key)
        self._set(kept)

    def keys(self):
        self._check()
        return [k for k, _ in self._items]

    def items(self):
        self._check()
        return list(self._items)

    def clear(self):
        self._check()
        self._set([])
