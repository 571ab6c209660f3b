# Runs on the MicroPython unix port or CPython (with the shim): per-operation cost of the sealed
# store (create, open, re-seal) against the session ring's get measured in the same run, the
# sealed token's size, heap allocated per open, and the store's fixed RAM. Prints one JSON line.
import gc
import json
import sys
import time

import micropython

from sessionring.ring import ROLE_ADMIN, SessionRing
from sessionring.sealed import SealedStore

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


def main():
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


main()
