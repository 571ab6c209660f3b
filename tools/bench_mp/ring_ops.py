# Runs on the MicroPython unix port (or CPython with the shim): per-operation cost of the
# session ring and of a plain dict-of-objects session store (the baseline), and RAM per
# session for both. Prints one JSON object.
import gc
import json
import sys
import time

import micropython

from sessionring.ring import ROLE_ADMIN, SessionRing

REPEAT = 3


def us_per_op(f, n):
    best = None
    for _ in range(REPEAT):
        gc.collect()
        t0 = time.ticks_us()
        f(n)
        dt = time.ticks_diff(time.ticks_us(), t0)
        if best is None or dt < best:
            best = dt
    return best / n


class DictSession:
    # What a session store usually looks like: an object per session, in a dict by token.
    def __init__(self, user, role, now):
        self.user = user
        self.role = role
        self.created = now
        self.seen = now
        self.data = {}


class DictStore:
    def __init__(self, idle_s=900, absolute_s=43200):
        self.d = {}
        self.idle_s = idle_s
        self.absolute_s = absolute_s

    def create(self, token, user, role, now):
        s = DictSession(user, role, now)
        self.d[token] = s
        return s

    def get(self, token, now):
        s = self.d.get(token)
        if s is None:
            return None
        if now - s.seen >= self.idle_s or now - s.created >= self.absolute_s:
            del self.d[token]
            return None
        return s

    def touch(self, token, now):
        s = self.get(token, now)
        if s is not None:
            s.seen = now
        return s is not None


def mem_alloc_delta(f, n):
    if not hasattr(micropython, "mem_total"):
        return None
    # the call itself costs a few bytes; measure it with n=0 and take it away
    gc.collect()
    before = micropython.mem_total()
    f(0)
    fixed = micropython.mem_total() - before
    before = micropython.mem_total()
    f(n)
    return (micropython.mem_total() - before - fixed) / n


def bench_ring(slots):
    ring = SessionRing(slots=slots, data_bytes=64, per_user=0)
    toks = [ring.create("u%d" % i, ROLE_ADMIN).token for i in range(slots)]
    view = ring.get(toks[0])
    m = len(toks)

    def gets(n):
        g = ring.get
        for i in range(n):
            g(toks[i % m], view)

    def touches(n):
        t = ring.touch
        for i in range(n):
            t(toks[i % m])

    def creates(n):
        # the ring is full: every create evicts the least recently used session
        c = ring.create
        for _ in range(n):
            c("x", ROLE_ADMIN)

    out = {
        "get_us": us_per_op(gets, 20000),
        "touch_us": us_per_op(touches, 20000),
        "get_bytes": mem_alloc_delta(gets, 2000),
        "touch_bytes": mem_alloc_delta(touches, 2000),
    }
    out["create_us"] = us_per_op(creates, 2000 if slots < 1000 else 300)
    return out


def bench_dict(slots):
    store = DictStore()
    toks = ["%027d" % i for i in range(slots)]
    now = 1
    for t in toks:
        store.create(t, "admin", ROLE_ADMIN, now)
    m = len(toks)

    def gets(n):
        g = store.get
        for i in range(n):
            g(toks[i % m], now)

    def touches(n):
        t = store.touch
        for i in range(n):
            t(toks[i % m], now)

    return {
        "get_us": us_per_op(gets, 20000),
        "touch_us": us_per_op(touches, 20000),
        "get_bytes": mem_alloc_delta(gets, 2000),
    }


def ram_per_session(n, data_bytes):
    gc.collect()
    f0 = gc.mem_free()
    ring = SessionRing(slots=n, data_bytes=data_bytes)
    gc.collect()
    ring_bytes = f0 - gc.mem_free()
    del ring
    gc.collect()
    f0 = gc.mem_free()
    store = DictStore()
    for i in range(n):
        s = store.create("%027d" % i, "admin", ROLE_ADMIN, i)
        s.data["lang"] = "en"
    gc.collect()
    dict_bytes = f0 - gc.mem_free()
    return {"ring_per_slot": ring_bytes / n, "dict_per_session": dict_bytes / n}


def main():
    res = {"impl": sys.implementation.name, "sizes": {}}
    for slots in (8, 64, 1024):
        res["sizes"][str(slots)] = {"ring": bench_ring(slots), "dict": bench_dict(slots)}
    res["ram"] = ram_per_session(1024, 64)
    res["ram0"] = ram_per_session(1024, 0)
    print(json.dumps(res))


main()
