# One connection: its preallocated slot, and the loop that serves requests on it until it
# should close. The pool (pool.py) decides who gets a slot and enforces the timeouts by
# cancelling the connection's task; this module reads, parses, routes, calls the handler and
# writes the answer (response.py has the wire format).
import asyncio
import gc

from micropython import const

from .request import Request
from .response import CONTINUE, HTML_LINE, Response, conn_mode, head, put, send
from .session import RingFull

# what a slot is doing (pool.py reads them for eviction and timeouts)
FREE = const(0)
IDLE = const(1)  # waiting for the first byte of a request (evictable; keepalive_ms)
READ = const(2)  # reading a request (request_timeout_ms, then 408)
BUSY = const(3)  # in the handler (no timeout)
WRITE = const(4)  # sending an answer (write_timeout_ms, then close)

# why a connection's task was cancelled
TIMEOUT = const(1)
EVICTED = const(2)
CLOSING = const(3)


async def _coro():
    pass


_c = _coro()
_AWAITABLE = type(_c)  # what calling an `async def` handler returns
_c.close()
del _c


class Slot:
    # One connection slot, preallocated: the request buffer, a reusable Request and view.
    def __init__(self, size, limits, binding, view):
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.req = Request(self.buf, limits, binding, view)
        self.owner = 0  # id of the connection task using the slot, 0 when free
        self.task = None
        self.state = FREE
        self.since = 0  # ticks_ms when the current state began
        self.why = 0  # why the task was cancelled
        self.served = 0  # answers sent on the current connection
        self.born = 0  # ticks_ms when the current connection took the slot
        self.key = None  # the client's address without its port


def failed(pool, req, e):
    # A handler (or its answer) raised: undo its session changes, count it, tell the hook,
    # pick 503 (out of memory, no room for a session) or 500.
    srv = pool.srv
    pool.bind.undo(req)
    srv.errors += 1
    h = srv.on_error
    if h is not None:
        try:
            h(req, e)
        except Exception:  # noqa: BLE001 - a broken hook must not break the server
            pass
    if isinstance(e, (MemoryError, RingFull)):
        gc.collect()
        return 503
    return 500


async def serve(pool, c, reader, writer):
    # Serve requests on one connection until it should close. Everything per request runs
    # inline here: this coroutine's frame is allocated once per connection, while every call
    # of a function with many locals would allocate one per request on MicroPython.
    srv = pool.srv
    wire = pool.wire
    bind = pool.bind
    buf = c.buf
    mv = c.mv
    size = len(buf)
    req = c.req
    ck = srv.clock
    ri = reader.readinto
    routes = srv.routes
    out = wire.out
    omv = wire.mv
    max_line = srv.max_request_line
    max_head = srv.max_head
    have = 0
    while True:
        req.reset()
        c.state = READ if have else IDLE
        c.since = ck.ticks_ms()
        end = buf.find(b"\r\n\r\n", 0, have)
        while end < 0:
            rl = buf.find(b"\r\n", 0, have)
            if rl > max_line or rl < 0 and have > max_line:
                return await refuse(pool, c, reader, writer, 414)
            if have >= max_head or have >= size:
                return await refuse(pool, c, reader, writer, 431)
            n = await ri(mv[have:] if have else mv)
            if n is None:
                continue
            if not n:
                return
            if c.state == IDLE:
                c.state = READ
                c.since = ck.ticks_ms()
            end = buf.find(b"\r\n\r\n", have - 3 if have > 3 else 0, have + n)
            have += n
        if end + 4 > max_head:
            return await refuse(pool, c, reader, writer, 431)
        status = req.parse(end)
        if status:
            return await refuse(pool, c, reader, writer, status)
        used = end + 4
        n = req.length
        if n > 0:
            if n > srv.max_body:
                return await refuse(pool, c, reader, writer, 413)
            if req.expect and have < used + n:
                writer.write(CONTINUE)
                await writer.drain()
            if used + n <= size:
                while have < used + n:
                    k = await ri(mv[have:])
                    if not k:
                        return
                    if k > 0:
                        have += k
                req.body = bytes(mv[used : used + n])
                used += n
            else:
                req.body = await _long_body(ri, mv[used:have], n)
                if req.body is None:
                    return
                used = have
        # route and call the handler
        c.state = BUSY
        srv.requests += 1
        keep = req.keep and not srv.closing
        r = None
        extra = None
        status = 200
        route = routes.get(req.path)
        m = req.method
        if route is None:
            status = 404
        elif m not in route[1] and not (m == "HEAD" and "GET" in route[1]):
            status = 204 if m == "OPTIONS" else 405
            extra = route[2]
        elif req.body and not req.decode_json():
            status = 400
        else:
            try:
                if bind.store is not None:
                    bind.find(req)
                r = route[0](req)
                if type(r) is _AWAITABLE:
                    r = await r
                if req.session is not None:
                    bind.finish(req)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - a failing handler ends its connection
                status = failed(pool, req, e)
                r = None
                keep = False
        # answer: bytes or str with nothing else to say go out on the fast path
        if status == 200 and req.cookies_out is None and (type(r) is bytes or type(r) is str):
            if type(r) is str:
                r = r.encode()
            p = head(out, 200, HTML_LINE, len(r), conn_mode(keep, req.minor))
            p = put(out, p, b"\r\n")
            send(writer, out, p, b"" if m == "HEAD" else r, omv)
        else:
            try:
                if status == 200 and req.cookies_out is None and _plain(r, len(out)):
                    # a Response with nothing of its own beyond its kind's encoded lines
                    b = r.body
                    if type(b) is str:
                        b = b.encode()
                    p = head(
                        out,
                        r.status,
                        wire.ctype(r.content_type),
                        len(b),
                        conn_mode(keep, req.minor),
                    )
                    if r.lines:
                        p = put(out, p, r.lines)
                    p = put(out, p, b"\r\n")
                    send(writer, out, p, b"" if m == "HEAD" else b, omv)
                else:
                    wire.answer(writer, req, status, r, keep, extra)
            except MemoryError:
                raise
            except Exception as e:  # noqa: BLE001 - an answer that cannot be sent: 500
                failed(pool, req, e)
                wire.answer(writer, req, 500, None, False)
                keep = False
        c.state = WRITE
        c.since = ck.ticks_ms()
        await writer.drain()
        bind.delivered(req)  # its token is on its way: a later failure must not revoke it
        c.served += 1
        if not keep:
            return
        if have > used:  # pipelined bytes of the next request move to the front
            buf[0 : have - used] = mv[used:have]
            have -= used
        else:
            have = 0


def _plain(r, room):
    # r is a Response the request loop can write itself (Wire.answer's work, without its
    # frame on the heap): no header dict, no cookies, a status with a body and a type, and its
    # encoded lines and type fit the scratch buffer with the status line and framing headers.
    return (
        isinstance(r, Response)
        and r._h is None
        and r.cookies is None
        and r.content_type
        and 200 <= r.status
        and r.status != 204
        and r.status != 304
        and (len(r.lines) if r.lines else 0) + len(r.content_type) + 200 <= room
    )


async def _long_body(ri, got, n):
    # A body that does not fit the connection's buffer gets its own bytearray.
    body = bytearray(n)
    k = len(got)
    body[:k] = got
    bmv = memoryview(body)
    while k < n:
        d = await ri(bmv[k:])
        if not d:
            return None
        if d > 0:
            k += d
    return bytes(body)


async def refuse(pool, c, reader, writer, status):
    # Answer a request the server refuses (framing may be lost: close afterwards).
    c.state = WRITE
    c.since = pool.srv.clock.ticks_ms()
    pool.wire.answer(writer, c.req, status, None, False)
    await writer.drain()
    await linger(reader, c.mv, pool.srv.linger_ms)


async def linger(reader, mv, ms):
    # Read and drop what the client is still sending, until it pauses for ms, before closing:
    # closing a socket with unread input resets the connection, and the client may then lose
    # the answer it was just sent. At most 16 reads, so a client that keeps sending cannot
    # hold the slot.
    for _ in range(16):
        try:
            n = await asyncio.wait_for_ms(reader.readinto(mv), ms)
        except Exception:  # noqa: BLE001 - timeout, reset: done either way
            return
        if not n:
            return
