# CPython stand-in for MicroPython's `micropython` module (host only, never on a board).
# Importing it also completes CPython's `time` with the ticks_* API, so that library code can
# be written once against MicroPython.
import time as _time


def const(x):
    return x


# Allocation is not observable on CPython in the same way; these keep the API and the nesting
# count so code that pairs lock/unlock behaves the same.
_lock_depth = 0


def heap_lock():
    global _lock_depth
    _lock_depth += 1
    return _lock_depth - 1


def heap_unlock():
    global _lock_depth
    if _lock_depth:
        _lock_depth -= 1
    return _lock_depth


def heap_locked():
    return _lock_depth


def alloc_emergency_exception_buf(size):
    pass


def opt_level(level=None):
    return 0 if level is None else None


def mem_info(verbose=False):
    print("mem: (not available on CPython)")


def qstr_info(verbose=False):
    pass


def schedule(func, arg):
    func(arg)


# No native, viper or asm_thumb here: library code that uses them must detect their absence
# (an import that fails) and fall back to plain Python, as it would on a board built without a
# native emitter.


# -- time.ticks_* -----------------------------------------------------------------------------
# MicroPython ports wrap ticks at 2**30 (the unix port: 2**62). The shim uses the board period.
TICKS_PERIOD = 1 << 30
_TICKS_MAX = TICKS_PERIOD - 1
_TICKS_HALF = TICKS_PERIOD // 2


def ticks_ms():
    return int(_time.monotonic() * 1000) & _TICKS_MAX


def ticks_us():
    return int(_time.monotonic() * 1000000) & _TICKS_MAX


def ticks_cpu():
    return _time.perf_counter_ns() & _TICKS_MAX


def ticks_add(ticks, delta):
    return (ticks + delta) & _TICKS_MAX


def ticks_diff(end, start):
    return ((end - start + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF


def sleep_ms(ms):
    _time.sleep(ms / 1000)


def sleep_us(us):
    _time.sleep(us / 1000000)


for _name in (
    "ticks_ms",
    "ticks_us",
    "ticks_cpu",
    "ticks_add",
    "ticks_diff",
    "sleep_ms",
    "sleep_us",
):
    if not hasattr(_time, _name):
        setattr(_time, _name, globals()[_name])


# -- asyncio ----------------------------------------------------------------------------------
# MicroPython's asyncio has sleep_ms() and wait_for_ms(), and its streams read into a buffer
# (readinto) and copy what write() is given at once. CPython's streams read into new bytes and
# may keep a reference to a memoryview until it is sent; the library writes slices of buffers
# it reuses. These few lines give CPython the MicroPython behaviour, so that library code is
# written once.
def _complete_asyncio():
    import asyncio

    if not hasattr(asyncio, "sleep_ms"):
        asyncio.sleep_ms = lambda ms: asyncio.sleep(ms / 1000)
        asyncio.wait_for_ms = lambda aw, ms: asyncio.wait_for(aw, ms / 1000)

    sr = asyncio.StreamReader
    if not hasattr(sr, "readinto"):

        async def readinto(self, buf):
            data = await self.read(len(buf))
            n = len(data)
            buf[:n] = data
            return n

        sr.readinto = readinto
        sw = asyncio.StreamWriter
        write = sw.write

        def write_copy(self, data):
            write(self, bytes(data) if isinstance(data, (memoryview, bytearray)) else data)

        sw.write = write_copy


_complete_asyncio()


# -- raw sockets on the scheduler ---------------------------------------------------------------
# The server (lib/sessionring/sockio.py) waits on its non-blocking sockets through MicroPython's
# scheduler (asyncio.core._io_queue) and reads and writes them with readinto/write, which answer
# None instead of raising when the socket would block. CPython gets the same three things here:
# asyncio.readable(s) / asyncio.writable(s) (awaitables, through the loop's add_reader/add_writer)
# and asyncio.rawsock(s), a socket with MicroPython's readinto/write.
def _complete_rawsock():
    import asyncio
    import ssl

    _again = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)

    class RawSock:
        __slots__ = ("s",)

        def __init__(self, s):
            self.s = s

        def readinto(self, buf, n=0):
            try:
                return self.s.recv_into(buf, n)
            except _again:
                return None

        def write(self, buf, a=None, b=None):
            # write(buf), write(buf, max_len) or write(buf, offset, max_len), as MicroPython's
            if a is not None:
                buf = memoryview(buf)[a : a + b] if b is not None else memoryview(buf)[:a]
            try:
                return self.s.send(buf)
            except _again:
                return None

        def fileno(self):
            return self.s.fileno()

        def setsockopt(self, *a):
            return self.s.setsockopt(*a)

        def setblocking(self, flag):
            self.s.setblocking(flag)

        def close(self):
            self.s.close()

    def _waiter(add, remove):
        async def wait(s):
            loop = asyncio.get_running_loop()
            fut = loop.create_future()
            fd = s.fileno()
            add(loop, fd, fut)
            try:
                await fut
            finally:
                remove(loop, fd)

        return wait

    def _done(fut):
        if not fut.done():
            fut.set_result(None)

    asyncio.readable = _waiter(
        lambda loop, fd, fut: loop.add_reader(fd, _done, fut),
        lambda loop, fd: loop.remove_reader(fd),
    )
    asyncio.writable = _waiter(
        lambda loop, fd, fut: loop.add_writer(fd, _done, fut),
        lambda loop, fd: loop.remove_writer(fd),
    )
    asyncio.rawsock = RawSock


_complete_rawsock()
