# The Date header: on every answer while the wall clock is set (it reads 2024 or later), on
# none while it is not (a board boots at its epoch), never with date=False; the line is made
# at most once a second.
import time

from _http_support import Client, serving

from _support import FakeClock
from sessionring.http import Response, Server
from sessionring.response import date_line


class Wall:
    # An injected wall clock: seconds of the Unix epoch, and the port's gmtime.
    def __init__(self, t):
        self.t = t
        self.made = 0

    def time(self):
        return self.t

    def gmtime(self, t):
        self.made += 1
        return time.gmtime(t)


T = 1796670300  # 2026-12-07 19:05:00 UTC, a Monday


def _app(**kw):
    app = Server(**kw)

    @app.route("/")
    def index(req):
        return "ok"

    @app.route("/r")
    def resp(req):
        r = Response.redirect("/")
        r.set_cookie("a", "b")
        return r

    return app


def test_date_line_format():
    assert date_line(T, time.gmtime) == b"Date: Mon, 07 Dec 2026 19:05:00 GMT\r\n"
    assert (
        date_line(T + 86400 * 6 + 3661, time.gmtime) == b"Date: Sun, 13 Dec 2026 20:06:01 GMT\r\n"
    )


def test_a_clock_that_was_never_set_sends_no_date():
    # 1 Jan 2000 00:01:40 of a board's epoch, or 1970 on the unix port: before 2024 either way
    assert date_line(100, time.gmtime) == b""
    assert date_line(946684900, time.gmtime) == b""


def test_every_answer_carries_date_while_the_clock_is_set():
    wall = Wall(T)
    clk = FakeClock()
    app = _app(wall=wall, clock=clk)

    async def body(port):
        c = await Client.open(port)
        for path, st in (("/", 200), ("/r", 303), ("/nope", 404)):
            s, h, b = await c.request("GET", path)
            assert s == st and h["date"] == "Mon, 07 Dec 2026 19:05:00 GMT", (path, h)
        assert wall.made == 1  # made once for the second
        wall.t = T + 1
        clk.advance(999)
        s, h, b = await c.request("GET", "/")
        assert h["date"] == "Mon, 07 Dec 2026 19:05:00 GMT" and wall.made == 1
        clk.advance(1)
        s, h, b = await c.request("GET", "/")
        assert h["date"] == "Mon, 07 Dec 2026 19:05:01 GMT" and wall.made == 2
        wall.t = 100  # the clock is lost (a reboot without NTP)
        clk.advance(1000)
        s, h, b = await c.request("GET", "/")
        assert s == 200 and "date" not in h
        await c.close()

    serving(app, body)


def test_date_false_sends_none():
    app = _app(wall=Wall(T), date=False)

    async def body(port):
        c = await Client.open(port)
        s, h, b = await c.request("GET", "/")
        assert s == 200 and "date" not in h
        await c.close()

    serving(app, body)
