# Work slots: a connection borrows one only while it is served. Idle keep-alive connections hold
# none; a client holding no work slot gets the next free one before a client holding one; a
# connection that holds one while waiting on its peer (half a request, or an answer the peer
# does not read) loses it after stall_ms when another connection waits; pipelined requests are
# not parsed while an earlier answer is unsent; a wait for a work slot ends in 503.
import asyncio

from _http_support import Client, serving, until

from _support import FakeClock
from sessionring.http import Server

BIG = b"x" * 65536  # one answer body, made once (the handler allocates nothing per request)


def _app(**kw):
    app = Server(**kw)
    gate = asyncio.Event()

    @app.route("/", methods=("GET", "POST"))
    def index(req):
        return "ok"

    @app.route("/big")
    def big(req):
        return BIG

    @app.route("/hold")
    async def hold(req):
        await gate.wait()  # busy until the test opens the gate
        return "held"

    return app, gate


def test_idle_keep_alive_connections_hold_no_work_slot():
    app, _ = _app(max_conns=8, work_slots=1)

    async def body(port):
        cs = []
        for _ in range(6):  # (MicroPython has no await in comprehensions)
            c = await Client.open(port)
            assert (await c.request("GET", "/"))[2] == b"ok"
            cs.append(c)
        await until(lambda: app.stats()["idle"] == 6)
        s = app.stats()
        assert s["open"] == 6 and s["work_busy"] == 0 and s["work_slots"] == 1
        for c in cs:  # each is served again, one at a time through the one work slot
            assert (await c.request("GET", "/"))[2] == b"ok"
        assert app.stats()["requests"] == 12
        for c in cs:
            await c.close()

    serving(app, body)


def test_a_slow_head_loses_its_work_slot_after_stall_ms_when_another_waits():
    clk = FakeClock()
    app, _ = _app(clock=clk, work_slots=1, stall_ms=300, request_timeout_ms=60000)

    async def body(port):
        slow = await Client.open(port)
        await slow.send(b"GET / HTTP/1.1\r\nHo")
        await until(lambda: app.stats()["reading"] == 1)
        clk.advance(1000)
        assert app.check_timeouts() == 0  # nobody waits: it may take its time
        other = await Client.open(port, source="127.0.0.2")
        await other.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        # it has held the slot 1000 ms already: cut as soon as the other comes to wait
        st, h, b = await slow.response()
        assert st == 408 and h["connection"] == "close"
        assert (await other.response())[2] == b"ok"
        s = app.stats()
        assert s["stalled"] == 1 and s["timeouts"] == 0
        await slow.close()
        await other.close()

    serving(app, body)


def test_stall_ms_counts_from_when_the_wait_began():
    clk = FakeClock()
    app, gate = _app(clock=clk, work_slots=2, stall_ms=300, request_timeout_ms=60000)

    async def body(port):
        busy = await Client.open(port)
        await busy.send(b"GET /hold HTTP/1.1\r\nHost: h\r\n\r\n")  # in its handler: not cut
        slow = await Client.open(port)
        await slow.send(b"GET / HTTP/1.1\r\nHo")
        await until(lambda: app.stats()["reading"] == 1 and app.stats()["busy"] == 1)
        other = await Client.open(port, source="127.0.0.2")
        await other.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        await until(lambda: app.stats()["waiting_work"] == 1)
        clk.advance(299)
        assert app.check_timeouts() == 0
        clk.advance(1)
        assert app.check_timeouts() == 1  # the slow head, never the busy handler
        assert (await slow.response())[0] == 408
        assert (await other.response())[2] == b"ok"
        gate.set()
        assert (await busy.response())[2] == b"held"
        for c in (busy, slow, other):
            await c.close()

    serving(app, body)


def test_a_peer_that_does_not_read_loses_its_work_slot_and_pipelining_waits():
    # 64 pipelined requests for a 64 KB answer each, never read: the answers are written one
    # at a time (the next request is not parsed while an answer is unsent), the writer blocks,
    # and is cut once another connection has waited stall_ms for the work slot.
    clk = FakeClock()
    app, _ = _app(clock=clk, work_slots=1, stall_ms=300, write_timeout_ms=60000)

    async def body(port):
        hog = await Client.open(port)
        await hog.send(b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n" * 64)
        await until(lambda: app.stats()["writing"] == 1)
        for _ in range(20):  # the write stays blocked: nothing more is parsed
            await asyncio.sleep(0.005)
        n = app.stats()["requests"]
        assert n < 64 and app.stats()["writing"] == 1
        other = await Client.open(port, source="127.0.0.2")
        await other.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        await until(lambda: app.stats()["waiting_work"] == 1)
        assert app.stats()["requests"] == n
        clk.advance(300)
        assert app.check_timeouts() == 1
        assert (await other.response())[2] == b"ok"
        await until(lambda: app.stats()["open"] == 1)  # the hog is closed
        s = app.stats()
        assert s["stalled"] == 1 and s["requests"] == n + 1
        await hog.close()
        await other.close()

    serving(app, body)


def test_a_client_holding_no_work_slot_is_lent_the_next_one_first():
    clk = FakeClock()
    app, gate = _app(clock=clk, work_slots=2, stall_ms=0, request_timeout_ms=60000)

    async def body(port):
        a1 = await Client.open(port, source="127.0.0.10")
        a2 = await Client.open(port, source="127.0.0.10")
        for c in (a1, a2):
            await c.send(b"GET / HTTP/1.1\r\nHo")  # client A holds both work slots
        await until(lambda: app.stats()["reading"] == 2)
        a3 = await Client.open(port, source="127.0.0.10")
        await a3.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        await until(lambda: app.stats()["waiting_work"] == 1)
        clk.advance(10)
        b = await Client.open(port, source="127.0.0.11")
        await b.send(b"GET /hold HTTP/1.1\r\nHost: h\r\n\r\n")
        await until(lambda: app.stats()["waiting_work"] == 2)
        await a1.send(b"st: h\r\n\r\n")  # a slot frees: B holds none, A would hold one
        assert (await a1.response())[2] == b"ok"
        await until(lambda: app.stats()["busy"] == 1)  # B is in its handler
        assert app.stats()["waiting_work"] == 1  # A's third still waits, though it came first
        gate.set()
        assert (await b.response())[2] == b"held"
        assert (await a3.response())[2] == b"ok"  # B's slot, while a2 still holds the other
        await a2.send(b"st: h\r\n\r\n")
        assert (await a2.response())[2] == b"ok"
        for c in (a1, a2, a3, b):
            await c.close()

    serving(app, body)


def test_a_wait_for_a_work_slot_ends_in_503():
    clk = FakeClock()
    app, gate = _app(clock=clk, work_slots=1, request_timeout_ms=200, first_request_ms=0)

    async def body(port):
        busy = await Client.open(port)
        await busy.send(b"GET /hold HTTP/1.1\r\nHost: h\r\n\r\n")
        await until(lambda: app.stats()["busy"] == 1)
        other = await Client.open(port, source="127.0.0.2")
        await other.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        await until(lambda: app.stats()["waiting_work"] == 1)
        clk.advance(199)
        assert app.check_timeouts() == 0
        clk.advance(1)
        assert app.check_timeouts() == 1
        st, h, b = await other.response()
        assert st == 503 and h["retry-after"] == "1" and await other.closed()
        gate.set()
        assert (await busy.response())[2] == b"held"  # the busy one was never cut
        assert app.stats()["refused"] == 1
        await busy.close()
        await other.close()

    serving(app, body)
