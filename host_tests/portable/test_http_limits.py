# Every hard limit of the HTTP server and the status it answers with, over real sockets.
# A refused request closes the connection (its framing can no longer be trusted).
from _http_support import Client, ask, fetch, serving

from sessionring import _plain
from sessionring import head as parser
from sessionring.http import Server


def _app():
    app = Server(
        max_request_line=64, max_head=256, max_headers=4, max_body=32, buf_size=256, linger_ms=50
    )

    @app.route("/", methods=("GET", "POST"))
    def index(req):
        return "ok %d" % len(req.body)

    return app


def _check(raw, status):
    async def body(port):
        resp, closed = await ask(port, raw)
        assert resp is not None, "no answer to %r" % raw
        st, h, b = resp
        assert st == status, "%r: %d, wanted %d" % (raw, st, status)
        assert h["content-type"] == "text/plain; charset=utf-8" and b.endswith(b"\n")
        assert h["connection"] == "close" and closed, "%r: connection left open" % raw
        # the server still serves after the refusal
        st, h, b = await fetch(port, "GET", "/")
        assert (st, b) == (200, b"ok 0"), (st, h, b)

    serving(_app(), body)


def test_within_limits_is_served():
    head = b"GET /" + b"a" * 50 + b" HTTP/1.1\r\n"  # exactly 64 bytes before the CRLF
    assert len(head) == 66

    async def body(port):
        c = await Client.open(port)
        await c.send(head + b"Host: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
        assert (await c.response())[0] == 404
        st, h, b = await c.request("POST", "/", body=b"x" * 32)
        assert (st, b) == (200, b"ok 32")
        await c.close()

    serving(_app(), body)


def test_request_line_too_long_414():
    _check(b"GET /" + b"a" * 51 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414)


def test_request_line_too_long_before_it_ends_414():
    # answered as soon as the line passes the limit, without waiting for its end
    _check(b"GET /" + b"a" * 100, 414)


def test_head_too_big_431():
    _check(b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 250 + b"\r\n\r\n", 431)


def test_head_without_end_431():
    _check(b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X: vvvvvvvvvvvv\r\n" * 20, 431)


def test_too_many_headers_431():
    _check(b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431)


def test_body_too_big_413():
    _check(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 33\r\n\r\n", 413)
    _check(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999\r\n\r\n", 413)


def test_body_without_length_411():
    _check(b"POST / HTTP/1.1\r\nHost: h\r\n\r\n", 411)


def test_bad_content_length_400():
    for v in (b"1x", b"-1", b"", b"+5", b"0x10", b"1 2"):
        _check(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " + v + b"\r\n\r\n", 400)
    _check(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", 400)


def test_repeated_equal_content_length_is_fine():
    async def body(port):
        c = await Client.open(port)
        await c.send(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nxy"
        )
        assert (await c.response())[2] == b"ok 2"
        await c.close()

    serving(_app(), body)


def test_unknown_method_501():
    _check(b"BREW / HTTP/1.1\r\nHost: h\r\n\r\n", 501)
    _check(b"TRACE / HTTP/1.1\r\nHost: h\r\n\r\n", 501)


def test_transfer_encoding_501():
    _check(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501)


def test_other_http_versions():
    _check(b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505)
    _check(b"GET / HTTP/1.1x\r\nHost: h\r\n\r\n", 400)
    _check(b"GET / HTTX/1.1\r\nHost: h\r\n\r\n", 400)
    _check(b"GET /\r\nHost: h\r\n\r\n", 400)


def test_malformed_heads_400():
    for raw in (
        b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",  # not a method token
        b" GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET x HTTP/1.1\r\nHost: h\r\n\r\n",  # not a path
        b"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",  # HTTP/1.1 needs Host
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX : 1\r\n\r\n",  # space before the colon
        b"GET / HTTP/1.1\r\nHost: h\r\nX: 1\r\n folded\r\n\r\n",  # obsolete line folding
        b"GET / HTTP/1.1\r\nHost: h\r\nnocolon\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nContent-Length: 5\r\n\r\n",  # bare LF
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",  # bare CR
        b"GET /%ff HTTP/1.1\r\nHost: h\r\n\r\n",  # path is not UTF-8
        b"GET / HTTP/1.1\r\nHost: h\r\nX\t: 1\r\n\r\n",  # tab before the colon
        b"GET / HTTP/1.1\r\nHost: h\r\nA b: 1\r\n\r\n",  # a name is a token: no space
        b"GET / HTTP/1.1\r\nHost: h\r\nCookie\x00: sid=x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\n\xc3\xa9: 1\r\n\r\n",  # not ASCII
        b"GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n",  # no name
    ):
        _check(raw, 400)


def test_header_names_of_every_token_character_are_fine():
    async def body(port):
        c = await Client.open(port)
        await c.send(b"GET / HTTP/1.1\r\nHost: h\r\nX-a.b_c~!#$%&'*+^`|9: 1\r\n\r\n")
        r = await c.response()
        assert (r[0], r[2]) == (200, b"ok 0")
        await c.close()

    serving(_app(), body)


def test_header_name_check_fast_and_plain_agree():
    # parser.names_ok is viper where the build has a native emitter (test_native_paths.py
    # checks the unix port uses it); the pure-Python twin must give the same answers.
    tchar = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    cases = [(b"", True), (b"A: 1\r\nBb-c: 2\r\n", True), (b": 1\r\n", False)]
    cases += [(b"A: 1\r\nnocolon\r\n", False), (b"A: 1\r\n b: 2\r\n", False)]
    cases += [(b"A: x:y\r\nB:\r\n", True)]
    # every line ends in LF: a last line cut off before it is refused
    cases += [(b"A: 1\r\nB: 2", False), (b"A: 1\r\nB: 2\r", False), (b"A: 1", False)]
    for c in range(256):
        # (a colon ends the name: "X:y: 1" is X with the value "y: 1")
        cases.append((b"Host: h\r\nX" + bytes([c]) + b"y: 1\r\n", c in tchar or c == 58))
    for head, want in cases:
        buf = bytearray(head)
        fast = bool(parser.names_ok(buf, 0, len(buf), parser._TOKTAB))
        plain = _plain.names_ok(buf, 0, len(buf), parser._TOKTAB)
        assert fast == plain == want, head


def _hosts_app():
    app = Server(hosts=("router.lan", "Device.Local", "my_router"), linger_ms=50)

    @app.route("/")
    def index(req):
        return "ok"

    return app


def test_host_allow_list_refuses_other_names_421():
    # DNS rebinding: a page of evil.example whose name now points at the device sends the
    # device's browser there with Host: evil.example. A set HOSTS answers 421 and closes.
    async def body(port):
        for host in (
            b"evil.example",
            b"evil.example:80",
            b"router.lan.evil.example",
            b"",
            b"routerXlan",
            b"1.2.3.4.evil",
            b"localhost",
        ):
            resp, closed = await ask(port, b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
            assert resp is not None and resp[0] == 421 and closed, (host, resp)
            assert resp[2] == b"Misdirected Request\n"
        c = await Client.open(port)
        for host in (
            b"router.lan",
            b"ROUTER.LAN:8080",
            b"device.local",
            b"192.168.4.1",
            b"127.0.0.1:8080",
            b"[::1]",
            b"[fe80::1]:80",
            b"my_router",  # "_" folds to nothing else
            b"router.lan.:80",  # a fully qualified name's trailing dot
        ):
            await c.send(b"GET / HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
            st, h, b = await c.response()
            assert (st, b) == (200, b"ok"), host
        await c.close()
        # HTTP/1.0 may leave Host out, but not past a host check: it would skip the guard
        resp, closed = await ask(port, b"GET / HTTP/1.0\r\n\r\n")
        assert resp[0] == 400 and closed

    serving(_hosts_app(), body)


def test_no_host_allow_list_by_default():
    async def body(port):
        resp, closed = await ask(port, b"GET / HTTP/1.0\r\nHost: evil.example\r\n\r\n")
        assert (resp[0], resp[2]) == (200, b"ok 0")

    serving(_app(), body)


def test_unknown_expectation_417():
    _check(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx", 417)


def test_star_and_absolute_targets():
    async def body(port):
        c = await Client.open(port)
        await c.send(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
        assert (await c.response())[0] == 404
        await c.send(b"GET http://h:80/ HTTP/1.1\r\nHost: h\r\n\r\n")
        assert (await c.response())[2] == b"ok 0"
        await c.close()

    serving(_app(), body)
