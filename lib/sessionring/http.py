# A small asyncio HTTP/1.1 server for MicroPython boards (and CPython, for tests).
#
# Each connection takes one of MAX_CONNS preallocated slots: a BUF_SIZE bytearray the request
# is read into, a reusable Request and a reusable session view. The head is found with
# find(b"\r\n\r\n") and parsed in place (request.py). Responses are assembled in one shared
# scratch buffer and written with one write() and one drain(). A watchdog task enforces the
# read, write and idle timeouts by cancelling the connection's task.
#
# Hard limits are the class attributes below; override them on a subclass, on an instance, or
# as lower-case keyword arguments: Server(ring=r, max_conns=4, read_timeout_ms=2000).
import asyncio
import gc
import json
import os
import socket
import time

from micropython import const

from .request import Request
from .response import HTML, JSON, TEXT, Response
from .ring import RingFull

__all__ = ("Server", "Response")

_FREE = const(0)
_IDLE = const(1)  # waiting for the first byte of a request (evictable)
_READ = const(2)  # reading a request (READ_TIMEOUT_MS, then 408)
_BUSY = const(3)  # in the handler (no timeout)
_WRITE = const(4)  # sending a response (READ_TIMEOUT_MS, then close)

_TIMEOUT = const(1)
_EVICTED = const(2)
_CLOSING = const(3)

_REASONS = {
    100: b"Continue",
    200: b"OK",
    201: b"Created",
    202: b"Accepted",
    204: b"No Content",
    301: b"Moved Permanently",
    302: b"Found",
    303: b"See Other",
    304: b"Not Modified",
    307: b"Temporary Redirect",
    308: b"Permanent Redirect",
    400: b"Bad Request",
    401: b"Unauthorized",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    409: b"Conflict",
    411: b"Length Required",
    413: b"Content Too Large",
    414: b"URI Too Long",
    415: b"Unsupported Media Type",
    417: b"Expectation Failed",
    421: b"Misdirected Request",
    422: b"Unprocessable Content",
    429: b"Too Many Requests",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    503: b"Service Unavailable",
    505: b"HTTP Version Not Supported",
}

# Sent straight to a socket when no slot or no memory is left for anything better.
_E503 = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\nService Unavailable\n"
)
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_OK_HTML = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
_STR = (str,)
_BYTES = (bytes, bytearray, memoryview)
_JSONABLE = (dict, list)


async def _coro():
    pass


_c = _coro()
_AWAITABLE = type(_c)  # what calling an `async def` handler returns
_c.close()
del _c


def _readable(s):
    # MicroPython: wait until the listening socket can accept (its asyncio's own I/O queue).
    yield asyncio.core._io_queue.queue_read(s)


def _wait_ms(aw, ms):
    if hasattr(asyncio, "wait_for_ms"):
        return asyncio.wait_for_ms(aw, ms)
    return asyncio.wait_for(aw, ms / 1000)


def _put(out, p, b):
    n = p + len(b)
    out[p:n] = b
    return n


def _digits(out, p, v):
    # Decimal v into out at p without making a str.
    if v == 0:
        out[p] = 48
        return p + 1
    n = 0
    t = v
    while t:
        t //= 10
        n += 1
    e = p + n
    while v:
        e -= 1
        out[e] = 48 + v % 10
        v //= 10
    return p + n


def _client_key(a):
    # A client's address without its port: the host of a (host, port) tuple, or the raw
    # sockaddr (MicroPython unix port) without its two port bytes. None when unknown.
    if isinstance(a, tuple):
        return a[0]
    if isinstance(a, (bytes, bytearray)) and len(a) > 4:
        return bytes(a[:2]) + bytes(a[4:])
    return None


class _Conn:
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
        self.key = None  # the client's address without its port (MAX_PER_CLIENT)


class Server:
    MAX_REQUEST_LINE = 512  # bytes of "METHOD target HTTP/1.1" -> 414
    MAX_HEAD = 2048  # request line and headers -> 431
    MAX_HEADERS = 24  # header lines -> 431
    MAX_BODY = 2048  # Content-Length -> 413
    READ_TIMEOUT_MS = 5000  # to receive a whole request (408, then close) or send a response
    IDLE_TIMEOUT_MS = 15000  # an open connection with no request in progress is closed
    MAX_CONNS = 8  # open connections; the longest-idle one is closed to admit a new one
    MAX_PER_CLIENT = 0  # open connections one client address may hold (0: no limit); over it,
    # that client's own longest-idle connection is closed, else it waits like any other
    BACKLOG = 16  # listen() queue (asyncio's default of 5 drops connections in bursts)
    FRESH_IDLE_MS = 1000  # a new connection that sent nothing this long may be evicted
    LINGER_MS = 250  # after refusing a request, drop input until the client pauses this long
    BUF_SIZE = 2048  # per-connection request buffer (at least MAX_HEAD)
    OUT_SIZE = 1024  # shared response scratch: head and small bodies go out in one write
    COOKIE_NAME = "sid"
    BEARER = True  # accept "Authorization: Bearer <token>"
    TOKEN_PARAM = None  # name of a query/form parameter that may carry the token; None = off
    SECURE = False  # served over TLS: the cookie gets Secure and the __Host- prefix
    HOSTS = None  # host names a request's Host may carry (IP literals always may) -> 421;
    # None: any. Set it on a device on a LAN: it stops DNS rebinding (see docs/security.md)

    def __init__(self, ring=None, clock=None, **limits):
        self.ring = ring
        self._clock = clock if clock is not None else time
        for k, v in limits.items():
            name = k.upper()
            if not hasattr(Server, name) or name.startswith("_"):
                raise TypeError("unknown Server option %r" % k)
            setattr(self, name, v)
        self._routes = {}
        self._conns = ()
        self._ctypes = {}  # content type -> b"Content-Type: ...\r\n"
        self._out = None
        self._omv = None
        self._stop = None
        self._nid = 0
        self._parser = None  # request.py's head parser, made on first use
        self._hosts = None  # HOSTS as lower-case bytes, made by serve()
        self._waiting = 0  # connections waiting for a slot
        self._closing = False
        self.port = None
        self._direct = False  # MicroPython streams: write() sends or copies at once
        if not self.COOKIE_NAME:
            raise ValueError("COOKIE_NAME must not be empty")
        self._cookie_names()
        self.on_error = None  # hook(req, exc) called when a handler fails
        # counters
        self.requests = 0
        self.evicted = 0
        self.refused = 0
        self.timeouts = 0
        self.errors = 0

    def _cookie_names(self):
        # The session cookie's name, as str (for Set-Cookie) and bytes (to find it in requests)
        self.cookie_name = "__Host-" + self.COOKIE_NAME if self.SECURE else self.COOKIE_NAME
        self._cname = self.cookie_name.encode()

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

    # -- routes ----------------------------------------------------------------------------------
    def route(self, path, methods=("GET",)):
        def register(handler):
            ms = tuple(m.upper() for m in methods)
            allow = list(ms)
            if "GET" in ms and "HEAD" not in ms:
                allow.append("HEAD")
            if "OPTIONS" not in ms:
                allow.append("OPTIONS")
            self._routes[path] = (handler, ms, ("Allow: %s\r\n" % ", ".join(allow)).encode())
            return handler

        return register

    # -- running -------------------------------------------------------------------------------
    def run(self, host="0.0.0.0", port=80):
        asyncio.run(self.serve(host, port))

    def close(self):
        self._closing = True
        if self._stop is not None:
            self._stop.set()

    def _listen(self, host, port):
        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        s = socket.socket(ai[0], socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if port or hasattr(s, "getsockname"):
            s.bind(ai[-1])
        else:
            # no getsockname (MicroPython): try random high ports until one is free
            for i in range(64):
                r = os.urandom(2)
                port = 49152 + ((r[0] << 8 | r[1]) % 16384)
                try:
                    s.bind(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][-1])
                    break
                except OSError:
                    if i == 63:
                        raise
        s.listen(self.BACKLOG)
        s.setblocking(False)
        self.port = s.getsockname()[1] if hasattr(s, "getsockname") else port
        return s

    async def serve(self, host="0.0.0.0", port=80):
        # Serve until close() (or until this task is cancelled).
        ls = self._listen(host, port)
        self._cookie_names()  # COOKIE_NAME or SECURE may have been set since
        self._closing = False
        self._hosts = None if self.HOSTS is None else tuple(h.lower().encode() for h in self.HOSTS)
        self._stop = asyncio.Event()
        self._out = bytearray(self.OUT_SIZE if self.OUT_SIZE > 256 else 256)
        self._omv = memoryview(self._out)
        size = self.BUF_SIZE if self.BUF_SIZE > self.MAX_HEAD else self.MAX_HEAD
        view = None
        if self.ring is not None:
            from .ring import Session
        conns = []
        for _ in range(self.MAX_CONNS):
            if self.ring is not None:
                view = Session(self.ring)
            conns.append(_Conn(self, size, view))
        self._conns = conns
        watch = asyncio.create_task(self._watch())
        acc = None
        srv = None
        try:
            if getattr(getattr(asyncio, "core", None), "_io_queue", None) is not None:
                self._direct = True
                acc = asyncio.create_task(self._accept(ls))
            else:
                srv = await asyncio.start_server(self._conn, sock=ls, backlog=self.BACKLOG)
            await self._stop.wait()
        finally:
            self._closing = True
            watch.cancel()
            if acc is not None:
                acc.cancel()
            if srv is not None:
                srv.close()
            ls.close()
            for c in conns:
                if c.owner and c.why == 0:
                    c.why = _CLOSING
                    c.task.cancel()
            for _ in range(100):
                if not any(c.owner for c in conns):
                    break
                await asyncio.sleep(0)

    async def _accept(self, ls):
        # MicroPython's accept loop: survives a failed accept and running out of memory.
        while True:
            try:
                await _readable(ls)
                s, addr = ls.accept()
            except OSError:
                continue
            except MemoryError:
                gc.collect()
                await asyncio.sleep_ms(10)  # let the connections finish and free memory
                continue
            except Exception:  # noqa: BLE001 - nothing may end the accept loop
                await asyncio.sleep_ms(10)
                continue
            try:
                s.setblocking(False)
                try:
                    s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
                except OSError:
                    pass
                st = asyncio.StreamReader(s)  # one MicroPython Stream reads and writes
                asyncio.create_task(self._conn(st, st, addr))
            except MemoryError:
                s.close()
                gc.collect()
            except Exception:  # noqa: BLE001 - the accept loop outlives any one connection
                s.close()

    def _watch_ms(self):
        # How often the watchdog looks: a few times per timeout, at most once a second.
        t = self.READ_TIMEOUT_MS
        if self.IDLE_TIMEOUT_MS < t:
            t = self.IDLE_TIMEOUT_MS
        return min(1000, max(10, t // 4))

    async def _watch(self):
        t = self._watch_ms()
        sleep_ms = getattr(asyncio, "sleep_ms", None)
        while True:
            if sleep_ms is not None:
                await sleep_ms(t)
            else:
                await asyncio.sleep(t / 1000)
            try:
                self.check_timeouts()
            except Exception:  # noqa: BLE001 - the watchdog must outlive anything
                pass

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

    def _take(self, key=None):
        # A free slot, else the slot of the longest-idle connection, which is closed for it: a
        # keep-alive connection between requests, or one that has sent nothing for
        # FRESH_IDLE_MS (so a burst of new connections does not close each other before they
        # are read). None when every connection is busy. A client (key) holding MAX_PER_CLIENT
        # connections may only take the slot of its own longest-idle one: one device on the
        # network cannot fill every slot and keep the others out.
        lim = self.MAX_PER_CLIENT if key is not None else 0
        free = None
        old = None
        own = None
        mine = 0
        ck = self._clock
        now = ck.ticks_ms()
        for c in self._conns:
            if c.owner == 0:
                if not lim:
                    return c
                if free is None:
                    free = c
                continue
            idle = c.state == _IDLE and c.why == 0
            if idle and not c.served and ck.ticks_diff(now, c.since) < self.FRESH_IDLE_MS:
                idle = False
            if idle and (old is None or ck.ticks_diff(c.since, old.since) < 0):
                old = c
            if lim and c.key == key:
                mine += 1
                if idle and (own is None or ck.ticks_diff(c.since, own.since) < 0):
                    own = c
        if lim and mine >= lim:
            old = own
        elif free is not None:
            return free
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
            if addr is None:
                addr = writer.get_extra_info("peername")
            key = _client_key(addr) if self.MAX_PER_CLIENT else None
            c = None if self._closing else self._take(key)
            if c is None and not self._closing and self._waiting < self.BACKLOG:
                # every slot is busy: wait for one (polling; the overload path). Long enough
                # for the watchdog to have cut any client that was too slow when we came.
                self._waiting += 1
                try:
                    for _ in range((self.READ_TIMEOUT_MS + 2 * self._watch_ms()) // 20):
                        await asyncio.sleep(0.02)
                        c = None if self._closing else self._take(key)
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
            c.key = key
            c.req.client_raw = addr
            await self._requests(c, reader, writer)
        except asyncio.CancelledError:
            if c is not None and c.owner == me and c.why == _TIMEOUT and c.state == _READ:
                try:
                    self._emit(writer, c.req, 408, None, False)
                    await writer.drain()
                    await self._linger(reader, c.mv)
                except Exception:  # noqa: BLE001
                    pass
        except MemoryError:
            if c is not None and c.owner == me:
                self._undo(c.req)  # e.g. out of memory while writing the answer
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
                c.key = None
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
                p = _put(out, 0, _OK_HTML)
                p = _digits(out, p, len(r))
                if not keep:
                    p = _put(out, p, b"\r\nConnection: close")
                elif req.minor == 0:
                    p = _put(out, p, b"\r\nConnection: keep-alive")
                p = _put(out, p, b"\r\n\r\n")
                if m == "HEAD":
                    r = b""
                if p + len(r) <= len(out):
                    p = _put(out, p, r)
                    r = b""
                writer.write(self._omv[:p] if direct else bytes(out[:p]))
                if r:
                    writer.write(r)
            else:
                try:
                    self._emit(writer, req, status, r, keep, extra)
                except MemoryError:
                    raise
                except Exception as e:  # noqa: BLE001 - an answer that cannot be sent: 500
                    self._failed(req, e)
                    self._emit(writer, req, 500, None, False)
                    keep = False
            c.state = _WRITE
            c.since = ck.ticks_ms()
            await writer.drain()
            req._issued = None  # its token is on its way: a later failure must not revoke it
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

    def _undo(self, req):
        # A request failed: the cookies its handler queued are dropped (a failed request sets
        # nothing in the browser), and a session it started or rotated is revoked: a token that
        # was never delivered must not stay live. Allocates nothing.
        req._cookies_out = None
        if req._issued is not None:
            self.ring.revoke(req._issued)  # False, and nothing done, if it has already ended
            req._issued = None

    def _failed(self, req, e):
        # A handler (or its answer) raised: undo it, count it, tell the hook, pick 503 or 500.
        self._undo(req)
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
        self._emit(writer, c.req, status, None, False)
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

    def _ctype(self, ct):
        line = self._ctypes.get(ct)
        if line is None:
            if "\r" in ct or "\n" in ct:
                raise ValueError("bad content type")
            line = b"Content-Type: " + ct.encode() + b"\r\n"
            if len(self._ctypes) < 8:
                self._ctypes[ct] = line
        return line

    def _emit(self, writer, req, status, r, keep, extra=None):
        # Write one response: r is the handler's answer (Response, str, bytes, dict, list or
        # None) or None for the server's own status answers.
        ct = TEXT
        resp = None
        if r is None:
            if status == 200:
                status = 204
                ct = None
                body = b""
            else:
                body = _REASONS.get(status, b"Error") + b"\n"
        elif isinstance(r, _BYTES):
            body = r
            ct = HTML
        elif isinstance(r, _STR):
            body = r.encode()
            ct = HTML
        elif isinstance(r, Response):
            resp = r
            status = r.status
            ct = r.content_type
            body = r.body
            if isinstance(body, _STR):
                body = body.encode()
        elif isinstance(r, _JSONABLE):
            body = json.dumps(r).encode()
            ct = JSON
        else:
            raise TypeError("a handler returns a Response, str, bytes, dict, list or None")
        bare = status < 200 or status == 204 or status == 304
        if bare:
            body = b""
        out = self._out
        hl = 0
        if extra is not None or req._cookies_out is not None or resp is not None:
            hl = self._extras_len(req, resp, extra)
            if hl + 160 > len(out):
                out = bytearray(hl + 160 + len(ct or ""))
        p = _put(out, 0, b"HTTP/1.1 ")
        p = _digits(out, p, status)
        out[p] = 32
        p = _put(out, p + 1, _REASONS.get(status, b""))
        p = _put(out, p, b"\r\n")
        if ct and not bare:
            p = _put(out, p, self._ctype(ct))
        if not bare:
            p = _put(out, p, b"Content-Length: ")
            p = _digits(out, p, len(body))
            p = _put(out, p, b"\r\n")
        if not keep:
            p = _put(out, p, b"Connection: close\r\n")
        elif req.minor == 0:
            p = _put(out, p, b"Connection: keep-alive\r\n")
        if hl:
            p = self._put_extras(out, p, req, resp, extra)
        p = _put(out, p, b"\r\n")
        if req.method == "HEAD":
            body = b""
        if body and p + len(body) <= len(out):
            p = _put(out, p, body)
            body = b""
        if out is self._out and self._direct:
            writer.write(self._omv[:p])  # MicroPython's stream sends or copies at once
        else:
            writer.write(bytes(out[:p]))
        if body:
            writer.write(body)

    def _extras_len(self, req, resp, extra):
        n = len(extra) if extra is not None else 0
        if resp is not None:
            if resp._h:
                for k, v in resp._h.items():
                    n += len(k) + len(str(v)) * 3 + 4
            if resp.cookies:
                for a in resp.cookies:
                    n += len(a[0]) + len(a[1]) + len(a[3]) + len(a[5] or "") + 80
        if req._cookies_out is not None:
            for v in req._cookies_out:
                n += len(v) + 22
        return n + 1

    def _put_extras(self, out, p, req, resp, extra):
        if extra is not None:
            p = _put(out, p, extra)
        if resp is not None:
            if resp._h:
                for k, v in resp._h.items():
                    line = "%s: %s\r\n" % (k, v)
                    if line.count("\r") != 1 or line.count("\n") != 1 or k.find(":") >= 0:
                        raise ValueError("bad response header %r" % k)
                    p = _put(out, p, line.encode())
            if resp.cookies:
                for v in resp.cookie_values(self.SECURE):
                    p = _put(out, p, b"Set-Cookie: ")
                    p = _put(out, p, v.encode())
                    p = _put(out, p, b"\r\n")
        if req._cookies_out is not None:
            for v in req._cookies_out:
                p = _put(out, p, b"Set-Cookie: ")
                p = _put(out, p, v.encode())
                p = _put(out, p, b"\r\n")
        return p
