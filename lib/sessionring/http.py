# A small asyncio HTTP/1.1 server for MicroPython boards (and CPython, for tests).
#
# Each connection takes one of MAX_CONNS preallocated slots: a BUF_SIZE bytearray the request
# is read into, a reusable Request and a reusable session view (connection.py). The head is
# found with find(b"\r\n\r\n") and parsed in place (request.py). Responses are assembled in
# one shared scratch buffer and written with one write() and one drain() (response.py). A
# watchdog task enforces the read, write and idle timeouts by cancelling the connection's task.
#
# Hard limits are the class attributes below; override them on a subclass, on an instance, or
# as lower-case keyword arguments: Server(ring=r, max_conns=4, read_timeout_ms=2000).
import asyncio
import gc
import os
import socket
import time

from .connection import Connections, Slot
from .response import Response

__all__ = ("Server", "Response")


def _readable(s):
    # MicroPython: wait until the listening socket can accept (its asyncio's own I/O queue).
    yield asyncio.core._io_queue.queue_read(s)


class Server(Connections):
    MAX_REQUEST_LINE = 512  # bytes of "METHOD target HTTP/1.1" -> 414
    MAX_HEAD = 2048  # request line and headers -> 431
    MAX_HEADERS = 24  # header lines -> 431
    MAX_BODY = 2048  # Content-Length -> 413
    READ_TIMEOUT_MS = 5000  # to receive a whole request (408, then close) or send a response
    IDLE_TIMEOUT_MS = 15000  # an open connection with no request in progress is closed
    MAX_CONNS = 8  # open connections; the longest-idle one is closed to admit a new one
    BACKLOG = 16  # listen() queue (asyncio's default of 5 drops connections in bursts)
    FRESH_IDLE_MS = 1000  # a new connection that sent nothing this long may be evicted
    LINGER_MS = 250  # after refusing a request, drop input until the client pauses this long
    BUF_SIZE = 2048  # per-connection request buffer (at least MAX_HEAD)
    OUT_SIZE = 1024  # shared response scratch: head and small bodies go out in one write
    COOKIE_NAME = "sid"
    BEARER = True  # accept "Authorization: Bearer <token>"
    TOKEN_PARAM = None  # name of a query/form parameter that may carry the token; None = off
    SECURE = False  # served over TLS: the cookie gets Secure and the __Host- prefix

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
        self._waiting = 0  # connections waiting for a slot
        self._closing = False
        self.port = None
        self._direct = False  # MicroPython streams: write() sends or copies at once
        self.cookie_name = "__Host-" + self.COOKIE_NAME if self.SECURE else self.COOKIE_NAME
        self.on_error = None  # hook(req, exc) called when a handler fails
        # counters
        self.requests = 0
        self.evicted = 0
        self.refused = 0
        self.timeouts = 0
        self.errors = 0

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
        self.cookie_name = "__Host-" + self.COOKIE_NAME if self.SECURE else self.COOKIE_NAME
        self._closing = False
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
            conns.append(Slot(self, size, view))
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
            for _ in range(100):
                if not self._end_all():
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

    async def _watch(self):
        t = self.READ_TIMEOUT_MS
        if self.IDLE_TIMEOUT_MS < t:
            t = self.IDLE_TIMEOUT_MS
        t = min(1000, max(10, t // 4))
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
