# Helpers for the HTTP server's portable tests: the server and its clients run in one asyncio
# loop in this process, over 127.0.0.1, on CPython and on the MicroPython unix port. Every
# wait is bounded: a test that would hang fails instead.
import asyncio

WAIT_MS = 5000  # the longest any single step may take before the test fails


async def within(aw, ms=WAIT_MS):
    if hasattr(asyncio, "wait_for_ms"):
        return await asyncio.wait_for_ms(aw, ms)
    return await asyncio.wait_for(aw, ms / 1000)


def run(test, ms=20000):
    # Run the coroutine function test() to completion, failing after ms.
    async def main():
        await within(test(), ms)

    asyncio.run(main())


async def start(app):
    # Start app on a free port of 127.0.0.1; returns the serve() task. Stop with stop().
    task = asyncio.create_task(app.serve("127.0.0.1", 0))
    for _ in range(100):
        await asyncio.sleep(0)
        if app.port:
            break
    assert app.port, "server did not start"
    return task


async def stop(app, task):
    app.close()
    await within(task)


class Client:
    # A raw HTTP/1.1 client on one connection, with a small strict response reader.
    def __init__(self, reader, writer):
        self.r = reader
        self.w = writer
        self.pending = b""

    @classmethod
    async def open(cls, port, source=None):
        # source: the client's own address, another loopback address (127.0.0.2) to be seen
        # by the server as a second client
        if source is None:
            r, w = await within(asyncio.open_connection("127.0.0.1", port))
        elif hasattr(asyncio, "StreamReader") and not hasattr(asyncio, "Protocol"):
            import socket  # MicroPython: a socket of our own, wrapped in a stream

            s = socket.socket()
            s.bind(socket.getaddrinfo(source, 0)[0][-1])
            s.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
            s.setblocking(False)
            r = w = asyncio.StreamReader(s)
        else:
            oc = asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
            r, w = await within(oc)
        return cls(r, w)

    async def send(self, data):
        self.w.write(data)
        await self.w.drain()

    async def _more(self):
        try:
            d = await within(self.r.read(4096))
        except OSError:  # reset by the server
            d = b""
        return d

    async def response(self, head_only=False):
        # (status, headers dict lower-case str -> str, body bytes); None at EOF.
        while b"\r\n\r\n" not in self.pending:
            d = await self._more()
            if not d:
                assert not self.pending, "connection closed mid-head: %r" % self.pending
                return None
            self.pending += d
        head, rest = self.pending.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        parts = lines[0].split(" ", 2)
        assert parts[0] == "HTTP/1.1", lines[0]
        status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            k, v = line.split(":", 1)
            assert k == k.strip() and k, "bad header line %r" % line
            k = k.lower()
            if k == "set-cookie" and k in headers:
                headers[k] += "\n" + v.strip()
            else:
                assert k not in headers, "repeated header %s" % k
                headers[k] = v.strip()
        n = 0
        if not head_only and status >= 200 and status not in (204, 304):
            n = int(headers["content-length"])
        while len(rest) < n:
            d = await self._more()
            assert d, "connection closed mid-body"
            rest += d
        self.pending = rest[n:]
        return status, headers, rest[:n]

    async def closed(self):
        # True when the server closed the connection (EOF) with nothing more sent.
        d = await self._more()
        return d == b"" and self.pending == b""

    async def request(self, method, path, headers=None, body=b""):
        h = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
        for k, v in (headers or {}).items():
            h += "%s: %s\r\n" % (k, v)
        if body:
            h += "Content-Length: %d\r\n" % len(body)
        await self.send(h.encode() + b"\r\n" + body)
        return await self.response(method == "HEAD")

    async def close(self):
        self.w.close()
        try:
            await within(self.w.wait_closed())  # MicroPython closes the socket here
        except OSError:
            pass


async def fetch(port, method, path, headers=None, body=b""):
    # One request on a new connection.
    c = await Client.open(port)
    try:
        return await c.request(method, path, headers, body)
    finally:
        await c.close()


async def ask(port, raw):
    # Send raw bytes on a new connection; (first response or None, closed afterwards).
    c = await Client.open(port)
    try:
        await c.send(raw)
        resp = await c.response()
        return resp, await c.closed()
    finally:
        await c.close()


def serving(app, body, ms=20000):
    # Run the coroutine function body(port) against app serving on a free port, then stop it.
    async def main():
        task = await start(app)
        try:
            await body(app.port)
        finally:
            await stop(app, task)

    run(main, ms)


async def until(cond, ms=WAIT_MS):
    # Wait (polling every 5 ms, at most ms) until cond() is true.
    for _ in range(ms // 5):
        if cond():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached within %d ms" % ms)


def ok_app(**kw):
    # A Server whose "/" answers "ok" to GET and POST.
    from sessionring.http import Server

    app = Server(**kw)

    @app.route("/", methods=("GET", "POST"))
    def index(req):
        return "ok"

    return app


def session_app(store, mark=False, **kw):
    # A Server on a session store with the session routes: /login (a new session; with mark,
    # data "c" written after the start, which the cookie must then hold), /me, /count (data
    # "n" + 1), /rotate, /logout, /theme (another cookie).
    from sessionring.http import Response, Server
    from sessionring.session import ROLE_USER

    app = Server(store, **kw)

    @app.route("/login", methods=("POST",))
    def login(req):
        s = req.start_session(req.form["user"], int(req.form.get("role", ROLE_USER)))
        if mark:
            s["c"] = "csrf-" + req.form["user"]
        return Response.redirect("/me")

    @app.route("/me", methods=("GET", "POST"))
    def me(req):
        s = req.session
        if s is None:
            return Response("nobody", 401, content_type="text/plain")
        return {
            "user": s.user,
            "role": s.role,
            "idle": s.idle,
            "c": s.get("c"),
            "n": s.get("n", 0),
        }

    @app.route("/count")
    def count(req):
        req.session["n"] = req.session.get("n", 0) + 1
        return "ok"

    @app.route("/rotate", methods=("POST",))
    def rotate(req):
        req.rotate_session()
        return "rotated"

    @app.route("/logout", methods=("POST",))
    def logout(req):
        req.end_session()
        return Response.redirect("/")

    @app.route("/theme")
    def theme(req):
        r = Response("t")
        r.set_cookie("theme", "dark")
        return r

    return app
