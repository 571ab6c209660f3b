# Non-blocking sockets on the asyncio scheduler, without streams: wait until a socket can be
# read or written, then readinto()/write() it directly (both answer None when it would block).
# A connection that waits for its next request is parked on readable() alone: no stream, no
# buffer. MicroPython's scheduler polls the socket itself (its I/O queue, as its own streams
# do); on CPython lib/hostshim gives asyncio the same calls.
import asyncio

_q = getattr(getattr(asyncio, "core", None), "_io_queue", None)

if _q is not None:

    def readable(s):
        yield _q.queue_read(s)

    def writable(s):
        yield _q.queue_write(s)

    def adopt(s):
        # An accepted socket, ready for readinto()/write() without blocking.
        s.setblocking(False)
        return s

    # `await c.on(s)` parks the awaiting task until socket s is readable: a connection record
    # (conn.Conn) has these three as its methods, so waiting allocates no coroutine and a parked
    # connection holds less. (Plain functions, not a base class: attribute stores on an instance
    # look through its class and every base, at every request.)
    def park_on(self, s):
        self.sock = s
        self.armed = False  # (a wait cancelled while armed must not end the next one)
        return self

    def park_iter(self):
        return self

    def park_next(self):
        if self.armed:
            self.armed = False
            raise StopIteration
        self.armed = True
        _q.queue_read(self.sock)  # the scheduler resumes this task when it is readable

else:
    readable = asyncio.readable
    writable = asyncio.writable

    def adopt(s):
        s.setblocking(False)
        return asyncio.rawsock(s)

    def park_on(self, s):
        self.sock = s
        return readable(s)

    park_iter = park_next = None


async def write_all(s, buf, off, end):
    # Write buf[off:end], waiting while the peer's window is full. The caller has already
    # tried once without waiting (the common case needs no coroutine).
    while off < end:
        n = s.write(buf, off, end - off)
        if n is None:
            await writable(s)
        else:
            off += n
