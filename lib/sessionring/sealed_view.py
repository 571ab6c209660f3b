# SealedSession: the view of one sealed session (sealed.py's SealedStore makes them), and the
# layout of the plaintext sealed in the cookie, read (user_at, bind) and written (pack) here
# alone. A view holds the opened cookie's contents: the fixed fields, and the data as the
# cookie's plaintext in a buffer of its own (a value is decoded when it is read, the whole list
# only when the data is written). Data as in the ring: a small dict of str keys to str, bytes,
# int, bool or None, encoded the ring's way. Times are the store's (Unix seconds minus
# sealed_keys.MIN_UNIX: small ints on a 32-bit board).
#
# Plaintext (version 1): [1][flags] then the body, deflated (zlib format) when flags & 1:
#   sid 8 | generation 4 | created 4 | expiry 4 (Unix s, 0: none) | role 1
#   | purpose length 1 + purpose | user length 1 + user | data (session.encode_items)
#
# Between view and store, this and nothing else: a view asks its store rel() (now;
# ClockNotSet when the wall clock was never set), live(view) (is the session still live:
# generation, deny-list), room(view, items) (SessionDataFull unless the cookie with these items
# fits) and plain_len(view) (its plaintext's size). The store binds a view (bind, new), ends it
# (end) and keeps its own state in the view's public fields (the block "the store's fields" in
# __init__, a comment each); neither reads the other's underscore names.
import binascii

from micropython import const

from . import token as _tok
from .fernet import sealed_len
from .sealed_keys import MIN_UNIX
from .session import MISSING, DataView, SessionEnded, decode_items, encode_items, find_item

_B_HI = const(26002)  # MIN_UNIX >> 16 (sealed_keys.MIN_UNIX: 2024-01-01)
_B_LO = const(128)  # MIN_UNIX & 0xFFFF
DIRTY = const(1)  # view state: data changed since the last seal
STALE = const(2)  # touch(): past half the idle timeout, or opened with an older key
UNSENT = const(4)  # create()/rotate(): the token is new
SCRIPT = const(2)  # plaintext flag: a script's session (API login), its own deny-list lane
_SID = const(8)
_FIXED = const(23)  # version, flags, sid, generation, created, expiry, role


def be32(b, o):
    # big-endian unsigned 32 bits at b[o], with no slice
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]


def rel32(b, o):
    # The Unix time at b[o] (32 bits, big-endian) in the store's seconds (minus MIN_UNIX),
    # computed in halves so that it stays a small int on a 32-bit board; 0 for 0 (none), -1 for
    # a time at or before MIN_UNIX (expired).
    hi = b[o] << 8 | b[o + 1]
    lo = b[o + 2] << 8 | b[o + 3]
    if not hi | lo:
        return 0
    t = (hi - _B_HI) * 65536 + lo - _B_LO
    return t if t > 0 else -1


def user_at(p, n, now, pb):
    # Where the user name's length byte is in the plaintext p[:n] (inflated), or -1 when the
    # cookie has expired at now, is another purpose's than pb or its fields run past n
    # (ValueError for its data).
    if n < _FIXED + 2:
        return -1
    a = rel32(p, 18)
    if a and now >= a:
        return -1
    if not _purpose_is(p, n, pb):
        return -1
    a = _FIXED + 1 + p[_FIXED]
    if a + 1 + p[a] > n:
        return -1
    find_item(p, a + 1 + p[a], n, b"")  # every data entry within the plaintext
    return a


def _purpose_is(p, n, pb):
    pl = p[_FIXED]
    if pl != len(pb) or _FIXED + 1 + pl >= n:
        return False
    return _tok.equal(p, _FIXED + 1, pb, 0, pl)


class SealedSession(DataView):
    # A view of one sealed session: the opened cookie's contents, held in this object. It
    # goes stale (valid False, data access raises SessionEnded) once revoked or when its
    # user's generation moves on.

    def __init__(self, store, buf_bytes=0):
        # -- the store's fields: sealed.py reads and sets these; apps read the properties --
        self.store = store  # the SealedStore that made this view
        self.buf = bytearray(buf_bytes) if buf_bytes else None  # opened cookies land here
        self.sid = bytearray(_SID)  # the session id (random, kept across re-seals)
        self.gen = 0  # the generation the cookie carries
        self.flags = 0  # the plaintext's flags (SCRIPT)
        self.exp = 0  # absolute expiry (store seconds), 0: none
        self.owner = None  # the user name, read without the check .user makes
        self.state = 0  # what pending() must do: DIRTY, STALE, UNSENT
        self.sealed_at = 0  # when the cookie was sealed (store seconds)
        self.key_index = 0  # the key that opened the cookie (0: the sealing key)
        self.deny_ver = 0  # the store's deny-list version when last checked against it
        # -- the view's own --
        self._live = False
        self._created = 0
        self._role = 0
        self._ub = b""  # the user name's bytes: a cookie of the same user reuses owner
        self._items = []  # the data as a list, or None: it is in _p[_q:_n]
        self._p = None
        self._q = 0
        self._n = 0

    def bind(self, p, u, n):
        # The store opened a cookie into p[:n] (checked by user_at, which gave u): p[2:10] is
        # the session id, p[u] the user name's length, the name and then the data follow it.
        self._live = False
        self._name(p, u)
        sid = self.sid
        for i in range(_SID):
            sid[i] = p[2 + i]
        self._items = None
        self._p = p
        self._q = u + 1 + p[u]
        self._n = n
        self._fixed(p)
        self._live = True
        self.state = 0

    def end(self):
        # The store ended this view: revoked, its generation gone, or its buffer now holds
        # another cookie.
        self._live = False

    def _name(self, p, u):
        # The user name at p[u + 1:], decoded only when it is not the last cookie's user's.
        if p[u] != len(self._ub) or not _tok.equal(p, u + 1, self._ub, 0, p[u]):
            self._new_name(bytes(p[u + 1 : u + 1 + p[u]]))

    def _new_name(self, ub):
        self.owner = ub.decode()  # (UnicodeError: the view stays unbound)
        self._ub = ub

    def _fixed(self, p):
        self.flags = p[1]
        self.gen = be32(p, 10)
        self._created = rel32(p, 14)
        self.exp = rel32(p, 18)
        self._role = p[22]

    def new(self, user, gen, created, exp, role):
        # A new session (the store seals it next): no data yet.
        self.owner = user
        self._ub = user.encode()
        self._items = []
        self._p = None
        self._q = self._n = 0
        self.flags = 0
        self.gen = gen
        self._created = created
        self.exp = exp
        self._role = role
        self._live = True
        self.state = 0

    def pack(self, pb, items=None):
        # The plaintext of this session for purpose pb (bytes) with items (default: its own
        # data), its body not deflated.
        data = encode_items(self._read() if items is None else items)
        p = bytearray(b"\x01")
        p.append(self.flags & SCRIPT)
        p.extend(self.sid)
        p.extend(self.gen.to_bytes(4, "big"))
        p.extend((self._created + MIN_UNIX).to_bytes(4, "big"))
        p.extend((self.exp + MIN_UNIX if self.exp else 0).to_bytes(4, "big"))
        p.append(self._role)
        p.append(len(pb))
        p.extend(pb)
        p.append(len(self._ub))
        p.extend(self._ub)
        p.extend(data)
        return p

    @property
    def valid(self):
        return self._live and self.store.live(self)

    @property
    def script(self):
        # True for a script's session (SealedStore.mark_script): its logout takes an entry of
        # the scripts' lane of the deny-list, never one a browser needs.
        return bool(self.flags & SCRIPT)

    def _check(self):
        if not self.valid:
            raise SessionEnded("session has ended")

    @property
    def user(self):
        self._check()
        return self.owner

    @property
    def role(self):
        self._check()
        return self._role

    @property
    def handle(self):
        # Public name of the session (hex of its random id, kept across re-seals, new on
        # rotate); not a credential.
        self._check()
        return binascii.hexlify(self.sid).decode()

    @property
    def age(self):
        self._check()
        return self.store.rel() - self._created

    @property
    def idle(self):
        # Seconds since the cookie was last sealed (the store sees no requests in between).
        self._check()
        return self.store.rel() - self.sealed_at

    def expires_in(self):
        # Seconds until the session ends if it stays idle (the nearer of both timeouts).
        s = self.store
        now = s.rel()
        left = None
        if s.idle_s:
            left = s.idle_s - (now - self.sealed_at)
        if self.exp:
            a = self.exp - now
            left = a if left is None or a < left else left
        return None if left is None else (left if left > 0 else 0)

    @property
    def sealed_size(self):
        # Bytes of the cookie value for the session as it is now.
        self._check()
        return sealed_len(self.store.plain_len(self))

    # -- data ---------------------------------------------------------------------------------
    def _read(self):
        self._check()
        if self._items is None:
            self._items = decode_items(self._p, self._q, self._n)
        return self._items

    def _find(self, key):
        # key's value, decoding no other entry, or MISSING
        self._check()
        if self._items is not None:
            for k, v in self._items:
                if k == key:
                    return v
            return MISSING
        return find_item(self._p, self._q, self._n, key.encode() if isinstance(key, str) else b"")

    def _write(self, items):
        # Store items if the cookie still fits, else SessionDataFull and nothing changes.
        self.store.room(self, items)
        self._items = items
        self.state |= DIRTY
