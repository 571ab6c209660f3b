# SealedStore: client-side sessions. The session's state travels in the cookie as a Fernet
# token (version 0x80, 64-bit big-endian Unix timestamp, 16-byte IV, AES-128-CBC with PKCS7,
# HMAC-SHA256 over all of that, base64url with padding): encrypted so the browser cannot read
# it, authenticated so it cannot change it. The device keeps no slot per session: only a small
# deny-list (logouts) and one generation number per user (log out everywhere), on flash.
# The store protocol of session.Store, as SessionRing has it.
# The view class and the plaintext's layout are in sealed_view.py, the deny-list and the
# generations in sealed_deny.py, the key file and clocks in sealed_keys.py, compression in
# sealed_zip.py; this module imports them, never the other way.
import os
import time

from micropython import const

from .fernet import SKEW, Opener, cryptolib, seal, sealed_len, unseal  # noqa: F401
from .fernet import key as _fernet_key  # (cryptolib: None on a port built without it)
from .sealed_deny import Revoked
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
from .sealed_view import SealedSession, user_at
from .sealed_zip import find_deflater, inflate
from .session import ROLE_USER, SessionDataFull, SessionEnded, Store

_PLAIN_V = const(1)
_COMPRESSED = const(1)
_SID = const(8)
_MAX_PLAIN = const(4096)  # inflated plaintext cap (against a compressed bomb)
_KEYS_MAX = const(3)
_VIEW_BYTES = const(192)  # plaintext a view holds without allocating (an admin cookie: 86)
_BAD_INPUT = (ValueError, TypeError, IndexError, KeyError, UnicodeError)  # get(): a refused cookie


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
        self._rv = Revoked(deny_slots, script_slots, gen_file, deny_file)  # (sealed_deny.py)
        self._into = None  # get(): the view being opened
        self.created = 0
        self.hits = 0
        self.misses = 0
        self.resealed = 0
        self.revoked = 0

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
        out = {
            "capacity": None,
            "live": None,
            "keys": len(self._keys),
            "compress": self.compress,
            "created": self.created,
            "hits": self.hits,
            "misses": self.misses,
            "resealed": self.resealed,
            "revoked": self.revoked,
        }
        return self._rv.stats(self._rel_or(0), out)  # (and the deny-list's, generations')

    def generation(self, user):
        return self._rv.gens.get(user, 0)

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
        self._rv.expire(self._rel_or(-1))

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
            if self._op.out is into.buf:
                into.end()  # its buffer now holds another cookie
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
        n = self._op.open(tok, now, self.idle_s, v.buf)
        if n < 2 or self._fields(self._op.out, n, now, v) is None:
            return None
        v.sealed_at = self._op.ts
        v.key_index = self._op.kidx
        v.token = tok if type(tok) is not memoryview else bytes(tok)  # (decoded when read)
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
        u = user_at(p, n, now, self._pb)
        if u < 0 or self._rv.denied(p, 2, now):
            return None
        v.bind(p, u, n)
        v.deny_ver = self._rv.ver
        if v.gen != self._rv.gen_for(v.owner, v.flags):
            v.end()
            return None
        return v

    def _inflated(self, p, n):
        body = inflate(memoryview(p)[2:n], _MAX_PLAIN)
        return None if body is None else bytearray(p[:2]) + body

    def touch(self, x):
        # Mark the session used now: True if it is live. Past half the idle timeout, or when
        # it was opened with an older key, pending() then hands out a fresh seal (sliding).
        v = self._as_view(x)
        if v is None:
            return False
        now = self.rel()
        if v.key_index or (self.idle_s and now - v.sealed_at >= self.idle_s // 2):
            v.state |= _STALE
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
        v.new(u, self._rv.gens.get(u, 0), now, exp, role)
        v.deny_ver = self._rv.ver
        v.sid[:] = os.urandom(_SID)
        self._seal_view(v, now)
        v.state = _UNSENT
        self.created += 1
        return v

    def mark_script(self, x):
        # Make a live session a script's (an API login): its logout takes an entry of the
        # scripts' lane of the deny-list, and when that lane is full it ends the user's script
        # sessions only, never a browser's. Its token changes: pending() gives the new one.
        v = self._as_view(x)
        if v is None:
            raise SessionEnded("no such session")
        v.flags |= _SCRIPT
        v.gen = self._rv.gen_for(v.owner, v.flags)
        v.state |= _DIRTY
        return v

    def rotate(self, x):
        # A new token (and session id) for a live session, same user, role, times and data;
        # the old token is refused from now on. Returns the view; pending() gives its token.
        v = self._as_view(x)
        if v is None:
            raise SessionEnded("no such session")
        now = self.rel()
        self._end(v, now)
        v.sid[:] = os.urandom(_SID)
        v.gen = self._rv.gen_for(v.owner, v.flags)
        v.deny_ver = self._rv.ver
        self._seal_view(v, now)
        v.state = _UNSENT
        return v

    def revoke(self, x):
        # Log out the session of a view or token: its id goes on the deny-list (on flash with
        # a deny_file) until its cookies would have expired anyway; when its lane is full, the
        # user's generation is bumped instead (every session of that user ends; for a script's
        # session, every script session of that user). True if it was live.
        v = self._as_view(x)
        if v is None:
            return False
        self._end(v, self.rel())
        v.end()
        self.revoked += 1
        return True

    def revoke_user(self, user, keep=None):
        # End every session of user (password change, log out everywhere) by bumping the
        # user's generation, on flash when the store has a gen_file; `keep` (a live view of
        # that user) gets the new generation, and pending() its new seal. Returns None: a
        # sealed store cannot count the cookies out there.
        keep = self._as_view(keep) if keep is not None else None
        self._rv.bump(user)
        if keep is not None and keep.owner == user:
            keep.gen = self._rv.gen_for(user, keep.flags)
            keep.state |= _DIRTY

    def pending(self, view):
        # The token the client must be sent now, or None: a fresh seal when the data changed,
        # when touch() marked it for sliding/re-keying, or the token of create()/rotate()
        # that was not asked for yet (equal to view.token: a server that has already sent
        # that one can skip it).
        if not isinstance(view, SealedSession) or not view.valid or not view.state:
            return None
        if view.state & (_DIRTY | _STALE):
            now = self.rel()
            if view.exp and now >= view.exp:
                return None  # past its absolute timeout: never sealed again
            self._seal_view(view, now)
            self.resealed += 1
        view.state = 0
        return view.token

    # -- what views ask of the store (sealed_view.py) -----------------------------------------
    def live(self, v):
        # Is view v's session still live: its generation current, its id not denied since.
        if v.store is not self or v.gen != self._rv.gen_for(v.owner, v.flags):
            return False
        if v.deny_ver != self._rv.ver:  # something was denied since: is it this session?
            if self._rv.denied(v.sid, 0, self._rel_or(0)):
                v.end()
                return False
            v.deny_ver = self._rv.ver
        return True

    def plain_len(self, v, items=None):
        # Bytes of the plaintext of view v with items (default: its own).
        return len(self._plain(v, items))

    def room(self, v, items):
        # SessionDataFull unless v's cookie with items fits in a browser's cookie.
        n = sealed_len(self.plain_len(v, items))
        if not self._fits(n):
            raise SessionDataFull(
                "the sealed cookie would be %d bytes with its name, browsers keep %d"
                % (len(self.cookie_name) + n, self.COOKIE_MAX)
            )

    # -- internals --------------------------------------------------------------------------
    def _as_view(self, x):
        if isinstance(x, SealedSession):
            return x if x.store is self and x.valid else None
        if x is None:
            return None
        return self.get(x)

    def _end(self, v, now):
        # End v's session: its id on the deny-list until every token of it has expired (else a
        # generation bump: sealed_deny.py).
        until = now + self.idle_s + SKEW if self.idle_s else 0
        if v.exp and (not until or v.exp + SKEW < until):
            until = v.exp + SKEW
        self._rv.end(v.sid, v.owner, v.flags, until, now)

    def _plain(self, v, items=None):
        # The plaintext of view v with items (default: its own), deflated when that makes it
        # shorter.
        p = v.pack(self._pb, items)
        if self._deflate is not None:
            z = self._deflate(bytes(p[2:]))
            if len(z) + 2 < len(p):
                p = bytearray(p[:2]) + z
                p[1] |= _COMPRESSED
        return p

    def _fits(self, n):
        return len(self.cookie_name) + n <= self.COOKIE_MAX

    def _seal_view(self, v, now):
        v.token = seal(self._keys[0], self._plain(v), now + MIN_UNIX)
        v.sealed_at = now
        v.key_index = 0
