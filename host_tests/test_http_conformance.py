"""The server's answers checked by a strict HTTP/1.1 parser (h11) and by httplint.

The demo app (host_tests/_demo_server.py) runs in a subprocess under CPython and under the
MicroPython unix port; every response must parse in h11 and carry no httplint BAD note.
"""

import socket
import subprocess
import time

import h11
import pytest
from httplint import HttpRequestLinter, HttpResponseLinter, status
from httplint.note import levels

from harness import HOST_INTERPRETERS, ROOT, interpreter_command

APP = ROOT / "host_tests" / "_demo_server.py"
# httplint marks these BAD only to say what the refusal itself means ("the server won't accept
# a URI this long"): they judge the request, not the answer.
MEANING = (status.STATUS_URI_TOO_LONG, status.STATUS_VERSION_NOT_SUPPORTED)


@pytest.fixture(scope="module", params=HOST_INTERPRETERS)
def server(request):
    argv, env = interpreter_command(request.param, APP)
    proc = subprocess.Popen(
        argv, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("port "), line + proc.stderr.read()
        yield int(line.split()[1])
    finally:
        proc.kill()
        proc.wait(5)


def _connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def _read_response(conn, sock):
    """One whole response through h11: (Response event, body bytes)."""
    resp, body = None, b""
    deadline = time.monotonic() + 5
    while True:
        ev = conn.next_event()
        if ev is h11.NEED_DATA:
            assert time.monotonic() < deadline, "no complete response"
            conn.receive_data(sock.recv(65536))
            continue
        if isinstance(ev, h11.InformationalResponse):
            continue
        if isinstance(ev, h11.Response):
            resp = ev
        elif isinstance(ev, h11.Data):
            body += ev.data
        elif isinstance(ev, h11.EndOfMessage):
            return resp, body
        elif isinstance(ev, h11.ConnectionClosed):
            raise AssertionError("closed before the end of the response")


def _lint(method, target, resp, body, req_headers=(), version=b"1.1"):
    req = HttpRequestLinter()
    req.process_request_topline(method.encode(), b"http://127.0.0.1" + target.encode(), version)
    req.process_headers([(k.encode(), v.encode()) for k, v in req_headers])
    req.finish_content(True)
    lint = HttpResponseLinter()
    lint.request = req
    lint.is_head_response = method == "HEAD"
    lint.process_response_topline(resp.http_version, str(resp.status_code).encode(), resp.reason)
    lint.process_headers(list(resp.headers))
    lint.feed_content(body)
    lint.finish_content(True)
    bad = [n.summary for n in lint.notes if n.level == levels.BAD and type(n) not in MEANING]
    assert not bad, "%s %s -> %d: %s" % (method, target, resp.status_code, bad)


def _exchange(port, method, target, headers=(), body=b""):
    """A well-formed request sent with h11 on a new connection: (status, headers, body)."""
    sock = _connect(port)
    try:
        conn = h11.Connection(h11.CLIENT)
        hdrs = [("Host", "127.0.0.1")] + list(headers)
        if body:
            hdrs.append(("Content-Length", str(len(body))))
        sock.sendall(conn.send(h11.Request(method=method, target=target, headers=hdrs)))
        if body:
            sock.sendall(conn.send(h11.Data(data=body)))
        sock.sendall(conn.send(h11.EndOfMessage()))
        resp, rbody = _read_response(conn, sock)
        _lint(method, target, resp, rbody, hdrs)
        return resp.status_code, {k.decode(): v.decode() for k, v in resp.headers}, rbody
    finally:
        sock.close()


FORM = [("Content-Type", "application/x-www-form-urlencoded")]


@pytest.mark.parametrize(
    "method,target,headers,body,status",
    [
        ("GET", "/", (), b"", 200),
        ("HEAD", "/", (), b"", 200),
        ("GET", "/bytes", (), b"", 200),
        ("GET", "/json?a=1", (), b"", 200),
        ("POST", "/json", [("Content-Type", "application/json")], b'{"x": [1, 2]}', 200),
        ("POST", "/json", [("Content-Type", "application/json")], b"{bad", 400),
        ("POST", "/json", FORM, b"a=b+c", 200),
        ("GET", "/text", (), b"", 200),
        ("POST", "/login", FORM, b"user=ann", 303),
        ("GET", "/me", (), b"", 401),
        ("POST", "/logout", FORM, b"x=1", 303),
        ("POST", "/empty", FORM, b"x=1", 204),
        ("GET", "/missing", (), b"", 404),
        ("DELETE", "/", (), b"", 405),
        ("OPTIONS", "/json", (), b"", 204),
        ("GET", "/boom", (), b"", 500),
        ("GET", "/oom", (), b"", 503),
        ("POST", "/json", FORM, b"x" * 65, 413),
    ],
)
def test_answers_are_strict_http11_and_lint_clean(server, method, target, headers, body, status):
    st, h, b = _exchange(server, method, target, headers, body)
    assert st == status
    if method == "HEAD":
        assert b == b"" and int(h["content-length"]) > 0


def test_session_cookie_round_trip(server):
    st, h, b = _exchange(server, "POST", "/login", FORM, b"user=ann")
    cookie = h["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    pair = cookie.split(";")[0]
    st, h, b = _exchange(server, "GET", "/me", [("Cookie", pair)])
    assert st == 200 and b'"ann"' in b
    st, h, b = _exchange(server, "POST", "/logout", FORM + [("Cookie", pair)], b"x=1")
    assert "Max-Age=0" in h["set-cookie"]
    assert _exchange(server, "GET", "/me", [("Cookie", pair)])[0] == 401


def test_keep_alive_and_pipelining_through_h11(server):
    targets = ["/", "/bytes", "/json?p=1", "/missing", "/text"]
    wire = b""
    for t in targets:  # every request serialised by h11, all sent in one write
        c = h11.Connection(h11.CLIENT)
        wire += c.send(h11.Request(method="GET", target=t, headers=[("Host", "h")]))
        wire += c.send(h11.EndOfMessage())
    sock = _connect(server)
    try:
        sock.sendall(wire)
        conn = h11.Connection(h11.CLIENT)
        statuses = []
        for t in targets:
            conn.send(h11.Request(method="GET", target=t, headers=[("Host", "h")]))
            conn.send(h11.EndOfMessage())
            resp, body = _read_response(conn, sock)
            _lint("GET", t, resp, body)
            statuses.append(resp.status_code)
            conn.start_next_cycle()  # fails unless the server kept the connection open
        assert statuses == [200, 200, 200, 404, 200]
    finally:
        sock.close()


@pytest.mark.parametrize(
    "raw,status",
    [
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"BREW / HTTP/1.1\r\nHost: h\r\n\r\n", 501),
        (b"POST /json HTTP/1.1\r\nHost: h\r\n\r\n", 411),
        (b"POST /json HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
        (b"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        (b"GET /" + b"a" * 600 + b" HTTP/1.1\r\nHost: h\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: h\r\n" + b"X-A: 1\r\n" * 12 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: h\r\nX: " + b"v" * 2100 + b"\r\n\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: h\r\n", 408),
        (b"GET / HTTP/1.1\r\nHost: rebound.example\r\n\r\n", 421),
    ],
)
def test_refusals_are_strict_http11_and_lint_clean(server, raw, status):
    sock = _connect(server)
    try:
        sock.sendall(raw)
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method="GET", target="/", headers=[("Host", "h")]))
        conn.send(h11.EndOfMessage())
        resp, body = _read_response(conn, sock)
        assert resp.status_code == status
        assert (b"connection", b"close") in [(k, v.lower()) for k, v in resp.headers]
        # the linter judges the answer against the request as it was sent
        line = raw.split(b"\r\n")[0].split(b" ")
        if len(line) == 3 and line[2].startswith(b"HTTP/"):
            _lint(line[0].decode(), line[1].decode(), resp, body, (), line[2][5:])
        else:
            _lint("GET", "/", resp, body)
        assert sock.recv(100) == b""  # closed after the refusal
    finally:
        sock.close()
