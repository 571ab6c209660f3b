# A small asyncio HTTP/1.1 server for MicroPython boards (and CPython, for tests).
#
# Server holds the configuration, the routes and the counters, and starts the parts:
#   pool.py      connection records and work slots, who gets one (eviction, fair share), the
#                watchdog, the accept loop
#   conn.py      a connection's record, the work slots, the request loop: read, parse, route,
#                call, answer
#   request.py   the request, parsed in place in its connection's buffer
#   response.py  Response and the wire format of every answer
#   binding.py   which session a request belongs to; starting, rotating, ending, undoing
# docs/architecture.md draws how a request goes through them.
#
# Every tunable is a lower-case class attribute below, with what it bounds. Override one on a
# subclass, on an instance before serve(), or as a keyword: Server(store=r, max_conns=4). The
# firmware's board.json uses the same names.
import asyncio
import os
import socket
import time

from . import cookie
from .binding import Binding
from .pool import Counters, Pool
from .request import Limits
from .response import Response, Wire

__all__ = ("Server", "Response")

# the tunables the pool and the request loop read (from the Limits object serve() makes)
_POOL_LIMITS = (
    "max_head",
    "max_body",
    "buf_size",
    "out_size",
    "request_timeout_ms",
    "write_timeout_ms",
    "keepalive_ms",
    "first_request_ms",
    "linger_ms",
    "stall_ms",
    "max_conns",
    "work_slots",
    "max_per_client",
    "backlog",
    "fresh_idle_ms",
    "heap_reserve",
    "handler_json_errors",
    "tls_conns",
    "tls_handshakes",
    "handshake_ms",
)


class Server:
    # -- limits: requests ------------------------------------------------------------------------
    max_request_line = 512  # bytes of "METHOD target HTTP/1.1" -> 414
    max_head = 2048  # request line and headers -> 431
    max_headers = 24  # header lines -> 431
    max_body = 2048  # Content-Length -> 413
    buf_size = 2048  # each work slot's request buffer (at least max_head); bigger bodies get
    # a buffer of their own
    out_size = 1024  # each work slot's answer scratch: heads and small bodies go out in one
    # write
    # -- limits: time ----------------------------------------------------------------------------
    request_timeout_ms = 5000  # to receive a whole request once it has begun (408, then close)
    write_timeout_ms = 5000  # to send an answer (then close)
    keepalive_ms = 15000  # an open connection with no request in progress is closed
    first_request_ms = 3000  # a new connection's first request must be in within this (408,
    # or closed if it sent nothing); 0: off. Slow clients cannot hold slots for long
    linger_ms = 250  # after refusing a request, drop input until the client pauses this long
    stall_ms = 250  # a connection holding a work slot while it waits on its peer (the rest
    # of a request, or room to write its answer) loses it after this long when another
    # connection waits for one (408, or closed); 0: never
    # -- limits: connections ---------------------------------------------------------------------
    max_conns = 8  # open connections (a small record each, ~330 B in all while idle); the
    # longest-idle one is closed to admit a new one
    work_slots = 2  # connections served at once: each being served borrows a work slot
    # (buf_size + out_size + a Request); the others wait for one, idle ones hold none
    max_per_client = 0  # open connections one client address may hold (0: no limit); over
    # it, that client's own longest-idle connection is closed, else it waits like any other
    backlog = 16  # listen() queue, and connections that may wait for a slot at once
    fresh_idle_ms = 1000  # a new connection that sent nothing this long may be evicted
    heap_reserve = 2048  # bytes of free heap below which a new connection gets a 503 at once
    # (MicroPython; 0: off)
    # -- sessions ---------------------------------------------------------------------------------
    cookie_name = "sid"  # the session cookie (__Host-sid over TLS)
    bearer = True  # accept "Authorization: Bearer <token>"
    token_param = None  # name of a query/form parameter that may carry the token; None: off
    secure = False  # served over TLS: the cookie gets Secure and the __Host- prefix
    date = True  # a Date header on every answer while the wall clock (`wall`) reads 2024 or
    # later; a clock that was never set (a board at boot) sends none. False: never
    wall = None  # the wall clock for Date: an object with time() and gmtime(); None: time
    hosts = None  # host names a request's Host may carry (IP literals always may) -> 421;
    # None: any. Set it on a device on a LAN: it stops DNS rebinding (docs/security.md)
    handler_json_errors = False  # True: a body sent as application/json that does not decode
    # (bad JSON, not UTF-8, a BOM) reaches the handler with req.json None and req.json_error
    # set, so an API answers in its own format; False: the server's 400 before the handler
    # -- TLS (tls.py, docs/https.md) -------------------------------------------------------------
    tls = None  # TLS: an SSLContext (tls.context(key_der, cert_der)) or a (key_der, cert_der)
    # pair: serve HTTPS, and turn on `secure`
    tls_conns = 2  # TLS: connections open at once (each keeps ~26 KB of TLS buffers)
    tls_handshakes = 1  # TLS: handshakes in progress at once; the rest wait
    handshake_ms = 10000  # TLS: a handshake (or a wait to start one) ends within this
    tls_keepalive_ms = 60000  # TLS: keepalive_ms over TLS (a new connection is a handshake)

    def __init__(self, store=None, clock=None, ring=None, **options):
        # store: the session store (a SessionRing, or any store with binding.py's interface);
        # ring= is the same argument under its older name. clock: ticks_ms()/ticks_diff()
        # (tests inject one).
        self.store = store if store is not None else ring
        self.clock = clock if clock is not None else time
        for k, v in options.items():
            if k.startswith("_") or not hasattr(Server, k) or callable(getattr(Server, k)):
                raise TypeError("unknown Server option %r" % k)
            setattr(self, k, v)
        if not self.cookie_name:
            raise ValueError("cookie_name must not be empty")
        if self.tls is not None:  # TLS: one switch
            if isinstance(self.tls, tuple):
                from .tls import context

                self.tls = context(*self.tls)
            self.secure = True
            self.keepalive_ms = self.tls_keepalive_ms
        self.routes = {}  # path -> (handler, methods, b"Allow: ...\r\n")
        self.on_error = None  # hook(req, exc) called when a handler fails
        self.port = None  # the port serve() listens on
        self.closing = False
        self.pool = None
        self.count = Counters()
        self._stop = None

    # the counters, under the names they have always had
    requests = property(lambda self: self.count.requests)
    evicted = property(lambda self: self.count.evicted)
    refused = property(lambda self: self.count.refused)
    timeouts = property(lambda self: self.count.timeouts)
    errors = property(lambda self: self.count.errors)

    @property
    def ring(self):
        return self.store

    @property
    def session_cookie(self):
        # The session cookie's name as sent: __Host- prefixed over TLS.
        return cookie.name_for(self.cookie_name, self.secure)

    def stats(self):
        # Counters and the connections open now, for an admin page or a test.
        p = self.pool
        st = p.states() if p is not None else (0, 0, 0, 0, 0)
        k = self.count
        return {
            "open": st[0] + st[1] + st[2] + st[3] + st[4],
            "idle": st[0],
            "reading": st[1],
            "busy": st[2],
            "writing": st[3],
            "waiting_work": st[4],
            "max_conns": self.max_conns,
            "work_slots": self.work_slots,
            "work_busy": p.works_busy() if p is not None else 0,
            "accepted": p.accepted if p is not None else 0,
            "peak_tasks": p.peak if p is not None else 0,
            "requests": k.requests,
            "evicted": k.evicted,
            "refused": k.refused,
            "timeouts": k.timeouts,
            "stalled": k.stalled,
            "errors": k.errors,
        }

    # -- routes ------------------------------------------------------------------------------
    def route(self, path, methods=("GET",)):
        def register(handler):
            ms = tuple(m.upper() for m in methods)
            allow = list(ms)
            if "GET" in ms and "HEAD" not in ms:
                allow.append("HEAD")
            if "OPTIONS" not in ms:
                allow.append("OPTIONS")
            self.routes[path] = (handler, ms, ("Allow: %s\r\n" % ", ".join(allow)).encode())
            return handler

        return register

    # -- running -----------------------------------------------------------------------------
    def run(self, host="0.0.0.0", port=80):
        asyncio.run(self.serve(host, port))

    def close(self):
        self.closing = True
        if self.pool is not None:
            self.pool.closing = True
        if self._stop is not None:
            self._stop.set()

    def check_timeouts(self):
        # Cancel connections past their deadline; returns how many. The watchdog calls this a
        # few times per timeout; tests with an injected clock may call it directly.
        return self.pool.check_timeouts() if self.pool is not None else 0

    def _listen(self, host, port):
        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        s = socket.socket(ai[0], socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        named = hasattr(s, "getsockname")
        if port or named:
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
        s.listen(self.backlog)
        s.setblocking(False)
        self.port = s.getsockname()[1] if named else port
        return s

    async def serve(self, host="0.0.0.0", port=80):
        # Serve until close() (or until this task is cancelled). Everything a connection needs
        # is allocated here, once.
        if self.max_conns < 1 or self.work_slots < 1:
            raise ValueError("max_conns and work_slots must be at least 1")
        ls = self._listen(host, port)
        self.closing = False
        self._stop = asyncio.Event()
        st = self.store
        bind = Binding(st, self.cookie_name, self.secure, self.bearer, self.token_param)
        lim = Limits(self.max_request_line, self.max_headers, self.hosts)
        for k in _POOL_LIMITS:
            setattr(lim, k, getattr(self, k))
        wall = None
        if self.date:
            wall = self.wall if self.wall is not None else time
        wire = Wire(self.secure, wall, self.clock)
        self.pool = pool = Pool(self, lim, self.count, bind, wire)
        try:
            await pool.run(ls, self._stop)
        finally:
            self.closing = True
            ls.close()
            await pool.shut()
