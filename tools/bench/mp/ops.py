# Runs on the MicroPython unix port or CPython (with the shim); prints one JSON object.
#   ring:   per-operation cost of the session ring and of a plain dict-of-objects session store
#           (the baseline), and RAM per session for both;
#   sealed: per-operation cost of the sealed store (create, open, re-seal) against the ring's
#           get measured in the same run, the sealed token's size, heap allocated per open, and
#           the store's fixed RAM.
# Usage: micropython ops.py ring|sealed
import gc
import json
import sys
import time

import micropython

from sessionring.ring import SessionRing
from sessionring.sealed import SealedStore
from sessionring.session import ROLE_ADMIN

REPEAT = 3
T0 = 1800000000
KEY = bytes(range(32))


class Wall:
    def __init__(self):
        self.t = T0

    def time(self):
        return self.t

    def gmtime(self, secs=0):
        return (1970, 1, 1, 0, 0, 0, 3, 1)


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


def alloc_per_op(f, n):
    if not hasattr(micropython, "mem_total"):
        return None
    gc.collect()
    before = micropython.mem_total()
    f(0)
    fixed = micropython.mem_total() - before
    before = micropython.mem_total()
    f(n)
    return (micropython.mem_total() - before - fixed) / n


def fixed_ram(make):
    if not hasattr(gc, "mem_free"):
        return None  # CPython
    gc.collect()
    f0 = gc.mem_free()
    obj = make()
    gc.collect()
    used = f0 - gc.mem_free()
    del obj
    return used


def session_data(s):
    # what the admin firmware keeps in a session: a CSRF token
    s["csrf"] = "x" * 32


def bench_sealed(compress):
    wall = Wall()
    st = SealedStore(keys=[KEY], clock=wall, compress=compress, absolute_s=0)
    if compress and not st.compress:
        return None  # this runtime cannot deflate
    s = st.create("admin", ROLE_ADMIN)
    session_data(s)
    tok = st.pending(s)
    view = st.view()

    def opens(n):
        g = st.get
        for _ in range(n):
            g(tok, view)

    def creates(n):
        c = st.create
        for _ in range(n):
            c("admin", ROLE_ADMIN)

    def reseals(n):
        # what a request past half the idle timeout costs on top of the open
        for _ in range(n):
            wall.t += st.idle_s // 2
            st.touch(view)
            st.pending(view)

    out = {
        "open_us": us_per_op(opens, 500),
        "create_us": us_per_op(creates, 500),
        "open_bytes": alloc_per_op(opens, 100),
        "token_len": len(tok),
        "empty_len": len(st.create("admin", ROLE_ADMIN).token),
    }
    st.get(tok, view)
    out["reseal_us"] = us_per_op(reseals, 500)
    return out


def main_sealed():

    res = {"impl": sys.implementation.name}
    ring = SessionRing(slots=16, data_bytes=64, per_user=0)
    r = ring.create("admin", ROLE_ADMIN)
    session_data(r)
    rtok = r.token
    rview = ring.view()

    def ring_gets(n):
        g = ring.get
        for _ in range(n):
            g(rtok, rview)

    res["ring_get_us"] = us_per_op(ring_gets, 5000)

    res["p"] = bench_sealed(False)
    res["z"] = bench_sealed(True)
    res["sealed_ram"] = fixed_ram(lambda: SealedStore(keys=[KEY], clock=Wall()))
    res["ring_ram_16"] = fixed_ram(lambda: SessionRing(slots=16, data_bytes=64))
    print(json.dumps(res))


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
        "get_bytes": alloc_per_op(gets, 2000),
        "touch_bytes": alloc_per_op(touches, 2000),
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
        "get_bytes": alloc_per_op(gets, 2000),
    }


def dict_store(n):
    store = DictStore()
    for i in range(n):
        store.create("%027d" % i, "admin", ROLE_ADMIN, i).data["lang"] = "en"
    return store


def ram_per_session(n, data_bytes):
    ring_bytes = fixed_ram(lambda: SessionRing(slots=n, data_bytes=data_bytes))
    return {
        "ring_per_slot": ring_bytes / n,
        "dict_per_session": fixed_ram(lambda: dict_store(n)) / n,
    }


def main_ring():
    res = {"impl": sys.implementation.name, "sizes": {}}
    for slots in (8, 64, 1024):
        res["sizes"][str(slots)] = {"ring": bench_ring(slots), "dict": bench_dict(slots)}
    res["ram"] = ram_per_session(1024, 64)
    res["ram0"] = ram_per_session(1024, 0)
    print(json.dumps(res))


if sys.argv[-1] == "sealed":
    main_sealed()
else:
    main_ring()
