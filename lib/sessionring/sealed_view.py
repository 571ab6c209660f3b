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

DIRTY = const(1)  # view state: data changed since the last seal
STALE = const(2)  # touch(): past half the idle timeout, or opened with an older key
UNSENT = const(4)  # create()/rotate(): the token is new
SCRIPT = const(2)  # plaintext flag: a script's session (API login), its own deny-list lane
_SID = const(8)


class SealedSession(DataView):
    # A view of one sealed session: the opened cookie's contents, held in this object. It
    # goes stale (valid False, data access raises SessionEnded) once revoked or when its
    # user's generation moves on.

    def __init__(self, store, buf_bytes=0):
        self._store = store
        self._live = False
        self.token = None
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

    def bind(self, p, q, n, user, gen, created, exp, role, flags, dv):
        # The store opened a cookie into this view: p[2:10] is the session id, p[q:n] the
        # data, user the offset of the name's length byte in p (the name follows it). Or p is
        # None (a new session): user is the name, the data an empty list.
        self._live = False
        if p is None:
            self._user = user
            self._ub = user.encode()
            self._items = []
        else:
            ul = p[user]
            user += 1
            if ul != len(self._ub) or not _tok.equal(p, user, self._ub, 0, ul):
                ub = bytes(p[user : user + ul])
                self._user = ub.decode()  # (UnicodeError: the view stays unbound)
                self._ub = ub
            sid = self._sid
            for i in range(_SID):
                sid[i] = p[2 + i]
            self._items = None
        self._live = True
        self._state = 0
        self._p = p
        self._q = q
        self._n = n
        self._gen = gen
        self._created = created
        self._exp = exp
        self._role = role
        self._flags = flags
        self._dv = dv

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
