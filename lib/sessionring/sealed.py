# SealedStore: client-side sessions. The session's state travels in the cookie as a Fernet
# token (version 0x80, 64-bit big-endian Unix timestamp, 16-byte IV, AES-128-CBC with PKCS7,
# HMAC-SHA256 over all of that, base64url with padding): encrypted so the browser cannot read
# it, authenticated so it cannot change it. The device keeps no slot per session: only a small
# deny-list (logouts) and one generation number per user (log out everywhere), on flash.
# The store protocol of session.Store, as SessionRing has it.
#
# Plaintext (version 1): [1][flags] then the body, deflated (zlib format) when flags & 1:
#   sid 8 | generation 4 | created 4 | expiry 4 (Unix s, 0: none) | role 1
#   | purpose length 1 + purpose | user length 1 + user | data (ring.encode_items)
# The view class is in sealed_view.py, the key file and clocks in sealed_keys.py, compression
# in sealed_zip.py; this module imports them, never the other way.
import binascii
import json
import os
import time

from micropython import const

from . import flashfile
from . import token as _tok
from .fernet import SKEW, Opener, cryptolib, seal, sealed_len, unseal  # noqa: F401
from .fernet import key as _fernet_key  # (cryptolib: None on a port built without it)
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
from .sealed_view import SCRIPT as _SCRIPT
from .sealed_view import STALE as _STALE
from .sealed_view import UNSENT as _UNSENT
from .sealed_view import SealedSession, rel32
from .sealed_zip import find_deflater, inflate
from .session import ROLE_USER, SessionDataFull, SessionEnded, Store, encode_items, find_item

_PLAIN_V = const(1)
_COMPRESSED = const(1)
_SID = const(8)
_FIXED = const(23)  # version, flags, sid, generation, created, expiry, role
_MAX_PLAIN = const(4096)  # inflated plaintext cap (against a compressed bomb)
_KEYS_MAX = const(3)
_VIEW_BYTES = const(192)  # plaintext a view holds without allocating (an admin cookie: 86)
_DENY_HEAD = b"sessionring deny 1\n"
_BAD_INPUT = (ValueError, TypeError, IndexError, KeyError, UnicodeError)  # get(): a refused cookie


def _deny_whole(data):
    # flashfile.read: a deny file cut short by a power cut is not whole
    return data.startswith(_DENY_HEAD) and data.endswith(b"\n")


# -- the store --------------------------------------------------------------------------------
class SealedStore(Store):
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
        deny_file=None,
        script_slots=16,
        view_bytes=_VIEW_BYTES,
    ):
        # keys: 1..3 Fernet keys (32 bytes or base64url text), the first seals; or key_file,
        # the path of a key file of master secrets (load_keys). gen_file: where the users'
        # generations are kept; deny_file: where the deny-list is (None: RAM only, lost at
        # reboot). deny_slots: logouts of browser sessions remembered at once; script_slots:
        # of script sessions (mark_script). view_bytes: plaintext a view opens without
        # allocating. clock: time() and gmtime() as the time module has them; ticks:
        # ticks_ms() and ticks_diff() for now().
        if cryptolib is None:
            raise RuntimeError("this MicroPython build has no cryptolib: use the ring")
        if key_file is not None:
            keys = load_keys(key_file, purpose)
        keys = [_fernet_key(k) for k in keys or ()]
        if not 1 <= len(keys) <= _KEYS_MAX:
            raise ValueError("1..%d keys" % _KEYS_MAX)
        self._keys = keys
        self._vb = (view_bytes + 15) // 16 * 16
        self._op = Opener(keys, 57 + self._vb, MIN_UNIX)
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self.purpose = purpose
        self._pb = purpose.encode()
        self.cookie_name = cookie_name
        self._clock = clock
        self._start(ticks if ticks is not None else time)  # (Uptime: now(), for uptime)
        # the store's seconds: Unix time minus MIN_UNIX (small ints on a 32-bit board)
        self._roff = unix_offset(clock.gmtime(0)[0]) - MIN_UNIX
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
        self._sgens = {}  # user -> generation of the user's script sessions (deny_file)
        self._deny_file = deny_file
        old = self._load_deny(deny_file) if deny_file else ((), ())
        self._nb = max(deny_slots, len(old[0]))  # browsers' lane: entries [0, _nb)
        self._n = self._nb + max(script_slots, len(old[1]))  # scripts' lane: [_nb, _n)
        self._deny = bytearray(self._n * _SID)
        self._deny_exp = [0] * self._n  # when the entry may go, store seconds (0: free)
        for lane, base in ((old[0], 0), (old[1], self._nb)):
            for i in range(len(lane)):
                self._put(base + i, lane[i][0], lane[i][1])
        self._deny_ver = 0  # moves on at every deny: views then look at the list again
        self._into = None  # get(): the view being opened
        self.created = 0
        self.hits = 0
        self.misses = 0
        self.resealed = 0
        self.revoked = 0
        self.bumped = 0
        self.script_bumped = 0
        self.deny_writes = 0  # deny-list writes to flash since start (wear: docs/sessions.md)

    # -- the store protocol (session.Store) ------------------------------------------------------
    # capacity None, len() 0, no listing, no handles (Store's): the sealed store keeps nothing
    # per session, so it cannot count or list the sessions it handed out, and admit() never
    # refuses one.

    def view(self):
        # A reusable view with a buffer of its own: opening a cookie into it allocates little.
        return SealedSession(self, self._vb)

    def rel(self):
        # The store's clock: Unix seconds minus MIN_UNIX (2024-01-01); ClockNotSet when the
        # wall clock was never set.
        t = int(self._clock.time() + self._roff)
        if t < 0:
            raise ClockNotSet(
                "the wall clock reads %d (Unix s), before 2024: it was never set; set it"
                " (ntptime) or use the session ring" % (t + MIN_UNIX)
            )
        return t

    def unix(self):
        # Unix seconds now; ClockNotSet when the wall clock was never set.
        return self.rel() + MIN_UNIX

    def stats(self):
        now = self._rel_or(0)
        e = self._deny_exp
        used = 0
        sused = 0
        for i in range(self._n):
            if e[i] > now:
                if i < self._nb:
                    used += 1
                else:
                    sused += 1
        return {
            "capacity": None,
            "live": None,
            "deny_used": used,
            "deny_slots": self._nb,
            "script_deny_used": sused,
            "script_deny_slots": self._n - self._nb,
            "deny_persistent": self._deny_file is not None,
            "users_with_generation": len(self._gens),
            "keys": len(self._keys),
            "compress": self.compress,
            "created": self.created,
            "hits": self.hits,
            "misses": self.misses,
            "resealed": self.resealed,
            "revoked": self.revoked,
            "generation_bumps": self.bumped,
            "script_generation_bumps": self.script_bumped,
            "deny_writes": self.deny_writes,
        }

    def generation(self, user):
        return self._gens.get(user, 0)

    def _rel_or(self, default):
        try:
            return self.rel()
        except ClockNotSet:
            return default

    # now() (Uptime): seconds since the store started, on the ticks clock (the wall clock
    # may be set, or jump, later); tick() reads it often enough for the ticks wrap

    def tick(self):
        # Watchdog upkeep: free deny-list entries whose tokens have expired anyway. (Nothing is
        # written: the deny file drops them at its next write, and they are dead when read.)
        self.now()
        now = self._rel_or(-1)
        e = self._deny_exp
        for i in range(self._n):
            if e[i] and e[i] <= now:
                e[i] = 0

    sweep = tick

    def get(self, tok, into=None):
        # The session sealed in tok, or None: junk, forged, expired, revoked, another
        # purpose's, or from before its user's generation bump. Never raises on bad input.
        # into: a view (view()) to open it into; it is unbound when tok is refused.
        # (get and the steps below keep to few locals: on MicroPython a call whose locals and
        # stack need more than 11 words puts its frame on the heap, and this runs per request.)
        if not isinstance(into, SealedSession):
            into = SealedSession(self)
        self._op.out = None
        self._into = into
        v = self._try(tok)
        if v is None:
            if self._op.out is into._own:
                into._live = False  # its buffer now holds another cookie
            self.misses += 1
        else:
            self.hits += 1
        return v

    def _try(self, tok):
        # self._open(tok, self._into), None when it raised (a try block costs frame space: the
        # view comes as an attribute, so that this frame stays small)
        try:
            return self._open(tok, self._into)
        except _BAD_INPUT:
            return None

    def _open(self, tok, v):
        # v bound to the session sealed in tok, or None.
        now = self._rel_or(-1)
        if now < 0:
            return None
        n = self._op.open(tok, now, self.idle_s, v._own)
        if n < 2 or self._fields(self._op.out, n, now, v) is None:
            return None
        v._ts = self._op.ts
        v._kidx = self._op.kidx
        v._tok = tok if type(tok) is not memoryview else bytes(tok)  # (.token: decoded when read)
        return v

    def _fields(self, p, n, now, v):
        # v bound to the plaintext p[:n] when it is a live session of this store, else None.
        if p[0] != _PLAIN_V:
            return None
        if p[1] & _COMPRESSED:
            p = self._inflated(p, n)
            if p is None:
                return None
            n = len(p)
        u = self._user_at(p, n, now)
        if u < 0 or self._denied(p, 2, now):
            return None
        v.bind(p, u, n)
        v._dv = self._deny_ver
        if v._gen != self._gen_for(v._user, v._flags):
            v._live = False
            return None
        return v

    def _inflated(self, p, n):
        body = inflate(memoryview(p)[2:n], _MAX_PLAIN)
        return None if body is None else bytearray(p[:2]) + body

    def _user_at(self, p, n, now):
        # Where the user name's length byte is in the plaintext p[:n], or -1 when the cookie
        # has expired, is another purpose's or its fields run past n (ValueError for its data).
        if n < _FIXED + 2:
            return -1
        a = rel32(p, 18)
        if a and now >= a:
            return -1
        if not self._purpose_is(p, n):
            return -1
        a = _FIXED + 1 + p[_FIXED]
        if a + 1 + p[a] > n:
            return -1
        find_item(p, a + 1 + p[a], n, b"")  # every data entry within the plaintext
        return a

    def _purpose_is(self, p, n):
        pl = p[_FIXED]
        if pl != len(self._pb) or _FIXED + 1 + pl >= n:
            return False
        return _tok.equal(p, _FIXED + 1, self._pb, 0, pl)

    def touch(self, x):
        # Mark the session used now: True if it is live. Past half the idle timeout, or when
        # it was opened with an older key, pending() then hands out a fresh seal (sliding).
        v = self._as_view(x)
        if v is None:
            return False
        now = self.rel()
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
        now = self.rel()
        v = SealedSession(self)
        exp = now + self.absolute_s if self.absolute_s else 0
        u = ub.decode()
        v.new(u, self._gens.get(u, 0), now, exp, role)
        v._dv = self._deny_ver
        v._sid[:] = os.urandom(_SID)
        self._seal_view(v, now)
        v._state = _UNSENT
        self.created += 1
        return v

    def mark_script(self, x):
        # Make a live session a script's (an API login): its logout takes an entry of the
        # scripts' lane of the deny-list, and when that lane is full it ends the user's script
        # sessions only, never a browser's. Its token changes: pending() gives the new one.
        v = self._as_view(x)
        if v is None:
            raise SessionEnded("no such session")
        v._flags |= _SCRIPT
        v._gen = self._gen_for(v._user, v._flags)
        v._state |= _DIRTY
        return v

    def rotate(self, x):
        # A new token (and session id) for a live session, same user, role, times and data;
        # the old token is refused from now on. Returns the view; pending() gives its token.
        v = self._as_view(x)
        if v is None:
            raise SessionEnded("no such session")
        now = self.rel()
        self._deny_or_bump(v, now)
        v._sid[:] = os.urandom(_SID)
        v._gen = self._gen_for(v._user, v._flags)
        v._dv = self._deny_ver
        self._seal_view(v, now)
        v._state = _UNSENT
        return v

    def revoke(self, x):
        # Log out the session of a view or token: its id goes on the deny-list (on flash with
        # a deny_file) until its cookies would have expired anyway; when its lane is full, the
        # user's generation is bumped instead (every session of that user ends; for a script's
        # session, every script session of that user). True if it was live.
        v = self._as_view(x)
        if v is None:
            return False
        self._deny_or_bump(v, self.rel())
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
            keep._gen = self._gen_for(user, keep._flags)
            keep._state |= _DIRTY

    def pending(self, view):
        # The token the client must be sent now, or None: a fresh seal when the data changed,
        # when touch() marked it for sliding/re-keying, or the token of create()/rotate()
        # that was not asked for yet (equal to view.token: a server that has already sent
        # that one can skip it).
        if not isinstance(view, SealedSession) or not view.valid or not view._state:
            return None
        if view._state & (_DIRTY | _STALE):
            now = self.rel()
            if view._exp and now >= view._exp:
                return None  # past its absolute timeout: never sealed again
            self._seal_view(view, now)
            self.resealed += 1
        view._state = 0
        return view.token

    # -- what views ask of the store (sealed_view.py) -----------------------------------------
    def live(self, v):
        # Is view v's session still live: its generation current, its id not denied since.
        if v._store is not self or v._gen != self._gen_for(v._user, v._flags):
            return False
        if v._dv != self._deny_ver:  # something was denied since: is it this session?
            if self._denied(v._sid, 0, self._rel_or(0)):
                v._live = False
                return False
            v._dv = self._deny_ver
        return True

    def plain_len(self, v, items=None):
        # Bytes of the plaintext of view v with items (default: its own).
        return len(self._pack(v, encode_items(v._read() if items is None else items)))

    def room(self, v, items):
        # SessionDataFull unless v's cookie with items fits in a browser's cookie.
        n = sealed_len(self.plain_len(v, items))
        if not self._fits(n):
            raise SessionDataFull(
                "the sealed cookie would be %d bytes with its name, browsers keep %d"
                % (len(self.cookie_name) + n, self.COOKIE_MAX)
            )

    # -- internals --------------------------------------------------------------------------
    def _gen_for(self, user, flags):
        # The generation a cookie of user with these flags must carry: the user's; for a
        # script's session, its low 16 bits and the user's script generation in the high 16.
        g = self._gens.get(user, 0)
        if flags & _SCRIPT:
            g = (g & 0xFFFF) | (self._sgens.get(user, 0) & 0xFFFF) << 16
        return g

    def _as_view(self, x):
        if isinstance(x, SealedSession):
            return x if x._store is self and x.valid else None
        if x is None:
            return None
        return self.get(x)

    def _denied(self, b, o, now):
        # Is the session id at b[o:o + 8] on the deny-list (an entry live at now)?
        i = self._n
        while i:
            i -= 1
            if self._deny_exp[i] > now and self._deny_is(i, b, o):
                return True
        return False

    def _deny_is(self, i, b, o):
        return _tok.equal(self._deny, i * _SID, b, o, _SID)

    def _put(self, i, sid, until):
        self._deny_exp[i] = until
        o = i * _SID
        self._deny[o : o + _SID] = sid

    def _deny_or_bump(self, v, now):
        # Put v's session id on its lane of the deny-list until every token of it has expired,
        # else bump the generation (the user's; a script's session: the user's script one).
        until = now + self.idle_s + SKEW if self.idle_s else 0
        if v._exp and (not until or v._exp + SKEW < until):
            until = v._exp + SKEW
        e = self._deny_exp
        lo, hi = (self._nb, self._n) if v._flags & _SCRIPT else (0, self._nb)
        if until:
            for i in range(lo, hi):
                if e[i] <= now:
                    self._put(i, v._sid, until)
                    self._deny_ver += 1
                    self._save_deny(now)
                    return
        if v._flags & _SCRIPT:
            self._sgens[v._user] = (self._sgens.get(v._user, 0) + 1) & 0xFFFF
            self.script_bumped += 1
            self._save_deny(now)
        else:
            self._bump(v._user)

    def _bump(self, user):
        self._gens[user] = (self._gens.get(user, 0) + 1) & 0xFFFFFFFF
        self.bumped += 1
        if self._gen_file:
            flashfile.write(self._gen_file, json.dumps(self._gens))

    def _save_deny(self, now):
        # The deny-list's live entries and the script generations, written atomically: one
        # small file per logout (docs/sessions.md: flash wear).
        if not self._deny_file:
            return
        out = [_DENY_HEAD.decode()]
        e = self._deny_exp
        for i in range(self._n):
            if e[i] > now:
                o = i * _SID
                sid = binascii.hexlify(self._deny[o : o + _SID]).decode()
                out.append("%s %s %d\n" % ("d" if i < self._nb else "s", sid, e[i] + MIN_UNIX))
        for u, g in self._sgens.items():
            out.append("g %d %s\n" % (g, binascii.hexlify(u.encode()).decode()))
        flashfile.write(self._deny_file, "".join(out))
        self.deny_writes += 1

    def _load_deny(self, path):
        # ([(sid, until)] of browsers, the same of scripts) from the deny file; the script
        # generations into _sgens. ValueError when it is damaged.
        raw = flashfile.read(path, 8192, _deny_whole)
        lanes = ([], [])
        if raw is None:
            return lanes
        if not _deny_whole(raw):
            raise ValueError("deny file %s is damaged" % path)
        try:
            for line in raw.decode().split("\n")[1:]:
                if not line:
                    continue
                kind, a, b = line.split(" ")
                if kind == "g":
                    self._sgens[binascii.unhexlify(b).decode()] = int(a) & 0xFFFF
                    continue
                sid = binascii.unhexlify(a)
                if len(sid) != _SID or kind not in ("d", "s"):
                    raise ValueError
                lanes[kind == "s"].append((sid, int(b) - MIN_UNIX))
        except (ValueError, TypeError, UnicodeError):
            raise ValueError("deny file %s is damaged" % path) from None
        return lanes

    def _pack(self, v, data):
        # The plaintext of view v with encoded data, deflated when that makes it shorter.
        ub = v._user.encode()
        p = bytearray(b"\x01")
        p.append(v._flags & _SCRIPT)
        p.extend(v._sid)
        p.extend(v._gen.to_bytes(4, "big"))
        p.extend((v._created + MIN_UNIX).to_bytes(4, "big"))
        p.extend((v._exp + MIN_UNIX if v._exp else 0).to_bytes(4, "big"))
        p.append(v._role)
        p.append(len(self._pb))
        p.extend(self._pb)
        p.append(len(ub))
        p.extend(ub)
        p.extend(data)
        if self._deflate is not None:
            z = self._deflate(bytes(p[2:]))
            if len(z) + 2 < len(p):
                p = bytearray(p[:2]) + z
                p[1] |= _COMPRESSED
        return p

    def _fits(self, n):
        return len(self.cookie_name) + n <= self.COOKIE_MAX

    def _seal_view(self, v, now):
        v.token = seal(self._keys[0], self._pack(v, encode_items(v._read())), now + MIN_UNIX)
        v._ts = now
        v._kidx = 0
