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
# The view class is in sealed_view.py, the key file and clocks in sealed_keys.py, compression
# in sealed_zip.py; this module imports them, never the other way.
import json
import os
import time

from micropython import const

from . import flashfile
from . import token as _tok
from .fernet import SKEW, cryptolib, seal, unseal  # cryptolib: None on a port built without it
from .fernet import key as _fernet_key
from .sealed_keys import (  # noqa: F401 - part of this module's interface
    MIN_UNIX,
    ClockNotSet,
    add_master,
    load_keys,
    read_masters,
    unix_offset,
    write_masters,
)
from .sealed_view import DIRTY as _DIRTY
from .sealed_view import STALE as _STALE
from .sealed_view import UNSENT as _UNSENT
from .sealed_view import SealedSession
from .sealed_zip import find_deflater, inflate
from .session import (  # noqa: F401 - the same exceptions as the ring, for apps to import here
    ROLE_USER,
    RingFull,
    SessionDataFull,
    SessionEnded,
    Uptime,
    decode_items,
    encode_items,
)

_PLAIN_V = const(1)
_COMPRESSED = const(1)
_SID = const(8)
_FIXED = const(23)  # version, flags, sid, generation, created, expiry, role
_MAX_PLAIN = const(4096)  # inflated plaintext cap (against a compressed bomb)
_KEYS_MAX = const(3)


def _be32(b, o):
    # big-endian unsigned 32 bits at b[o], with no slice
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]


# -- the store --------------------------------------------------------------------------------
class SealedStore(Uptime):
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
        ticks=None,
    ):
        # keys: 1..3 Fernet keys (32 bytes or base64url text), the first seals; or key_file,
        # the path of a key file of master secrets (load_keys). gen_file: where the users'
        # generations are kept (None: RAM only, lost at reboot). clock: time() and gmtime()
        # as the time module has them; ticks: ticks_ms() and ticks_diff() for now().
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
        self._start(ticks if ticks is not None else time)  # (Uptime: now(), for uptime)
        self._offset = unix_offset(clock.gmtime(0)[0])
        self._deflate = find_deflater() if compress else None
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

    # now() (Uptime): seconds since the store started, on the ticks clock (the wall clock
    # may be set, or jump, later); tick() reads it often enough for the ticks wrap

    def tick(self):
        # Watchdog upkeep: free deny-list entries whose tokens have expired anyway.
        self.now()
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
