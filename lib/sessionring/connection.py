# Serving connections: the part of the Server (a mixin) that runs once per connection and
# once per request. Each connection takes a preallocated Slot; the per-request path runs inline
# in one coroutine per connection (see _requests), so that it allocates almost nothing.
import asyncio
import gc

from micropython import const

from .request import Request
from .response import digits, emit, put
from .ring import RingFull

_FREE = const(0)
_IDLE = const(1)  # waiting for the first byte of a request (evictable)
_READ = const(2)  # reading a request (READ_TIMEOUT_MS, then 408)
_BUSY = const(3)  # in the handler (no timeout)
_WRITE = const(4)  # sending a response (READ_TIMEOUT_MS, then close)

_TIMEOUT = const(1)
_EVICTED = const(2)
_CLOSING = const(3)

_E503 = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\nService Unavailable\n"
)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_OK_HTML = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "


async def _coro():
    pass


_c = _coro()
_AWAITABLE = type(_c)  # what calling an `async def` handler returns
_c.close()
del _c


def _wait_ms(aw, ms):
    if hasattr(asyncio, "wait_for_ms"):
        return asyncio.wait_for_ms(aw, ms)
    return asyncio.wait_for(aw, ms / 1000)


class Slot:
    # One connection slot, preallocated.
    def __init__(self, srv, size, view):
        self.buf = bytearray(size)
        self.mv = memoryview(self.buf)
        self.req = Request(srv, self.buf, view)
        self.owner = 0  # id of the connection task using the slot, 0 when free
        self.task = None
        self.state = _FREE
        self.since = 0  # ticks_ms when the current state began
        self.why = 0  # why the task was cancelled
        self.served = 0  # responses sent on the current connection


class Connections:
    def stats(self):
        # Counters and the connections open now, for an admin page or a test.
        n = [0, 0, 0, 0, 0]
        for c in self._conns:
            if c.owner:
                n[c.state] += 1
        return {
            "open": n[_IDLE] + n[_READ] + n[_BUSY] + n[_WRITE],
            "idle": n[_IDLE],
            "reading": n[_READ],
            "busy": n[_BUSY],
            "writing": n[_WRITE],
            "max_conns": self.MAX_CONNS,
            "requests": self.requests,
            "evicted": self.evicted,
            "refused": self.refused,
            "timeouts": self.timeouts,
            "errors": self.errors,
        }

    def check_timeouts(self):
        # Cancel connections past their deadline; returns how many. The watchdog calls this
        # a few times per timeout; tests with an injected clock may call it directly.
        ck = self._clock
        now = ck.ticks_ms()
        n = 0
        for c in self._conns:
            s = c.state
            if s == _IDLE:
                lim = self.IDLE_TIMEOUT_MS
            elif s == _READ or s == _WRITE:
                lim = self.READ_TIMEOUT_MS
            else:
                continue
            if c.why == 0 and ck.ticks_diff(now, c.since) >= lim:
                c.why = _TIMEOUT
                c.task.cancel()
                self.timeouts += 1
                n += 1
        if self.ring is not None:
            self.ring.now()  # keeps the ring's clock stepping across the ticks wrap
        return n

    def _take(self):
        # A free slot, else the slot of the longest-idle connection, which is closed for it: a
        # keep-alive connection between requests, or one that has sent nothing for
        # FRESH_IDLE_MS (so a burst of new connections does not close each other before they
        # are read). None when every connection is busy.
        old = None
        ck = self._clock
        now = ck.ticks_ms()
        for c in self._conns:
            if c.owner == 0:
                return c
            if c.state == _IDLE and c.why == 0:
                if c.served or ck.ticks_diff(now, c.since) >= self.FRESH_IDLE_MS:
                    if old is None or ck.ticks_diff(c.since, old.since) < 0:
                        old = c
        if old is not None:
            old.why = _EVICTED
            old.task.cancel()
            self.evicted += 1
        return old

    # -- one connection -------------------------------------------------------------------------
    async def _conn(self, reader, writer, addr=None):
        # One connection, start to end. Nothing that goes wrong here reaches the accept loop,
        # and the slot and the socket are always given back.
        c = None
        me = 0
        try:
            c = None if self._closing else self._take()
            if c is None and not self._closing and self._waiting < self.BACKLOG:
                # every slot is busy: wait a little for one (polling; the overload path)
                self._waiting += 1
                try:
                    for _ in range(self.READ_TIMEOUT_MS // 20):
                        await asyncio.sleep(0.02)
                        c = None if self._closing else self._take()
                        if c is not None:
                            break
                finally:
                    self._waiting -= 1
            if c is None:
                self.refused += 1
                writer.write(_E503)
                await writer.drain()
                await self._linger(reader, memoryview(bytearray(128)))
                return
            self._nid = self._nid + 1 & 0x3FFFFFFF or 1
            me = self._nid
            c.owner = me
            c.why = 0
            c.served = 0
            c.state = _IDLE
            c.since = self._clock.ticks_ms()
            c.task = asyncio.current_task()
            c.req.client_raw = addr if addr is not None else writer.get_extra_info("peername")
            await self._requests(c, reader, writer)
        except asyncio.CancelledError:
            if c is not None and c.owner == me and c.why == _TIMEOUT and c.state == _READ:
                try:
                    emit(self, writer, c.req, 408, None, False)
                    await writer.drain()
                    await self._linger(reader, c.mv)
                except Exception:  # noqa: BLE001
                    pass
        except MemoryError:
            gc.collect()
            try:
                writer.write(_E503)
            except Exception:  # noqa: BLE001
                pass
        except Exception:  # noqa: BLE001 - a reset or broken connection ends only itself
            pass
        finally:
            if c is not None and c.owner == me:
                c.owner = 0
                c.state = _FREE
                c.task = None
                c.req.reset()
            await self._close(writer)

    async def _close(self, writer):
        try:
            writer.close()
            if getattr(writer, "transport", None) is None:
                await writer.wait_closed()  # MicroPython: this closes the socket
        except Exception:  # noqa: BLE001
            pass

    async def _requests(self, c, reader, writer):
        # Serve requests on one connection until it should close. Everything per request runs
        # inline here: this coroutine's frame is allocated once per connection, while every
        # call of a function with many locals would allocate one per request on MicroPython.
        buf = c.buf
        mv = c.mv
        size = len(buf)
        req = c.req
        ck = self._clock
        ri = getattr(reader, "readinto", None)  # MicroPython; CPython reads and copies
        direct = ri is not None  # MicroPython's write() sends or copies at once
        routes = self._routes
        out = self._out
        have = 0
        while True:
            req.reset()
            c.state = _READ if have else _IDLE
            c.since = ck.ticks_ms()
            end = buf.find(b"\r\n\r\n", 0, have)
            while end < 0:
                rl = buf.find(b"\r\n", 0, have)
                if rl > self.MAX_REQUEST_LINE or rl < 0 and have > self.MAX_REQUEST_LINE:
                    return await self._fail(c, reader, writer, 414)
                if have >= self.MAX_HEAD or have >= size:
                    return await self._fail(c, reader, writer, 431)
                if ri is not None:
                    n = await ri(mv[have:] if have else mv)
                    if n is None:
                        continue
                else:
                    d = await reader.read(size - have)
                    n = len(d)
                    mv[have : have + n] = d
                if not n:
                    return
                if c.state == _IDLE:
                    c.state = _READ
                    c.since = ck.ticks_ms()
                end = buf.find(b"\r\n\r\n", have - 3 if have > 3 else 0, have + n)
                have += n
            if end + 4 > self.MAX_HEAD:
                return await self._fail(c, reader, writer, 431)
            status = req.parse(end)
            if status:
                return await self._fail(c, reader, writer, status)
            used = end + 4
            n = req.length
            if n > 0:
                if n > self.MAX_BODY:
                    return await self._fail(c, reader, writer, 413)
                if req.expect and have < used + n:
                    writer.write(_CONTINUE)
                    await writer.drain()
                if used + n <= size:
                    while have < used + n:
                        if ri is not None:
                            k = await ri(mv[have:])
                        else:
                            d = await reader.read(size - have)
                            k = len(d)
                            mv[have : have + k] = d
                        if not k:
                            return
                        if k > 0:
                            have += k
                    req.body = bytes(mv[used : used + n])
                    used += n
                else:
                    req.body = await self._long_body(reader, ri, mv[used:have], n)
                    if req.body is None:
                        return
                    used = have
            # route and call the handler
            c.state = _BUSY
            self.requests += 1
            keep = req.keep and not self._closing
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
                    if self.ring is not None:
                        req.find_session()
                    r = route[0](req)
                    if type(r) is _AWAITABLE:
                        r = await r
                except asyncio.CancelledError:
                    raise
                except Exception as e:  # noqa: BLE001 - a failing handler ends its connection
                    status = self._failed(req, e)
                    r = None
                    keep = False
            # answer: bytes or str with nothing else to say go out on a fast path
            if status == 200 and req._cookies_out is None and (type(r) is bytes or type(r) is str):
                if type(r) is str:
                    r = r.encode()
                p = put(out, 0, _OK_HTML)
                p = digits(out, p, len(r))
                if not keep:
                    p = put(out, p, b"\r\nConnection: close")
                elif req.minor == 0:
                    p = put(out, p, b"\r\nConnection: keep-alive")
                p = put(out, p, b"\r\n\r\n")
                if m == "HEAD":
                    r = b""
                if p + len(r) <= len(out):
                    p = put(out, p, r)
                    r = b""
                writer.write(self._omv[:p] if direct else bytes(out[:p]))
                if r:
                    writer.write(r)
            else:
                try:
                    emit(self, writer, req, status, r, keep, extra)
                except MemoryError:
                    raise
                except Exception as e:  # noqa: BLE001 - an answer that cannot be sent: 500
                    self._failed(req, e)
                    emit(self, writer, req, 500, None, False)
                    keep = False
            c.state = _WRITE
            c.since = ck.ticks_ms()
            await writer.drain()
            c.served += 1
            if not keep:
                return
            if have > used:  # pipelined bytes of the next request move to the front
                buf[0 : have - used] = mv[used:have]
                have -= used
            else:
                have = 0

    async def _long_body(self, reader, ri, got, n):
        # A body that does not fit the connection's buffer gets its own bytearray.
        body = bytearray(n)
        k = len(got)
        body[:k] = got
        bmv = memoryview(body)
        while k < n:
            if ri is not None:
                d = await ri(bmv[k:])
            else:
                b = await reader.read(n - k)
                d = len(b)
                bmv[k : k + d] = b
            if not d:
                return None
            if d > 0:
                k += d
        return bytes(body)

    def _failed(self, req, e):
        # A handler (or its answer) raised: count it, tell the hook, pick 503 or 500.
        self.errors += 1
        h = self.on_error
        if h is not None:
            try:
                h(req, e)
            except Exception:  # noqa: BLE001 - a broken hook must not break the server
                pass
        if isinstance(e, (MemoryError, RingFull)):
            gc.collect()
            return 503
        return 500

    async def _fail(self, c, reader, writer, status):
        # Answer a request the server refuses (framing may be lost: close afterwards).
        c.state = _WRITE
        c.since = self._clock.ticks_ms()
        emit(self, writer, c.req, status, None, False)
        await writer.drain()
        await self._linger(reader, c.mv)

    async def _linger(self, reader, mv):
        # Read and drop what the client is still sending, until it pauses for LINGER_MS, before
        # closing: closing a socket with unread input resets the connection, and the client
        # may then lose the answer it was just sent. At most 16 reads, so a client that keeps
        # sending cannot hold the slot.
        ri = getattr(reader, "readinto", None)
        for _ in range(16):
            try:
                if ri is not None:
                    n = await _wait_ms(ri(mv), self.LINGER_MS)
                else:
                    n = len(await _wait_ms(reader.read(len(mv)), self.LINGER_MS))
            except Exception:  # noqa: BLE001 - timeout, reset: done either way
                return
            if not n:
                return

    def _end_all(self):
        # close(): every open connection is cancelled; returns True while some are still open
        busy = False
        for c in self._conns:
            if c.owner:
                busy = True
                if c.why == 0:
                    c.why = _CLOSING
                    c.task.cancel()
        return busy
