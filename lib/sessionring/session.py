# What every session store shares (ring.py keeps sessions in RAM slots, sealed.py in the
# cookie): the store protocol (Store), the roles, the errors an app catches, and the one
# encoding of per-session data. Apps import these names from here.
from micropython import const

ROLE_ANON = const(0)  # a visitor with a session but no login
ROLE_USER = const(1)
ROLE_ADMIN = const(2)


class StoreFull(Exception):
    # The store has no room for a new session (HTTP: 503): the ring's slots all hold live
    # sessions that may not be evicted. ring.RingFull is this class.
    pass


RingFull = StoreFull  # (its older name, still caught under it by conn.py)


class SessionDataFull(ValueError):
    # The session's data would not fit its data area; the old data is left as it was.
    pass


class SessionEnded(Exception):
    # The view's session was revoked, expired or its slot reused.
    pass


# -- per-session data: one encoding for the ring's slots and the sealed store's cookies ----------
# Entries of [key length][key][type][value length][value]; a 0 byte (or the end) ends them.
# Types: s str, b bytes, i int (decimal), T True, F False, N None.
def encode_items(items):
    # bytearray of (key, value) pairs; TypeError or SessionDataFull for what cannot be stored.
    enc = bytearray()
    for key, val in items:
        kb = key.encode()
        if val is None:
            t, vb = b"N", b""
        elif val is True or val is False:
            t, vb = (b"T" if val else b"F"), b""
        elif isinstance(val, int):
            t, vb = b"i", str(val).encode()
        elif isinstance(val, str):
            t, vb = b"s", val.encode()
        elif isinstance(val, (bytes, bytearray)):
            t, vb = b"b", bytes(val)
        else:
            raise TypeError("session values are str, bytes, int, bool or None")
        if not 0 < len(kb) < 256 or len(vb) > 255:
            raise SessionDataFull("session key 1..255 bytes and value at most 255 bytes")
        enc.append(len(kb))
        enc.extend(kb)
        enc.extend(t)
        enc.append(len(vb))
        enc.extend(vb)
    return enc


def decode_items(b, p, end):
    # [(key, value)] of the entries in b[p:end]. ValueError when an entry runs past end (the
    # ring never writes one; a sealed cookie is only decoded after its MAC checked out).
    out = []
    while p < end and b[p]:
        kl = b[p]
        e = _entry_end(b, p, end)
        out.append((str(memoryview(b)[p + 1 : p + 1 + kl], "utf-8"), decode_value(b, p + kl + 1)))
        p = e
    return out


MISSING = object()  # find_item(): no entry with that key


def find_item(b, p, end, kb):
    # The value of the entry whose key is kb (bytes) in b[p:end], decoding that entry only, or
    # MISSING. (Few locals: on MicroPython the call keeps its frame off the heap.)
    n = len(kb)
    while p < end and b[p]:
        e = _entry_end(b, p, end)
        if b[p] == n and _same(b, p + 1, kb):
            return decode_value(b, p + n + 1)
        p = e
    return MISSING


def _entry_end(b, p, end):
    # The offset after the entry at p; ValueError when it runs past end.
    q = p + b[p] + 3
    if q > end or q + b[q - 1] > end:
        raise ValueError("session data truncated")
    return q + b[q - 1]


def _same(b, p, kb):
    for i in range(len(kb)):
        if b[p + i] != kb[i]:
            return False
    return True


def decode_value(b, p):
    # The value whose type byte is at b[p] (its length at p + 1, its bytes after).
    t = b[p]
    raw = memoryview(b)[p + 2 : p + 2 + b[p + 1]]
    if t == 0x73:  # s
        return str(raw, "utf-8")
    if t == 0x62:  # b
        return bytes(raw)
    if t == 0x69:  # i
        return int(str(raw, "utf-8"))
    if t == 0x54:  # T
        return True
    if t == 0x46:  # F
        return False
    if t == 0x4E:  # N
        return None
    raise ValueError("unknown session value type")


class DataView:
    # Per-session data as a small dict of str keys to str, bytes, int, bool or None values,
    # for both stores' views: a view gives _read() -> [(key, value)] (SessionEnded when the
    # session has ended) and _write(items) (SessionDataFull, and nothing changed, when they
    # do not fit).
    # .token is the session's token as text (None for a view from a listing). A store keeps it
    # as it came (the server hands over a copy of the request's bytes) in _tok: it is decoded
    # when read, once, so a request whose handler never reads it never decodes it. (A view
    # class may keep the types in _kept as they came.)
    _tok = None
    _kept = ()

    @property
    def token(self):
        t = self._tok
        if t is not None and type(t) is not str and type(t) not in self._kept:
            t = str(t, "utf-8")  # (a store only binds a view to well-formed, ASCII text)
            self._tok = t
        return t

    @token.setter
    def token(self, t):
        self._tok = t

    def _find(self, key):
        # key's value, or MISSING (a view may look it up without decoding the rest)
        for k, v in self._read():
            if k == key:
                return v
        return MISSING

    def __getitem__(self, key):
        v = self._find(key)
        if v is MISSING:
            raise KeyError(key)
        return v

    def get(self, key, default=None):
        v = self._find(key)
        return default if v is MISSING else v

    def __contains__(self, key):
        return self._find(key) is not MISSING

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError("session keys are str")
        items = [kv for kv in self._read() if kv[0] != key]
        items.append((key, value))
        self._write(items)

    def __delitem__(self, key):
        items = self._read()
        kept = [kv for kv in items if kv[0] != key]
        if len(kept) == len(items):
            raise KeyError(key)
        self._write(kept)

    def keys(self):
        return [k for k, _ in self._read()]

    def items(self):
        return list(self._read())

    def clear(self):
        self._write([])


class Uptime:
    # Whole seconds since start, advanced from ticks_diff() on an injectable ticks clock
    # (self._ticks), so that the ticks wraparound (2**30 ms on boards) never matters. Read it at
    # least once per half ticks period (6 days on a board): the server's tick() does.
    def _start(self, ticks, first=0):
        self._ticks = ticks
        self._t = ticks.ticks_ms()
        self._sec = first
        self._ms = 0

    def now(self):
        c = self._ticks
        t = c.ticks_ms()
        d = c.ticks_diff(t, self._t)
        self._t = t
        if d > 0:
            ms = self._ms + d
            if ms >= 1000:
                self._sec += ms // 1000
                ms %= 1000
            self._ms = ms
        return self._sec


class Store(Uptime):
    # The session store protocol. SessionRing (ring.py: sessions in RAM slots) and SealedStore
    # (sealed.py: sessions sealed into the cookie, nothing kept per session) implement it;
    # the server (binding.py) and the admin firmware use a store through it alone. Tokens are
    # str, bytes or bytearray; a view is the store's handle on one session (DataView: user,
    # role, handle, valid, expires_in(), token, and the session's data as a small dict).
    capacity = None  # how many sessions it holds at once; None: no limit

    def view(self):
        # A new reusable view for get(tok, into=view): the server keeps one per connection.
        raise NotImplementedError

    def get(self, tok, into=None):
        # The live session named by tok, bound to `into` (or a new view), or None: unknown,
        # expired, revoked, forged. Never raises for a bad token.
        raise NotImplementedError

    def touch(self, x):
        # The session (a view or token) was used now: its idle timeout counts from here.
        # True when it is live.
        raise NotImplementedError

    def admit(self, replacing=None):
        # StoreFull unless a login may start a session now: a store with a capacity admits
        # one while it holds fewer live sessions, or when the login replaces `replacing`, a
        # live view of this store (the request's own session). A full store of live sessions
        # is never evicted by a login. (create() alone may evict: see the ring's order.)
        if self.capacity is None or (replacing is not None and replacing.valid):
            return
        if len(self) >= self.capacity:
            raise StoreFull("all %d session slots are in use" % self.capacity)

    def create(self, user, role=ROLE_USER):
        # A new session for user with role; its view's .token is new. StoreFull when there is
        # no room for it.
        raise NotImplementedError

    def rotate(self, x):
        # A new token for a live session (same user, role, times and data): the old token
        # stops working. Returns the view; SessionEnded when it is not live.
        raise NotImplementedError

    def revoke(self, x):
        # End the session of a view or token. True if it was live.
        raise NotImplementedError

    def revoke_user(self, user, keep=None):
        # End every session of user except `keep` (a view or token): password change, log out
        # everywhere. How many ended, or None when the store cannot count them.
        raise NotImplementedError

    def pending(self, view):
        # The token the client must be sent now, or None (a store that keeps the session in
        # the cookie re-seals it after a change; the ring never re-sends).
        return None

    def tick(self):
        # Upkeep, a few times a second (the server's watchdog): reads the clock, at least once
        # per half ticks period.
        self.now()

    def sweep(self):
        # Free what has expired now. How many sessions ended (0 when it cannot tell).
        return 0

    def __len__(self):
        # Live sessions (0 when the store cannot count them).
        return 0

    def __iter__(self):
        # Views of the live sessions for an admin list (their .token is None), if it can list.
        return iter(())

    def by_handle(self, handle):
        # The live session with this public handle (admin pages, revoke forms), or None.
        return None

    def stats(self):
        # Counters for a status page: a dict.
        return {"capacity": self.capacity}
