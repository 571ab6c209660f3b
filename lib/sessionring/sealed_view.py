# SealedSession: the view of one sealed session (sealed.py's SealedStore makes them). It
# holds the opened cookie's contents; the store reads and sets its fields. Data as in the
# ring: a small dict of str keys to str, bytes, int, bool or None, encoded the ring's way.
import binascii

from micropython import const

from .fernet import sealed_len
from .session import DataView, SessionDataFull, SessionEnded, encode_items

DIRTY = const(1)  # view state: data changed since the last seal
STALE = const(2)  # touch(): past half the idle timeout, or opened with an older key
UNSENT = const(4)  # create()/rotate(): the token is new


class SealedSession(DataView):
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
    def _read(self):
        self._check()
        return self._items

    def _write(self, items):
        # Store items if the cookie still fits, else SessionDataFull and nothing changes.
        s = self._store
        n = sealed_len(len(s._pack(self, encode_items(items))))
        if not s._fits(n):
            raise SessionDataFull(
                "the sealed cookie would be %d bytes with its name, browsers keep %d"
                % (len(s.cookie_name) + n, s.COOKIE_MAX)
            )
        self._items = items
        self._state |= DIRTY
