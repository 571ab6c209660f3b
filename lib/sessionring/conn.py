# One connection: its light record (Conn, what an open connection holds while it waits for its
# next request), the work slots a connection borrows while it is served (Work: the request
# buffer, a reusable Request and session view, the answer scratch), and the request loop that
# serves a connection with a work slot until it has nothing more to say. The pool (pool.py)
# decides who gets a record and a work slot and enforces the timeouts by cancelling a
# connection's task; this module reads, parses, routes, calls the handler and writes the answer
# (response.py has the wire format).
import asyncio
import gc

from micropython import const

from . import sockio
from .request import Request
from .response import CONTINUE, fast_answer
from .session import StoreFull
from .sockio import readable, write_all

# what a connection is doing (pool.py reads them for eviction and timeouts)
FREE = const(0)
IDLE = const(1)  # parked until its socket is readable: no work slot (keepalive_ms)
READ = const(2)  # has a work slot, waits for the rest of a request (request_timeout_ms, 408)
BUSY = const(3)  # in the handler (no timeout)
WRITE = const(4)  # has a work slot, sends an answer (write_timeout_ms, then close)
WAIT = const(5)  # bytes have come, waits for a work slot (request_timeout_ms, then 503)

# why a connection's task was cancelled
TIMEOUT = const(1)
EVICTED = const(2)
CLOSING = const(3)
STALLED = const(4)  # held a work slot waiting on its peer while another connection waited

# what serve() tells the connection to do next
KEEP = const(0)  # park until readable
CLOSE = const(1)
LINGER = const(2)  # drop what the client still sends, then close


async def _coro():
    pass


_c = _coro()
_AWAITABLE = type(_c)  # what calling an `async def` handler returns
_c.close()
del _c


class Conn:
    # One open connection's record, preallocated (max_conns of them). No buffer: a
    # connection between requests holds this, its socket and its parked task, which awaits the
    # record itself until the socket is readable (`await c.on(s)`: sockio.park_*).
    on = sockio.park_on
    if sockio.park_next is not None:  # (MicroPython: the record is the awaitable)
        __iter__ = sockio.park_iter
        __next__ = sockio.park_next

    def __init__(self):
        self.owner = 0  # id of the connection task using the record, 0 when free (-1: held
        # by the accept loop for a task not yet started)
        self.sock = None
        self.key = None  # the client's address without its port: who the fair share counts,
        # and Request.client_raw
        self.task = None
        self.state = FREE
        self.since = 0  # ticks_ms when the current state began
        self.born = 0  # ticks_ms when the connection took the record
        self.why = 0  # why the task was cancelled
        self.served = 0  # answers sent on this connection
        self.work = None  # the work slot lent to it, while it is served
        self.ev = None  # set when a work slot is lent to it (made when it first has to wait)
        self.armed = False  # parked and waiting (sockio.park_next)
        self.tls = False  # a TLS socket: read until it would block before parking
        self.first = -1  # TLS: the byte its handshake read, to go first into the buffer


class Work:
    # One work slot, preallocated (work_slots of them), lent to a connection while it is
    # served: the request buffer, a reusable Request and session view, the answer scratch.
    def __init__(self, size, out_size, limits, binding, view):
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.hmv = self.mv[: min(limits.max_head, size)]  # where a head is read: max_head
        self.out = bytearray(out_size if out_size > 256 else 256)
        self.head = self.out  # what the answer's head was written into (out, or a bigger
        # buffer of its own), and its body when that did not fit after the head
        self.body = None
        self.req = Request(self.buf, limits, binding, view)
        self.conn = None  # the connection record it is lent to
        self.me = 0  # the id of that connection's task (0: free)


def failed(pool, req, e):
    # A handler (or its answer) raised: undo its session changes, count it, tell the hook,
    # pick 503 (out of memory, no room for a session) or 500.
    pool.bind.undo(req)
    pool.count.errors += 1
    h = pool.app.on_error
    if h is not None:
        try:
            h(req, e)
        except Exception:  # noqa: BLE001 - a broken hook must not break the server
            pass
    if isinstance(e, (MemoryError, StoreFull)):
        gc.collect()
        return 503
    return 500


async def serve(pool, c, w):
    # Serve requests on connection c with work slot w until nothing more has come (KEEP: the
    # connection parks and gives w back), or the connection should end (CLOSE, LINGER).
    # Everything per request runs inline: this coroutine's frame is allocated once per wake,
    # and the common answer goes out with one write() and no further coroutine.
    # (few locals: the frame is allocated at every wake; what is read once per request is
    # read from the pool and the work slot where it is used)
    bind = pool.bind
    s = c.sock
    buf = w.buf
    mv = w.mv
    req = w.req
    max_head = len(w.hmv)
    have = 0
    if c.first >= 0:  # TLS: the byte the handshake read
        buf[0] = c.first
        c.first = -1
        have = 1
    req.client_raw = c.key
    try:
        while True:
            req.reset()
            c.state = READ
            c.since = pool.clock.ticks_ms()
            # a head is looked for, and read, within max_head bytes: one check of its size
            end = buf.find(b"\r\n\r\n", 0, have if have < max_head else max_head) if have else -1
            while end < 0:
                k = buf.find(b"\r\n", 0, have)
                n = pool.lim.max_request_line
                if k > n or k < 0 and have > n:
                    return await refuse(pool, c, w, 414)
                if have >= max_head:
                    return await refuse(pool, c, w, 431)
                n = s.readinto(w.hmv[have:] if have else w.hmv)
                if n is None:
                    if not have:
                        return KEEP  # nothing more for now: park
                    await readable(s)
                    continue
                if not n:
                    return CLOSE
                end = buf.find(b"\r\n\r\n", have - 3 if have > 3 else 0, have + n)
                have += n
            status = req.parse(end)
            if status:
                return await refuse(pool, c, w, status)
            used = end + 4
            n = req.length
            if n > 0:
                if n > pool.lim.max_body:
                    return await refuse(pool, c, w, 413)
                if req.expect and have < used + n:
                    await write_all(s, CONTINUE, 0, len(CONTINUE))
                if used + n <= len(buf):
                    if have < used + n:
                        have = await read_to(s, mv, have, used + n)
                        if have < 0:
                            return CLOSE
                    req.body = bytes(mv[used : used + n])
                    used += n
                else:
                    req.body = await _long_body(s, mv[used:have], n)
                    if req.body is None:
                        return CLOSE
                    used = have
            # route and call the handler
            c.state = BUSY
            pool.count.requests += 1
            keep = req.keep and not pool.closing
            r = None
            extra = None
            status = 200
            route = pool.app.routes.get(req.path)
            if route is None:
                status = 404
            elif req.method not in route[1] and not (req.method == "HEAD" and "GET" in route[1]):
                status = 204 if req.method == "OPTIONS" else 405
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
            # answer: the fast path (response.fast_answer) puts plain bodies and plain
            # Responses into the scratch; everything else goes through Wire.answer
            try:
                p = fast_answer(pool.wire, w, req, r, keep) if status == 200 else -1
                if p < 0:
                    p = pool.wire.answer(w, req, status, r, keep, extra)
            except MemoryError:
                raise
            except Exception as e:  # noqa: BLE001 - an answer that cannot be made: 500
                failed(pool, req, e)
                p = pool.wire.answer(w, req, 500, None, False)
                keep = False
            c.state = WRITE
            c.since = pool.clock.ticks_ms()
            k = s.write(w.head, 0, p)
            if k != p or w.body:
                await _send_rest(s, w.head, 0 if k is None else k, p, w.body)
            w.head = w.out
            w.body = None
            bind.delivered(req)  # its token is on its way: a later failure must not revoke it
            c.served += 1
            if not keep:
                return CLOSE
            if have > used:  # pipelined bytes of the next request move to the front
                buf[0 : have - used] = mv[used:have]
                have -= used
            else:
                have = 0
                if pool.wanting and not c.tls:
                    return KEEP  # others wait for a work slot: take turns
    except MemoryError:
        bind.undo(req)  # e.g. out of memory while writing the answer
        raise
    except asyncio.CancelledError:
        if (c.why == TIMEOUT or c.why == STALLED) and c.state == READ and have:
            p = pool.wire.answer(w, req, 408, None, False)
            try:
                s.write(w.head, 0, p)  # once, without waiting: the client has been too slow
            except Exception:  # noqa: BLE001
                pass
            return LINGER
        raise


async def _send_rest(s, out, k, p, body):
    # The rest of an answer the socket did not take at once, then its separate body.
    if k < p:
        await write_all(s, out, k, p)
    if body:
        await write_all(s, body, 0, len(body))


async def read_to(s, mv, have, want):
    # Read into mv from have until want bytes are in: have then, or -1 when the peer closed.
    while have < want:
        k = s.readinto(mv[have:])
        if k is None:
            await readable(s)
        elif not k:
            return -1
        else:
            have += k
    return have


async def _long_body(s, got, n):
    # A body that does not fit the work slot's buffer gets its own bytearray.
    body = bytearray(n)
    k = len(got)
    body[:k] = got
    if await read_to(s, memoryview(body), k, n) < 0:
        return None
    return bytes(body)


async def refuse(pool, c, w, status):
    # Answer a request the server refuses (framing may be lost: close after lingering).
    c.state = WRITE
    c.since = pool.clock.ticks_ms()
    p = pool.wire.answer(w, w.req, status, None, False)
    await write_all(c.sock, w.head, 0, p)
    w.head = w.out
    return LINGER


async def linger(s, drop, ms):
    # Read and drop what the client is still sending, until it pauses for ms, before closing:
    # closing a socket with unread input resets the connection, and the client may then lose
    # the answer it was just sent. At most 16 reads, so a client that keeps sending cannot
    # hold on. drop: a buffer whose contents nobody reads (shared by every connection).
    for _ in range(16):
        n = s.readinto(drop)
        if n is None:
            try:
                await asyncio.wait_for_ms(readable(s), ms)
            except Exception:  # noqa: BLE001 - timeout, reset: done either way
                return
            continue
        if not n:
            return
