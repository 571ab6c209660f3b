# Every hard limit of the HTTP server and the status it answers with, over real sockets.
# A refused request closes the connection (its framing can no longer be trusted).
from _http_support import Client, ask, fetch, serving

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
    ):
        _check(raw, 400)


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
