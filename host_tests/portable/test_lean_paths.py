# The lean paths behind the admin pages' speed (docs/benchmarks.md, "Admin firmware") do what
# the long ones did: a Response's encoded header lines reach the wire on the request loop's
# fast path and through Wire.answer, one data key reads as the whole data area does, the
# ring's counts allocate nothing, pages carry the security lines, the free-heap figure
# is measured at most once a second, and the admin guards allocate nothing of their own.
import gc

from _firmware_modules import admin_app as _app
from _http_support import Client, serving

from _support import no_alloc, raises
from admin import web
from admin.pages import Out
from sessionring.http import Response, Server
from sessionring.response import encode_headers
from sessionring.ring import SessionRing
from sessionring.session import MISSING, ROLE_ADMIN, decode_items, encode_items, find_item

LINES = encode_headers({"X-Frame-Options": "DENY", "Cache-Control": "no-store"})


class Lean(Response):
    lines = LINES

    def __init__(self, body, status=200):
        self.body = body
        self.status = status


def _server():
    app = Server()

    @app.route("/lean")
    def lean(req):
        return Lean("<p>lean</p>")

    @app.route("/cookie")
    def with_cookie(req):
        r = Lean(b"<p>c</p>", 201)
        r.set_cookie("t", "v")
        return r

    @app.route("/header")
    def with_header(req):
        r = Lean("x")
        r.headers["X-One"] = "1"
        return r

    @app.route("/json")
    def as_json(req):
        r = Response.json({"a": 1})
        r.lines = LINES
        return r

    @app.route("/bad")
    def bad_body(req):
        return Lean(12)  # not a body: 500, and the connection goes on working

    return app


def test_encoded_lines_go_out_on_every_path():
    async def body(port):
        c = await Client.open(port)
        st, h, b = await c.request("GET", "/lean")  # the request loop's fast path
        assert st == 200 and b == b"<p>lean</p>" and h["content-length"] == "11"
        assert h["content-type"] == "text/html; charset=utf-8"
        assert h["x-frame-options"] == "DENY" and h["cache-control"] == "no-store"
        st, h, b = await c.request("HEAD", "/lean")
        assert st == 200 and b == b"" and h["content-length"] == "11"
        assert h["x-frame-options"] == "DENY"
        st, h, b = await c.request("GET", "/cookie")  # a cookie: Wire.answer
        assert st == 201 and b == b"<p>c</p>" and h["set-cookie"].startswith("t=v;")
        assert h["cache-control"] == "no-store"
        st, h, b = await c.request("GET", "/header")  # a header of its own: Wire.answer
        assert st == 200 and h["x-one"] == "1" and h["x-frame-options"] == "DENY"
        st, h, b = await c.request("GET", "/json")
        assert h["content-type"] == "application/json" and h["cache-control"] == "no-store"
        assert b.replace(b" ", b"") == b'{"a":1}'
        await c.close()
        c = await Client.open(port)
        st, h, b = await c.request("GET", "/bad")
        assert st == 500
        await c.close()
        c = await Client.open(port)
        st, h, b = await c.request("GET", "/lean")
        assert st == 200 and b == b"<p>lean</p>"
        await c.close()

    serving(_server(), body)


def test_encoded_lines_are_checked():
    raises(ValueError, encode_headers, {"X-A": "1\r\nSet-Cookie: sid=stolen"})
    raises(ValueError, encode_headers, {"X:A": "1"})
    got = encode_headers({"X-A": "1", "X-B": "2"})  # (MicroPython's dicts keep no order)
    assert got in (b"X-A: 1\r\nX-B: 2\r\n", b"X-B: 2\r\nX-A: 1\r\n")


ITEMS = [
    ("c", "x" * 32),
    ("a", "127.0.0.1"),
    ("n", 12),
    ("t", True),
    ("f", False),
    ("z", None),
    ("b", b"\x00\xff"),
    ("\u00e9", "\u00fc"),
]


def test_one_data_key_reads_as_the_whole_area():
    enc = encode_items(ITEMS)
    area = bytearray(96)
    area[: len(enc)] = enc
    assert decode_items(area, 0, len(area)) == ITEMS
    for k, v in ITEMS:
        got = find_item(area, 0, len(area), k.encode())
        assert got == v and type(got) is type(v), (k, got)
    assert find_item(area, 0, len(area), b"q") is MISSING
    assert find_item(area, 0, len(area), b"") is MISSING
    assert find_item(bytearray(8), 0, 8, b"c") is MISSING  # an empty area
    raises(ValueError, decode_items, enc, 0, len(enc) - 1)  # the last entry runs past the end
    raises(ValueError, find_item, enc, 0, len(enc) - 1, b"q")


def test_ring_session_reads_and_counts():
    # the ticks clock (a FakeClock's 2**30 period is a big int on a 32-bit build: it allocates)
    r = SessionRing(slots=4, data_bytes=64)
    s = r.create("admin", ROLE_ADMIN)
    s["c"] = "t" * 32
    s["a"] = "1.2.3.4"
    s["c"] = "u" * 32  # replaced, not added
    assert s.get("c") == "u" * 32 and s["a"] == "1.2.3.4" and s.items()[1][0] == "c"
    assert "a" in s and "q" not in s and s.get("q", 5) == 5 and s.get(3) is None
    raises(KeyError, lambda: s["q"])
    assert s.user == "admin"
    assert no_alloc(len, r) == 1
    assert no_alloc(r.sweep) == 0
    assert s.expires_in() in (899, 900)


def test_pages_carry_the_security_lines():
    app, _ = _app("lean-pages")
    o = Out()
    o.w(b"x" * 100)
    page = web.html(o)
    assert bytes(page.body) == b"x" * 100 and page.status == 200
    assert page.lines == web.PAGE_LINES and b"X-Frame-Options: DENY\r\n" in page.lines
    assert b"Content-Security-Policy: default-src 'none'; style-src 'sha256-" in page.lines
    assert web.json({"a": 1}).content_type == "application/json"
    bad = app.forbidden()  # the app's own problem pages too
    assert bad.status == 403 and bad.lines == web.PAGE_LINES and b"Forbidden" in bytes(bad.body)


def test_free_heap_is_measured_at_most_once_a_second():
    app, clock = _app("lean-heap")
    first = app.free_heap()
    if not hasattr(gc, "mem_free"):  # CPython: nothing to report
        assert first is None
        return
    at = app.heap_at
    junk = [bytearray(256) for _ in range(40)]
    assert app.free_heap() == first and app.heap_at == at  # remembered within the second
    clock.advance(999)
    assert app.free_heap() == first
    clock.advance(1)
    again = app.free_heap()
    assert app.heap_at != at and again < first + 64 * 1024
    del junk


TOK = "t" * 32  # a CSRF token, made once (a string made in the check would allocate)
FORBIDDEN = ("403",)
DONE = ("done",)


class _Session:
    # what the guards read of an admin session
    valid = True
    role = ROLE_ADMIN

    def __init__(self, csrf=TOK):
        self.csrf = csrf

    def get(self, key, default=None):
        return self.csrf if key == "c" else default


class _Req:
    # what the guards read of a request
    def __init__(self, session, csrf=TOK):
        self.session = session
        self.cookies = {"csrf": csrf}


class _Site:
    # what the guards read of the app: the Origin and token checks stand in (the guards' own
    # cost is measured here; auth.py's checks have their own tests)
    csrf_cookie = "csrf"

    def form_ok(self, req, token):
        return token == TOK

    def forbidden(self):
        return FORBIDDEN


def _handler(a, req, got):
    return DONE if got is not None else None


class _Guarded(_Site):
    # the guards on methods, as app.Admin has them (the server calls a bound method)
    page = web.admin_page(_handler)
    form = web.admin_form(_handler)


def test_guards_allocate_nothing_of_their_own():
    a = _Site()
    req = _Req(_Session())
    for guard in (web.admin_page, web.admin_form, web.visitor_form, web.admin_api):
        assert no_alloc(guard(_handler), a, req) is DONE, guard
    g = _Guarded()
    for bound in (g.page, g.form):
        assert no_alloc(bound, req) is DONE
    # and they refuse: not logged in, a bad token
    out = _Req(None)
    assert web.admin_page(_handler)(a, out).headers["Location"] == "/login"
    assert web.admin_form(_handler)(a, out).headers["Location"] == "/login"
    assert web.admin_api(_handler)(a, out).status == 401
    assert web.admin_form(_handler)(a, _Req(_Session("u" * 32))) is FORBIDDEN
    assert web.visitor_form(_handler)(a, _Req(None, "u" * 32)) is FORBIDDEN
    assert web.admin_page(_handler)(a, _Req(_Session("u" * 32))) is DONE  # a page: no token
