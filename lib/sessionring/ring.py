# SessionRing: a fixed number of session slots, preallocated in one bytearray at construction.
# Lookup by token is O(1) (the token names its slot), and get/touch/revoke allocate nothing.
#
# Slot layout (little-endian), HEADER bytes then the session's data area:
#   0 state (0 free, 1 live)   1 role   2..3 generation   4..7 created   8..11 last seen
#   12 user name length   13..27 user name (UTF-8)   28..43 token secret
# Times are whole seconds of the ring's own clock, advanced from ticks_diff() so that the
# ticks wraparound (2**30 ms on boards) never matters. They stay below 2**30, so reading them
# never makes a big integer on a 32-bit board.
import os
import time

from micropython import const

from . import token as _tok
from .ring_admin import RingAdmin
from .session import (
    ROLE_USER,
    DataView,
    RingFull,
    SessionDataFull,
    SessionEnded,
    Uptime,
    decode_items,
    encode_items,
    find_item,
)

_LIVE = const(1)
_ROLE = const(1)
_GEN = const(2)
_CREATED = const(4)
_SEEN = const(8)
_ULEN = const(12)
_USER = const(13)
_SECRET = const(28)
HEADER = const(44)
USER_BYTES = const(15)


class SessionRing(RingAdmin):
    # The store (session.Store). Its request path is here, beside the slot layout; counting,
    # stats, listing, by_handle, revoke_user and sweep are ring_admin.py's (RingAdmin).
    def __init__(
        self, slots=16, data_bytes=64, idle_s=900, absolute_s=43200, per_user=4, clock=time
    ):
        if not 1 <= slots <= 65535:
            raise ValueError("slots must be 1..65535")
        if not 0 <= data_bytes <= 4096:
            raise ValueError("data_bytes must be 0..4096")
        self.idle_s = idle_s  # 0: no idle timeout
        self.absolute_s = absolute_s  # 0: no absolute timeout
        self.per_user = per_user  # 0: no cap per user
        self.data_bytes = data_bytes
        self._n = slots
        self._size = HEADER + data_bytes
        self._buf = bytearray(slots * self._size)
        self._raw = bytearray(_tok.RAW_BYTES)  # scratch: the token being looked up, decoded
        m = os.urandom(4)  # masks the slot index and generation inside tokens
        self._mlo = m[0] | (m[1] << 8)
        self._mhi = m[2] | (m[3] << 8)
        self._start(clock, 1)  # (Uptime: seconds of the ring's own clock, from 1)
        self._hint = 0  # where the next free-slot search starts
        # counters (small ints: incrementing them allocates nothing)
        self.visits = 0  # slot headers examined: lookups visit exactly one
        self.hits = 0
        self.misses = 0
        self.created = 0
        self.evicted = 0
        self.expired = 0
        self.revoked = 0
        self.rejected = 0

    # -- clock: now() (Uptime) is seconds since the ring started; call it at least once per
    # half ticks period (6 days on a board): the server does on every request and on its tick
    now = Uptime.now  # (in this class's own dict: looked up on every lookup, found at once)
    tick = Uptime.now  # the server's watchdog calls it a few times per second

    # -- the rest of the store protocol (session.Store; admit() is the protocol's own) ---------
    def view(self):
        # A reusable view for get(tok, into=view): the server keeps one per connection.
        return Session(self)

    def pending(self, view):
        # The token that must be sent to the client now: never one for the ring (its tokens
        # do not change when the session does; create and rotate hand theirs out directly).
        return None

    # -- slot helpers (ring_admin.py reads slots through these) -------------------------------
    def _live_at(self, o):
        return self._buf[o] == _LIVE

    def _gen_at(self, o):
        return self._u16(o + _GEN)

    def _u16(self, o):
        b = self._buf
        return b[o] | (b[o + 1] << 8)

    def _u32(self, o):
        b = self._buf
        return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)

    def _put32(self, o, v):
        b = self._buf
        b[o] = v & 0xFF
        b[o + 1] = (v >> 8) & 0xFF
        b[o + 2] = (v >> 16) & 0xFF
        b[o + 3] = (v >> 24) & 0xFF

    def _is_expired(self, o, now):
        if self.idle_s and now - self._u32(o + _SEEN) >= self.idle_s:
            return True
        return bool(self.absolute_s and now - self._u32(o + _CREATED) >= self.absolute_s)

    def _free(self, o):
        # Wipe the slot but keep its generation, so no old token can match it again.
        b = self._buf
        b[o] = 0
        b[o + _ROLE] = 0
        for k in range(o + _CREATED, o + self._size):
            b[k] = 0

    def _find(self, tok):
        # Slot offset of a live, unexpired session whose secret matches tok, else -1.
        # Kept to few locals: a MicroPython frame that outgrows the C stack budget goes on the
        # heap, and this runs on every request.
        raw = self._raw
        if not _tok.decode(tok, raw):
            self.misses += 1
            return -1
        self.visits += 1
        o = ((raw[0] | (raw[1] << 8)) ^ self._mlo) * self._size
        if (
            o >= len(self._buf)
            or self._buf[o] != _LIVE
            or self._u16(o + _GEN) != (raw[2] | (raw[3] << 8)) ^ self._mhi
            or not _tok.equal(raw, 4, self._buf, o + _SECRET, _tok.SECRET_BYTES)
        ):
            self.misses += 1
            return -1
        if self._is_expired(o, self.now()):
            self._free(o)
            self.expired += 1
            self.misses += 1
            return -1
        self.hits += 1
        return o

    def _offset(self, x):
        # Slot offset for a token or a valid Session view, else -1.
        if isinstance(x, Session):
            if x._ring is not self or not x.valid:
                return -1
            return x._o
        return self._find(x)

    # -- lookups (allocation-free) ---------------------------------------------------------------
    def get(self, tok, into=None):
        # The session for tok, or None (unknown, expired, revoked, forged, or a token for an
        # older generation of its slot). Pass `into`, a Session view you own, to rebind it
        # instead of making a new one: then get allocates nothing.
        o = self._find(tok)
        if o < 0:
            return None
        v = into if into is not None else Session(self)
        v._ring = self
        v._o = o
        v._gen = self._u16(o + _GEN)
        v._tok = tok  # (.token: the server's bytearray copy is decoded when read)
        return v

    def touch(self, x):
        # Mark the session (token or view) as used now. True if it is live.
        o = self._offset(x)
        if o < 0:
            return False
        self._put32(o + _SEEN, self.now())
        return True

    def revoke(self, x):
        # End the session (token or view). True if it was live.
        o = self._offset(x)
        if o < 0:
            return False
        self._free(o)
        self.revoked += 1
        return True

    # -- creation and eviction ---------------------------------------------------------------
    def create(self, user, role=ROLE_USER):
        # A new session for user (str, at most 15 UTF-8 bytes) with role 0..255. Takes a free or
        # expired slot; else evicts the least recently used session of the lowest role, but
        # never one whose role is higher than `role` (raises RingFull instead).
        ub = user.encode() if isinstance(user, str) else bytes(user)
        if len(ub) > USER_BYTES:
            raise ValueError("user name longer than %d bytes" % USER_BYTES)
        if not 0 <= role <= 255:
            raise ValueError("role must be 0..255")
        now = self.now()
        b = self._buf
        size = self._size
        free = -1
        mine = 0  # live sessions of this user
        mine_oldest = -1
        low = -1  # eviction candidate: lowest role, then least recently seen
        for j in range(self._n):
            i = (self._hint + j) % self._n
            o = i * size
            if b[o] == _LIVE and self._is_expired(o, now):
                self._free(o)
                self.expired += 1
            if b[o] != _LIVE:
                if free < 0:
                    free = o
                continue
            if self._user_is(o, ub):
                mine += 1
                if mine_oldest < 0 or self._u32(o + _CREATED) < self._u32(mine_oldest + _CREATED):
                    mine_oldest = o
            if (
                low < 0
                or b[o + _ROLE] < b[low + _ROLE]
                or (
                    b[o + _ROLE] == b[low + _ROLE]
                    and self._u32(o + _SEEN) < self._u32(low + _SEEN)
                )
            ):
                low = o
        if self.per_user and mine >= self.per_user:
            self._free(mine_oldest)
            self.evicted += 1
            if free < 0:
                free = mine_oldest
        if free < 0:
            if b[low + _ROLE] > role:
                self.rejected += 1
                raise RingFull("all %d session slots hold higher-privilege sessions" % self._n)
            self._free(low)
            self.evicted += 1
            free = low
        o = free
        self._hint = (o // size + 1) % self._n
        b[o] = _LIVE
        b[o + _ROLE] = role
        self._put32(o + _CREATED, now)
        self._put32(o + _SEEN, now)
        b[o + _ULEN] = len(ub)
        for k in range(len(ub)):
            b[o + _USER + k] = ub[k]
        self.created += 1
        return self._new_token(o, Session(self))

    def _new_token(self, o, v):
        # A new generation and secret for slot o, so that every older token stops matching;
        # binds view v to the slot and gives it the token text. Returns v.
        b = self._buf
        gen = (self._u16(o + _GEN) + 1) & 0xFFFF
        b[o + _GEN] = gen & 0xFF
        b[o + _GEN + 1] = gen >> 8
        secret = _tok.new_secret()
        for k in range(_tok.SECRET_BYTES):
            b[o + _SECRET + k] = secret[k]
        v._ring = self
        v._o = o
        v._gen = gen
        v._tok = _tok.encode((o // self._size) ^ self._mlo, gen ^ self._mhi, secret)
        return v

    def _view(self, o):
        # A new view of the live slot at offset o (for listings; lookups reuse views).
        v = Session(self)
        v._o = o
        v._gen = self._u16(o + _GEN)
        return v

    def rotate(self, x):
        # Give a live session a new token (new secret and generation) in the same slot, keeping
        # its user, role, times and data: the old token stops matching. Returns the view.
        o = self._offset(x)
        if o < 0:
            raise SessionEnded("no such session")
        return self._new_token(o, x if isinstance(x, Session) else Session(self))

    def _user_is(self, o, ub):
        b = self._buf
        n = len(ub)
        if b[o + _ULEN] != n:
            return False
        for k in range(n):
            if b[o + _USER + k] != ub[k]:
                return False
        return True


class Session(DataView):
    # A view of one session slot: a handle, not a copy. It goes stale (valid False, data
    # access raises SessionEnded) once the session ends or its slot is reused.
    # Per-session data works like a small dict of str keys to str, bytes, int, bool or None
    # values, stored compactly in the slot's data area.
    # .token after get(tok): tok as it was given when bytes or a memoryview (get allocates
    # nothing); as text when str or a bytearray (the server's copy of the request's bytes).
    _kept = (bytes, memoryview)

    def __init__(self, ring):
        self._ring = ring
        self._o = -1
        self._gen = -1

    @property
    def valid(self):
        o = self._o
        r = self._ring
        return o >= 0 and r._buf[o] == _LIVE and r._u16(o + _GEN) == self._gen

    def _check(self):
        if not self.valid:
            raise SessionEnded("session has ended")
        return self._o

    @property
    def user(self):
        o = self._check()
        b = self._ring._buf
        return str(memoryview(b)[o + _USER : o + _USER + b[o + _ULEN]], "utf-8")

    @property
    def role(self):
        return self._ring._buf[self._check() + _ROLE]

    @property
    def handle(self):
        # Public name of this session for admin pages and revoke forms; not a credential.
        return "%d.%d" % (self._check() // self._ring._size, self._gen)

    @property
    def age(self):
        o = self._check()
        return self._ring.now() - self._ring._u32(o + _CREATED)

    @property
    def idle(self):
        o = self._check()
        return self._ring.now() - self._ring._u32(o + _SEEN)

    def expires_in(self):
        # Seconds until the session ends if it stays idle (the nearer of both timeouts).
        r = self._ring
        left = None
        if r.idle_s:
            left = r.idle_s - self.idle
        if r.absolute_s:
            a = r.absolute_s - self.age
            left = a if left is None or a < left else left
        return None if left is None else (left if left > 0 else 0)

    # -- data area (encoding: see encode_items) ----------------------------------------------
    def _read(self):
        o = self._check() + HEADER
        return decode_items(self._ring._buf, o, o + self._ring.data_bytes)

    def _write(self, items):
        enc = encode_items(items)
        r = self._ring
        if len(enc) > r.data_bytes:
            raise SessionDataFull(
                "session data needs %d bytes, the slot holds %d" % (len(enc), r.data_bytes)
            )
        o = self._check() + HEADER
        b = r._buf
        for k in range(r.data_bytes):
            b[o + k] = enc[k] if k < len(enc) else 0

    def _find(self, key):
        # key's value, decoding no other entry, or MISSING
        o = self._check() + HEADER
        kb = key.encode() if isinstance(key, str) else b""
        return find_item(self._ring._buf, o, o + self._ring.data_bytes, kb)
