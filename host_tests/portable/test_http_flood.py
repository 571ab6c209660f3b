# Floods and slow clients: the connection tasks are capped, a client gets a fair share of the
# slots and of the wait queue, a new connection's first request must come quickly, and HTTP/1.0
# without Host is refused where host names are checked. Each test names the attack it stands for.
import asyncio
import sys

from _http_support import Client, ask, serving, until
from _http_support import ok_app as _app

from _support import FakeClock

IS_MICROPYTHON = sys.implementation.name == "micropython"


async def _slow(port, source=None):
    # A slowloris connection: half a head, then nothing.
    c = await Client.open(port, source=source)
    await c.send(b"GET / HTTP/1.1\r\nHo")
    return c


def test_two_busy_addresses_cannot_keep_a_third_out():
    # Two addresses hold every slot with slow heads (none idle, so none evictable by age);
    # a third address still gets a slot: the newest unanswered connection of the client
    # holding most is closed for it.
    clk = FakeClock()
    # (a work slot per connection: the policy for connections; test_work_slots.py has the
    # slow heads that hold work slots)
    app = _app(clock=clk, max_conns=4, work_slots=4, max_per_client=3, request_timeout_ms=60000)

    async def body(port):
        held = []
        for src in ("127.0.0.10", "127.0.0.10", "127.0.0.11", "127.0.0.11"):
            held.append(await _slow(port, src))
            clk.advance(10)
        await until(lambda: app.stats()["reading"] == 4)
        admin = await Client.open(port, source="127.0.0.3")
        assert (await admin.request("GET", "/"))[2] == b"ok"
        assert app.stats()["evicted"] == 1
        closed = []
        for c in held:  # (MicroPython has no await in comprehensions)
            if await _gone(c):
                closed.append(c)
        assert len(closed) == 1 and closed[0] in (held[1], held[3])  # a newest one
        # the attackers reconnect: they may take the admin's idle keep-alive slot (the
        # longest idle), but a new admin connection always gets one back
        for _ in range(3):
            extra = await _slow(port, "127.0.0.10")
            held.append(extra)
            await until(lambda: app.stats()["open"] == 4 or app.pool.waiting == 1)
            admin2 = await Client.open(port, source="127.0.0.3")
            assert (await admin2.request("GET", "/"))[2] == b"ok"
            held.append(admin2)
        for c in held + [admin]:
            await c.close()

    serving(app, body)


async def _gone(c):
    # True if the server has closed c (EOF within a short wait), False if it is still open.
    try:
        d = await asyncio.wait_for(c.r.read(10), 0.2)
    except asyncio.TimeoutError:
        return False
    except OSError:
        return True
    return d == b""


def test_a_client_waits_in_at_most_a_quarter_of_the_queue():
    # backlog 4: one place per client. Slots shared one each: no eviction is fair, so new
    # connections wait; a client's second waiting connection gets 503 at once, another
    # client's still waits.
    clk = FakeClock()
    app = _app(clock=clk, max_conns=2, backlog=4, request_timeout_ms=60000, linger_ms=20)

    async def body(port):
        a = await _slow(port, "127.0.0.10")
        b = await _slow(port, "127.0.0.11")
        await until(lambda: app.stats()["reading"] == 2)
        a2 = await Client.open(port, source="127.0.0.10")
        await a2.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        await until(lambda: app.pool.waiting == 1)
        a3 = await Client.open(port, source="127.0.0.10")
        await a3.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        assert (await a3.response())[0] == 503  # at once: its client already waits
        b2 = await Client.open(port, source="127.0.0.11")
        await b2.send(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        await until(lambda: app.pool.waiting == 2)
        await a.send(b"st: h\r\n\r\n")  # a's slot is answered, then kept alive (idle)
        assert (await a.response())[2] == b"ok"
        assert (await a2.response())[2] == b"ok"  # took a's slot (its own client's)
        for c in (a, b, a2, a3, b2):
            await c.close()

    serving(app, body)


def test_first_request_must_come_quickly():
    # A new connection has first_request_ms for its whole first request, however slowly it
    # dribbles it (408), or is closed if it sends nothing; a keep-alive connection that has
    # been answered is held to keepalive_ms only.
    clk = FakeClock()
    app = _app(
        clock=clk, first_request_ms=300, request_timeout_ms=5000, keepalive_ms=5000, linger_ms=20
    )

    async def body(port):
        slow = await _slow(port)
        silent = await Client.open(port)
        served = await Client.open(port)
        assert (await served.request("GET", "/"))[2] == b"ok"
        await until(lambda: app.stats()["reading"] == 1 and app.stats()["idle"] == 2)
        clk.advance(299)
        assert app.check_timeouts() == 0
        clk.advance(1)
        assert app.check_timeouts() == 2
        assert (await slow.response())[0] == 408
        assert await silent.closed()
        assert (await served.request("GET", "/"))[2] == b"ok"
        for c in (slow, silent, served):
            await c.close()

    serving(app, body)


def test_a_flood_of_idle_connections_is_capped_and_the_server_stays_up():
    # Many more silent connections than slots and wait places: the connection tasks never
    # exceed max_conns + backlog (on MicroPython the extra ones are refused by the accept loop
    # with no task), each extra one gets a 503 or is closed for a newer one from an address
    # holding none, and afterwards the server serves.
    app = _app(max_conns=2, backlog=4, request_timeout_ms=400, linger_ms=20)
    sources = ("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")

    async def body(port):
        flood = []
        for i in range(24):
            flood.append(await Client.open(port, source=sources[i % 4]))
            # (the MicroPython client connects blocking: let the server accept each first)
            await until(lambda n=i: app.pool.accepted > n)
        away = 24 - app.pool.task_cap()  # at least this many turned away: 503 or evicted
        await until(lambda: app.stats()["refused"] + app.stats()["evicted"] >= away)
        print("24 silent connections: peak tasks", app.stats()["peak_tasks"], app.stats())
        if IS_MICROPYTHON:  # (CPython's asyncio makes a task for every socket itself)
            assert app.stats()["peak_tasks"] <= app.pool.task_cap(), app.stats()
        turned = 0
        for c in flood:
            try:
                r = await asyncio.wait_for(c.response(), 0.05)
            except asyncio.TimeoutError:
                continue  # still open: holding a slot or waiting for one
            if r is None or r[0] == 503:
                turned += 1
        assert turned >= away, turned
        for c in flood:
            await c.close()
        await until(lambda: app.pool.tasks == 0)
        resp, closed = await ask(port, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        assert resp[2] == b"ok"

    serving(app, body)


def test_below_the_heap_reserve_a_new_connection_gets_503_with_no_task():
    # heap_reserve above all the heap there is: on MicroPython every new connection is refused
    # by the accept loop itself. CPython has no heap to watch: the reserve does nothing there.
    app = _app(heap_reserve=1 << 30, linger_ms=20)

    async def body(port):
        resp, closed = await ask(port, b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        if IS_MICROPYTHON:
            assert resp[0] == 503 and closed and app.pool.tasks == 0
            assert app.stats()["refused"] == 1
        else:
            assert resp[2] == b"ok"

    serving(app, body)


def test_http10_without_host_is_refused_where_names_are_checked():
    open_app = _app()
    checked = _app(hosts=("router.lan",), linger_ms=20)

    async def body_open(port):
        resp, _ = await ask(port, b"GET / HTTP/1.0\r\n\r\n")
        assert resp[2] == b"ok"  # HTTP/1.0 may omit Host

    async def body_checked(port):
        resp, closed = await ask(port, b"GET / HTTP/1.0\r\n\r\n")
        assert resp[0] == 400 and closed
        resp, _ = await ask(port, b"GET / HTTP/1.0\r\nHost: router.lan\r\n\r\n")
        assert resp[2] == b"ok"

    serving(open_app, body_open)
    serving(checked, body_checked)
