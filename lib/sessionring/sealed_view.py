# SealedSession: the view of one sealed session (sealed.py's SealedStore makes them). It holds
# the opened cookie's contents: the fixed fields, and the data as the cookie's plaintext in a
# buffer of its own (a value is decoded when it is read, the whole list only when the data is
# written). Data as in the ring: a small dict of str keys to str, bytes, int, bool or None,
# encoded the ring's way. Times are the store's (Unix seconds minus sealed_keys.MIN_UNIX: small
# ints on a 32-bit board).
#
# What a view asks of its store, and nothing else: store.rel() (now; ClockNotSet when the wall
# clock was never set), store.live(view) (is the session still live: generation, deny-list),
# store.room(view, items) (SessionDataFull unless the cookie with these items fits) and
# store.plain_len(view) (its plaintext's size). The store sets a view's fields through bind()
# and reads them as attributes.
import binascii

from micropython import const

from . import token as _tok
from .fernet import sealed_len
from .session import MISSING, DataView, SessionEnded, decode_items, find_item

_B_HI = const(26002)  # MIN_UNIX >> 16 (sealed_keys.MIN_UNIX: 2024-01-01)
_B_LO = const(128)  # MIN_UNIX & 0xFFFF
DIRTY = const(1)  # view state: data changed since the last seal
STALE = const(2)  # touch(): past half the idle timeout, or opened with an older key
UNSENT = const(4)  # create()/rotate(): the token is new
SCRIPT = const(2)  # plaintext flag: a script's session (API login), its own deny-list lane
_SID = const(8)


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


class SealedSession(DataView):
    # A view of one sealed session: the opened cookie's contents, held in this object. It
    # goes stale (valid False, data access raises SessionEnded) once revoked or when its
    # user's generation moves on.

    def __init__(self, store, buf_bytes=0):
        self._store = store
        self._live = False
        self._state = 0
        self._kidx = 0  # index of the key that opened the cookie (0: the sealing key)
        self._ts = 0  # when the cookie was sealed
        self._sid = bytearray(_SID)
        self._flags = 0
        self._gen = 0
        self._created = 0
        self._exp = 0  # absolute expiry, 0: none
        self._role = 0
        self._user = None
        self._ub = b""  # the user name's bytes: a cookie of the same user reuses _user
        self._items = []  # the data as a list, or None: it is in _p[_q:_n]
        self._p = None
        self._q = 0
        self._n = 0
        self._own = bytearray(buf_bytes) if buf_bytes else None  # opened cookies land here
        self._dv = 0  # the store's deny count when last checked

    def buffer(self, n):
        # Where the store may decrypt n bytes for this view: its own buffer when it is large
        # enough (nothing allocated), else a new one for this cookie only.
        b = self._own
        return b if b is not None and len(b) >= n else bytearray(n)

    def bind(self, p, u, n):
        # The store opened a cookie into p[:n] (plaintext layout: sealed.py): p[2:10] is the
        # session id, p[u] the user name's length, the name and then the data follow it.
        self._live = False
        self._name(p, u)
        sid = self._sid
        for i in range(_SID):
            sid[i] = p[2 + i]
        self._items = None
        self._p = p
        self._q = u + 1 + p[u]
        self._n = n
        self._fixed(p)
        self._live = True
        self._state = 0

    def _name(self, p, u):
        # The user name at p[u + 1:], decoded only when it is not the last cookie's user's.
        if p[u] != len(self._ub) or not _tok.equal(p, u + 1, self._ub, 0, p[u]):
            self._new_name(bytes(p[u + 1 : u + 1 + p[u]]))

    def _new_name(self, ub):
        self._user = ub.decode()  # (UnicodeError: the view stays unbound)
        self._ub = ub

    def _fixed(self, p):
        self._flags = p[1]
        self._gen = be32(p, 10)
        self._created = rel32(p, 14)
        self._exp = rel32(p, 18)
        self._role = p[22]

    def new(self, user, gen, created, exp, role):
        # A new session (the store seals it next): no data yet.
        self._user = user
        self._ub = user.encode()
        self._items = []
        self._p = None
        self._q = self._n = 0
        self._flags = 0
        self._gen = gen
        self._created = created
        self._exp = exp
        self._role = role
        self._live = True
        self._state = 0

    @property
    def valid(self):
        return self._live and self._store.live(self)

    @property
    def script(self):
        # True for a script's session (SealedStore.mark_script): its logout takes an entry of
        # the scripts' lane of the deny-list, never one a browser needs.
        return bool(self._flags & SCRIPT)

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
        return self._store.rel() - self._created

    @property
    def idle(self):
        # Seconds since the cookie was last sealed (the store sees no requests in between).
        self._check()
        return self._store.rel() - self._ts

    def expires_in(self):
        # Seconds until the session ends if it stays idle (the nearer of both timeouts).
        s = self._store
        now = s.rel()
        left = None
        if s.idle_s:
            left = s.idle_s - (now - self._ts)
        if self._exp:
            a = self._exp - now
            left = a if left is None or a < left else left
        return None if left is None else (left if left > 0 else 0)

    @property
    def sealed_size(self):
        # Bytes of the cookie value for the session as it is now.
        self._check()
        return sealed_len(self._store.plain_len(self))

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
        self._store.room(self, items)
        self._items = items
        self._state |= DIRTY
