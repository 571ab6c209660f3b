# The HTTP server's everyday behaviour over real sockets: routing, handler return types, HEAD,
# decoded inputs, keep-alive, Connection: close, HTTP/1.0, pipelining, Expect: 100-continue.
from _http_support import Client, ask, fetch, serving

from _support import raises
from sessionring.http import Response, Server


def _app(**kw):
    app = Server(**kw)

    @app.route("/")
    def index(req):
        return "<p>hi</p>"

    @app.route("/bytes")
    def raw(req):
        return b"\x00\x01"

    @app.route("/dict")
    async def as_dict(req):
        return {"a": [1, 2]}

    @app.route("/list")
    def as_list(req):
        return [1, "x"]

    @app.route("/none", methods=("POST",))
    def nothing(req):
        return None

    @app.route("/resp")
    def resp(req):
        r = Response("made", 201, content_type="text/plain")
        r.headers["Cache-Control"] = "no-store"
        r.set_cookie("theme", "dark", max_age=60)
        return r

    @app.route("/go")
    def go(req):
        return Response.redirect("/there")

    @app.route("/json", methods=("GET", "POST", "PUT"))
    def echo(req):
        return Response.json(
            {
                "method": req.method,
                "path": req.path,
                "query": req.query,
                "form": req.form,
                "json": req.json,
                "body": len(req.body),
                "cookies": req.cookies,
                "ua": req.headers.get("user-agent"),
                "addr": req.client_addr,
            }
        )

    @app.route("/a b")
    def spaced(req):
        return "spaced"

    return app


def test_get_str_is_html():
    async def body(port):
        st, h, b = await fetch(port, "GET", "/")
        assert st == 200 and b == b"<p>hi</p>"
        assert h["content-type"] == "text/html; charset=utf-8"
        assert h["content-length"] == "9"

    serving(_app(), body)


def test_return_types():
    async def body(port):
        st, h, b = await fetch(port, "GET", "/bytes")
        assert (st, b) == (200, b"\x00\x01")
        st, h, b = await fetch(port, "GET", "/dict")
        assert st == 200 and h["content-type"] == "application/json"
        assert b.replace(b" ", b"") == b'{"a":[1,2]}'
        st, h, b = await fetch(port, "GET", "/list")
        assert b.replace(b" ", b"") == b'[1,"x"]'
        st, h, b = await fetch(port, "POST", "/none", body=b"x")
        assert st == 204 and b == b"" and "content-length" not in h
        st, h, b = await fetch(port, "GET", "/resp")
        assert st == 201 and b == b"made" and h["content-type"] == "text/plain"
        assert h["cache-control"] == "no-store"
        assert h["set-cookie"] == "theme=dark; Max-Age=60; Path=/; HttpOnly; SameSite=Strict"
        st, h, b = await fetch(port, "GET", "/go")
        assert st == 303 and h["location"] == "/there" and b == b""

    serving(_app(), body)


def test_head_has_headers_but_no_body():
    async def body(port):
        c = await Client.open(port)
        st, h, b = await c.request("HEAD", "/")
        assert st == 200 and h["content-length"] == "9" and b == b""
        st, h, b = await c.request("HEAD", "/resp")  # the slow path too
        assert st == 201 and h["content-length"] == "4" and b == b""
        st, h, b = await c.request("GET", "/")  # nothing stray was left on the connection
        assert b == b"<p>hi</p>"
        await c.close()

    serving(_app(), body)


def test_404_405_options():
    async def body(port):
        st, h, b = await fetch(port, "GET", "/missing")
        assert st == 404 and h["content-type"].startswith("text/plain") and b == b"Not Found\n"
        st, h, b = await fetch(port, "DELETE", "/")
        assert st == 405 and h["allow"] == "GET, HEAD, OPTIONS"
        st, h, b = await fetch(port, "PUT", "/none", body=b"x")
        assert st == 405 and h["allow"] == "POST, OPTIONS"
        st, h, b = await fetch(port, "OPTIONS", "/json")
        assert st == 204 and h["allow"] == "GET, POST, PUT, HEAD, OPTIONS"

    serving(_app(), body)


def test_inputs_are_decoded():
    async def body(port):
        st, h, b = await fetch(
            port,
            "POST",
            "/json?x=1&y=a%20b&x=2&e",
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "a=1; b=two",
                "User-Agent": "t/1",
            },
            b"name=J%C3%BCrgen+K&empty=",
        )
        assert st == 200
        import json

        d = json.loads(b)
        assert d["method"] == "POST" and d["path"] == "/json"
        assert d["query"] == {"x": "1", "y": "a b", "e": ""}
        assert d["form"] == {"name": "J\u00fcrgen K", "empty": ""}
        assert d["json"] is None and d["body"] == 25
        assert d["cookies"] == {"a": "1", "b": "two"}
        assert d["ua"] == "t/1" and d["addr"] == "127.0.0.1"
        st, h, b = await fetch(
            port, "PUT", "/json", {"Content-Type": "application/json"}, b'{"k": [1, true]}'
        )
        d = json.loads(b)
        assert d["json"] == {"k": [1, True]} and d["form"] == {}
        st, h, b = await fetch(port, "GET", "/a%20b")
        assert (st, b) == (200, b"spaced")

    serving(_app(), body)


def test_bad_json_is_400_before_the_handler():
    calls = []
    app = Server()

    @app.route("/j", methods=("POST",))
    def j(req):
        calls.append(1)
        return "ok"

    async def body(port):
        st, h, b = await fetch(port, "POST", "/j", {"Content-Type": "application/json"}, b"{no")
        assert st == 400
        st, h, b = await fetch(port, "POST", "/j", {"Content-Type": "text/plain"}, b"{no")
        assert st == 200

    serving(app, body)
    assert calls == [1]


def test_keep_alive_by_default():
    async def body(port):
        c = await Client.open(port)
        for _ in range(5):
            st, h, b = await c.request("GET", "/")
            assert st == 200 and "connection" not in h
        st, h, b = await c.request("GET", "/", {"Connection": "close"})
        assert st == 200 and h["connection"] == "close"
        assert await c.closed()
        await c.close()

    serving(_app(), body)


def test_errors_that_keep_framing_keep_the_connection():
    async def body(port):
        c = await Client.open(port)
        assert (await c.request("GET", "/missing"))[0] == 404
        assert (await c.request("DELETE", "/"))[0] == 405
        assert (await c.request("GET", "/"))[0] == 200
        await c.close()

    serving(_app(), body)


def test_http10_closes_unless_keep_alive_asked():
    async def body(port):
        resp, closed = await ask(port, b"GET / HTTP/1.0\r\n\r\n")
        assert resp[0] == 200 and resp[1]["connection"] == "close" and closed
        c = await Client.open(port)
        await c.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        st, h, b = await c.response()
        assert st == 200 and h["connection"] == "keep-alive"
        await c.send(b"GET /bytes HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
        st, h, b = await c.response()
        assert b == b"\x00\x01"
        await c.send(b"GET / HTTP/1.0\r\n\r\n")
        st, h, b = await c.response()
        assert h["connection"] == "close" and await c.closed()
        await c.close()

    serving(_app(), body)


def test_pipelined_requests_answered_in_order():
    async def body(port):
        c = await Client.open(port)
        post = (
            b"POST /json HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
            b"Content-Length: 7\r\n\r\n[1,2,3]"
        )
        await c.send(
            b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
            + post
            + b"GET /bytes HTTP/1.1\r\nHost: h\r\n\r\nHEAD / HTTP/1.1\r\nHost: h\r\n\r\n"
            + b"GET /list HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        )
        assert (await c.response())[2] == b"<p>hi</p>"
        assert b'"json": [1, 2, 3]' in (await c.response())[2]
        assert (await c.response())[2] == b"\x00\x01"
        st, h, b = await c.response(head_only=True)
        assert st == 200 and h["content-length"] == "9"
        st, h, b = await c.response()
        assert b.replace(b" ", b"") == b'[1,"x"]' and h["connection"] == "close"
        assert await c.closed()
        await c.close()

    serving(_app(), body)


def test_request_split_across_many_writes():
    async def body(port):
        c = await Client.open(port)
        raw = b"POST /json HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
        for i in range(len(raw)):
            await c.send(raw[i : i + 1])
        st, h, b = await c.response()
        assert st == 200 and b'"body": 5' in b
        await c.close()

    serving(_app(), body)


def test_expect_100_continue():
    async def body(port):
        c = await Client.open(port)
        await c.send(
            b"POST /json HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        )
        st, h, b = await c.response()
        assert st == 100
        await c.send(b"abc")
        st, h, b = await c.response()
        assert st == 200 and b'"body": 3' in b
        await c.close()

    serving(_app(), body)


def test_body_larger_than_the_buffer():
    async def body(port):
        big = b"k=" + b"v" * 3000
        st, h, b = await fetch(
            port, "POST", "/json", {"Content-Type": "application/x-www-form-urlencoded"}, big
        )
        assert st == 200 and b'"body": 3002' in b

    serving(_app(buf_size=1024, max_head=1024, max_body=4096), body)


def test_options_and_bad_types():
    app = Server()
    try:
        Server(max_conn=3)
    except TypeError:
        pass
    else:
        raise AssertionError("a misspelt option must be refused")
    assert Server(max_conns=3).max_conns == 3 and Server.max_conns == 8
    assert app.max_head == 2048 and app.backlog >= 16


def test_bytes_that_are_not_utf8_in_headers_get_an_answer():
    # Non-UTF-8 bytes in Authorization or Content-Type are treated as not sent: the request is
    # served (or refused with a 4xx), never a 500 and never a silent close.
    app = _app()

    async def body(port):
        c = await Client.open(port)
        await c.send(b"GET /json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfeaa\r\n\r\n")
        st, h, b = await c.response()
        assert st == 200
        await c.send(
            b"POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: \xff\r\nContent-Length: 1\r\n\r\na"
        )
        st, h, b = await c.response()
        assert st == 200
        assert b'"form": {}' in b and b'"json": null' in b
        await c.close()

    serving(app, body)


def test_deeply_nested_json_is_400():
    app = _app()

    async def body(port):
        st, h, b = await fetch(
            port, "POST", "/json", {"Content-Type": "application/json"}, b"[" * 1500
        )
        assert st == 400

    serving(app, body)


def test_bad_options_are_refused_at_construction():
    e = raises(TypeError, lambda: Server(max_conn=4))
    assert "unknown Server option 'max_conn'" in str(e)
    e = raises(ValueError, lambda: Server(cookie_name=""))
    assert "must not be empty" in str(e)
