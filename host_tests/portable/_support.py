# Helpers shared by portable tests (run on CPython and the MicroPython unix port).
import sys

import micropython

IS_MICROPYTHON = sys.implementation.name == "micropython"


class FakeClock:
    # An injectable ticks clock with a board's wrap period (2**30 ms by default).
    def __init__(self, start=0, period=1 << 30):
        self.period = period
        self.t = start % period

    def ticks_ms(self):
        return self.t

    def ticks_add(self, t, d):
        return (t + d) % self.period

    def ticks_diff(self, end, start):
        half = self.period // 2
        return ((end - start + half) % self.period) - half

    def advance(self, ms):
        # Move the clock on by ms. Readers must look at least once per half period, as they
        # would on a board, so tests step by less than that between reads.
        step = self.period // 4
        while ms > 0:
            d = min(ms, step)
            self.t = (self.t + d) % self.period
            ms -= d

    def advance_s(self, s):
        self.advance(int(s * 1000))


def no_alloc(f, *args):
    # Run f(*args) with the heap locked; on MicroPython any allocation raises MemoryError.
    # Returns f's result. On CPython the lock is a no-op and this only runs f. The call is
    # spelled out per argument count: f(*args) would itself allocate.
    n = len(args)
    a = args[0] if n > 0 else None
    b = args[1] if n > 1 else None
    c = args[2] if n > 2 else None
    # heap_lock() alone misses one kind of allocation: a function frame too big for the C
    # stack budget goes on the heap, and silently onto the C stack when the heap is locked.
    # The unix port's mem_total() counts every heap allocation, so check that it did not move.
    total = getattr(micropython, "mem_total", None)
    before = total() if total else 0
    micropython.heap_lock()
    try:
        if n == 0:
            result = f()
        elif n == 1:
            result = f(a)
        elif n == 2:
            result = f(a, b)
        else:
            result = f(a, b, c)
    except MemoryError:
        micropython.heap_unlock()
        raise AssertionError("%r allocated with the heap locked" % (f,)) from None
    micropython.heap_unlock()
    if total:
        grew = total() - before
        assert grew == 0, "%r allocated %d bytes (heap frames)" % (f, grew)
    return result


def raises(exc, f, *args):
    # The exception f(*args) raised, which must be an instance of exc.
    try:
        f(*args)
    except exc as e:
        return e
    raise AssertionError("%r did not raise %s" % (f, exc.__name__))
