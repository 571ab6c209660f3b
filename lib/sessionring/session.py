# What every session store shares (ring.py keeps sessions in RAM slots, sealed.py in the
# cookie): the roles, the errors an app catches, and the one encoding of per-session data.
from micropython import const

ROLE_ANON = const(0)  # a visitor with a session but no login
ROLE_USER = const(1)
ROLE_ADMIN = const(2)


class RingFull(Exception):
    # No slot can be taken without evicting a session of higher privilege (HTTP: 503).
    pass


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
