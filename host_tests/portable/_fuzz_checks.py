# What the fuzz tests assert about each parser, shared by the hypothesis tests (CPython,
# host_tests/test_fuzz_*.py) and the replay of every input that ever failed
# (test_fuzz_regressions.py, on CPython and the MicroPython unix port). Each check takes bytes
# and raises AssertionError (or whatever escaped the parser) when a property fails; it returns
# what the caller may compare with an expected value.
import json

from sessionring import cookie, request, token
from sessionring import head as parser
from sessionring.binding import Binding
from sessionring.host import host_ok
from sessionring.http import Server
from sessionring.ring import SessionRing

HEAD_STATUSES = (0, 400, 411, 413, 414, 417, 421, 431, 501, 505)
NAMES = (b"localhost", b"router.lan")
REGRESSIONS = "host_tests/portable/data/fuzz_regressions.json"

_srv = None
_req = None


def _server():
    global _srv, _req
    if _srv is None:
        # a request of a server's connection slot, made as Server.serve() makes it (no socket)
        ring = SessionRing(slots=4, data_bytes=32)
        _srv = Server(ring, hosts=("localhost", "router.lan"))
        lim = parser.Limits(_srv.max_request_line, _srv.max_headers, _srv.hosts)
        bind = Binding(ring, _srv.cookie_name, _srv.secure, _srv.bearer, _srv.token_param)
        _req = request.Request(bytearray(_srv.buf_size + 8), lim, bind, ring.view())
    return _srv, _req


def head(raw, body=b""):
    # Parse raw (a request head, with or without its blank line) as the server does and use
    # everything a handler may read. Returns the status (0: parsed). Nothing may raise.
    srv, req = _server()
    if raw.find(b"\r\n\r\n") < 0:
        raw = raw + b"\r\n\r\n"
    end = raw.find(b"\r\n\r\n")
    if end + 4 > srv.max_head:  # the server answers 431 before parsing
        return 431
    req.reset()
    buf = req.buf
    buf[: len(raw)] = raw
    for i in range(len(raw), len(buf)):
        buf[i] = 0
    st = req.parse(end)
    assert st in HEAD_STATUSES, st
    if st:
        return st
    assert req.method in ("GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS")
    assert isinstance(req.path, str) and (req.path[:1] == "/" or req.path == "*")
    assert type(req.headers) is dict and type(req.query) is dict
    assert type(req.cookies) is dict
    assert isinstance(req.content_type(), str)
    req.body = body
    assert req.decode_json() in (True, False)
    assert type(req.form) is dict
    assert req._bind.find(req) is None  # no session exists: nothing may name one
    return 0


def cookies(raw, name="sid"):
    # parse, get and span agree and never raise, on bytes and on the same text as str.
    d = cookie.parse(raw)
    assert type(d) is dict
    for k, v in d.items():
        assert type(k) is str and type(v) is str
    g = cookie.get(raw, name)
    assert g is None or type(g) is str
    if cookie.valid_name(name):
        assert g == d.get(name), (g, d.get(name))
    buf = bytearray(b"Cookie: " + raw + b"\r\n")
    if len(buf) < 0x4000 and cookie.valid_name(name):  # (the server's name is never empty)
        sp = cookie.span(buf, 8, 8 + len(raw), name.encode())
        if sp < 0:
            assert g is None, g
        else:
            s, e = sp >> 16, sp & 0xFFFF
            assert 8 <= s <= e <= 8 + len(raw), (s, e)
            try:
                v = bytes(buf[s:e]).decode()
            except UnicodeError:
                v = None  # get() skips a value that is not UTF-8; span() does not
            if v is not None:
                assert v == g, (v, g)
    try:
        text = raw.decode()
    except UnicodeError:
        return d
    assert cookie.parse(text) == d
    assert cookie.get(text, name) == g
    return d


def query(raw):
    # parse_qs never raises and gives str -> str; unquote gives str or raises UnicodeError.
    q = request.parse_qs(raw)
    assert type(q) is dict
    for k, v in q.items():
        assert type(k) is str and type(v) is str
    for plus in (True, False):
        try:
            u = request.unquote(raw, plus)
        except UnicodeError:
            u = None
        assert u is None or type(u) is str
    return q


def json_body(raw):
    # a JSON body through the server's path: a POST with Content-Type application/json
    h = b"POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    st = head(h + b"Content-Length: %d\r\n" % len(raw), raw)
    assert st == 0, st
    _, req = _server()
    ok = req.decode_json()
    if ok and raw:
        json.dumps(req.json)  # something the handler can use
    return ok


def tokens(raw):
    # token.decode and the ring's lookup never raise and name no session
    srv, _ = _server()
    out = bytearray(token.RAW_BYTES)
    for t in (raw, bytearray(raw), memoryview(raw)):
        assert token.decode(t, out) in (True, False)
        assert srv.ring.get(t) is None
    try:
        s = raw.decode()
    except UnicodeError:
        return False
    assert srv.ring.get(s) is None
    return token.decode(s, out)


def host(raw):
    # host.host_ok on a value inside a larger buffer; returns its verdict
    buf = bytearray(b"Host: " + raw + b"\r\n")
    return host_ok(buf, 6, 6 + len(raw), NAMES)


CHECKS = {
    "head": head,
    "cookie": cookies,
    "query": query,
    "json": json_body,
    "token": tokens,
    "host": host,
}
