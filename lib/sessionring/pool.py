# The connection pool: max_conns preallocated connection records (conn.Conn) and work_slots
# work slots (conn.Work: request buffer, Request, session view, answer scratch) shared by all
# connections; who gets a record and who gets a work slot; the watchdog that enforces the
# timeouts; and the accept loop. Nothing that happens to one connection reaches the accept
# loop, and a record, a work slot and a socket are always given back.
#
# A connection between requests is parked on its socket's readability with no work slot: it
# costs its record, its socket and one small task. When bytes come it takes a free work slot,
# or waits for one (the slot goes to a waiting client holding the fewest slots); it gives the
# slot back once its answer is written, unless pipelined bytes remain. A connection that holds
# a work slot while waiting on its peer (a request that does not come in, an answer the peer
# does not read) loses it after stall_ms when another connection waits for one.
#
# Under a flood: at most max_conns + backlog connection tasks exist at once (served, waiting
# or being refused); past that, or with less than heap_reserve bytes of heap free, a new
# socket gets a 503 straight from the accept loop, with no task. A client may wait for a
# record in at most a quarter of the backlog's places, and a client holding no connection (or
# two fewer than another) takes the newest not-yet-answered connection of the one holding most
# when no record is free: busy addresses cannot keep another out.
import asyncio
import gc

from . import conn, share
from .conn import BUSY, CLOSE, CLOSING, IDLE, KEEP, READ, STALLED, TIMEOUT, WAIT, WRITE
from .response import E503
from .sockio import adopt, readable


def _client_key(a):
    # A client's address without its port, which is also all the record keeps of it: the host
    # of a (host, port) tuple, or the raw sockaddr (MicroPython) with its port bytes zeroed
    # (still a sockaddr: Request.client_addr reads it). None when unknown.
    if isinstance(a, tuple):
        return a[0]
    if isinstance(a, (bytes, bytearray)) and len(a) > 4:
        k = bytearray(a)
        k[2] = k[3] = 0
        return k
    return None


class Counters:
    # What the server counts (Server.stats() reports them).
    def __init__(self):
        self.requests = 0  # requests routed
        self.evicted = 0  # connections closed for another
        self.refused = 0  # connections answered 503 for want of a record or a work slot
        self.timeouts = 0  # connections cut by a timeout
        self.stalled = 0  # connections cut for holding a work slot while waiting on the peer
        self.errors = 0  # handlers (or answers) that raised


class Pool:
    def __init__(self, app, limits, count, binding, wire):
        # app: the Server (its routes, on_error hook and tls context); limits: every tunable
        # (head.Limits); count: Counters.
        self.app = app
        self.lim = limits
        self.count = count
        self.bind = binding
        self.wire = wire
        self.clock = app.clock
        self.closing = False
        self.waiting = 0  # connections waiting for a record
        self.wanting = 0  # connections waiting for a work slot
        self.tasks = 0  # connection tasks alive (served, waiting, being refused)
        self.accepted = 0  # connections accepted, in all
        self.peak = 0  # the most connection tasks alive at once
        self._drop = bytearray(64)  # input read and dropped (refusals, lingering)
        self.wkeys = [None] * limits.backlog  # the client of each connection waiting for a record
        mf = getattr(gc, "mem_free", None)  # (MicroPython; CPython has no heap to watch)
        self._mem_free = mf if limits.heap_reserve > 0 else None
        self._nid = 0
        self.conns = [conn.Conn() for _ in range(limits.max_conns)]
        self.tls = None  # TLS: tls.Gate, which admits TLS connections (tls.py)
        if app.tls is not None:
            from .tls import Gate

            self.tls = Gate(app.tls, self)
        size = limits.buf_size if limits.buf_size > limits.max_head else limits.max_head
        st = binding.store
        self.works = [
            conn.Work(size, limits.out_size, limits, binding, None if st is None else st.view())
            for _ in range(limits.work_slots if limits.work_slots > 0 else 1)
        ]

    def states(self):
        # How many open connections are idle, reading, busy, writing and waiting for work.
        n = [0, 0, 0, 0, 0, 0]
        for c in self.conns:
            if c.owner:
                n[c.state] += 1
        return n[IDLE], n[READ], n[BUSY], n[WRITE], n[WAIT]

    def works_busy(self):
        n = 0
        for w in self.works:
            if w.me:
                n += 1
        return n

    # -- running -----------------------------------------------------------------------------
    async def run(self, ls, stop):
        # Accept until stop is set.
        watch = asyncio.create_task(self._watch())
        acc = asyncio.create_task(self._accept(ls))
        try:
            await stop.wait()
        finally:
            watch.cancel()
            acc.cancel()

    async def shut(self):
        # Cancel every open connection and give them a moment to end.
        self.closing = True
        for c in self.conns:
            if c.owner > 0 and c.why == 0 and c.task is not None:
                c.why = CLOSING
                c.task.cancel()
        for _ in range(100):
            if not any(c.owner for c in self.conns):
                break
            await asyncio.sleep(0)

    def task_cap(self):
        # Connection tasks allowed at once: one per record and one per place in the wait queue.
        return self.lim.max_conns + self.lim.backlog

    def short_of_memory(self):
        # Less than heap_reserve bytes free, even after a collection.
        mf = self._mem_free
        if mf is None or mf() >= self.lim.heap_reserve:
            return False
        gc.collect()
        return mf() < self.lim.heap_reserve

    async def _accept(self, ls):
        # The accept loop: survives a failed accept and running out of memory.
        while True:
            try:
                await readable(ls)
                s, addr = ls.accept()
            except OSError:
                continue
            except MemoryError:
                gc.collect()
                await asyncio.sleep_ms(10)  # let the connections finish and free memory
                continue
            except Exception:  # noqa: BLE001 - nothing may end the accept loop
                await asyncio.sleep_ms(10)
                continue
            self.accepted += 1
            if self.tls is not None:  # TLS: the gate admits the connection or closes it
                self.tls.accepted(s, addr)
                continue
            c = None
            try:
                s = adopt(s)
                if self.short_of_memory():
                    c = False
                elif self.tasks >= self.task_cap():
                    c = (
                        share.take(self, _client_key(addr)) or False
                    )  # only if it gets a record now
                    if c:
                        c.owner = -1  # held for this connection until its task starts
                if c is False:
                    self._refuse_now(s)  # a flood: no task, no linger
                    continue
                try:
                    s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
                except OSError:
                    pass
                asyncio.create_task(self.connection(s, addr, c))
            except MemoryError:
                self._release_held(c)
                self._refuse_now(s)  # no memory for a task: a 503 straight from here
                gc.collect()
            except Exception:  # noqa: BLE001 - the accept loop outlives any one connection
                self._release_held(c)
                s.close()

    @staticmethod
    def _release_held(c):
        # A record taken for a connection whose task never started.
        if c and c.owner == -1:
            c.owner = 0

    def _refuse_now(self, s, close=True):
        # 503 and close on a non-blocking socket, allocating nothing: what the client already
        # sent is read and dropped first (closing with unread input resets the connection,
        # and the client could lose the answer).
        try:
            for _ in range(4):
                if not s.readinto(self._drop):
                    break
        except Exception:  # noqa: BLE001
            pass
        try:
            s.write(E503)
        except Exception:  # noqa: BLE001
            pass
        if close:
            s.close()
        self.count.refused += 1

    # -- timeouts ----------------------------------------------------------------------------
    def watch_ms(self):
        # How often the watchdog looks: a few times per timeout, at most once a second.
        m = self.lim
        t = min(m.request_timeout_ms, m.write_timeout_ms, m.keepalive_ms)
        if m.stall_ms:
            t = min(t, m.stall_ms)
        return min(1000, max(10, t // 4))

    async def _watch(self):
        t = self.watch_ms()
        while True:
            await asyncio.sleep_ms(t)
            try:
                self.check_timeouts()
            except Exception:  # noqa: BLE001 - the watchdog must outlive anything
                pass

    def check_timeouts(self):
        # Cancel connections past their deadline, and those that hold a work slot waiting on
        # their peer past stall_ms while another connection waits for one; returns how many.
        m = self.lim
        ck = self.clock
        now = ck.ticks_ms()
        n = 0
        first = m.first_request_ms
        stall = m.stall_ms if self.wanting else 0
        for c in self.conns:
            st = c.state
            if c.owner <= 0 or c.why:
                continue
            if st == IDLE:
                lim = m.keepalive_ms
            elif st == READ or st == WAIT:
                lim = m.request_timeout_ms
            elif st == WRITE:
                lim = m.write_timeout_ms
            else:
                continue
            waited = ck.ticks_diff(now, c.since)
            why = TIMEOUT if waited >= lim else 0
            if not why and first and not c.served and st != WRITE:
                if ck.ticks_diff(now, c.born) >= first:
                    why = TIMEOUT  # the first request comes quickly
            if not why and stall and (st == READ or st == WRITE) and waited >= stall:
                why = STALLED
            if why:
                c.why = why
                c.task.cancel()
                if why == STALLED:
                    self.count.stalled += 1
                else:
                    self.count.timeouts += 1
                n += 1
        if self.bind.store is not None:
            self.bind.store.tick()  # e.g. keeps the ring's clock stepping across the ticks wrap
        return n

    # -- one connection, start to end --------------------------------------------------------
    async def connection(self, s, addr, c=None, first=-1):
        # Nothing that goes wrong here reaches the accept loop, and the record, the work slot
        # and the socket are always given back. c: a record the accept loop already took;
        # first: the first byte of a TLS connection's first request, read by its handshake.
        # This coroutine's frame is what a parked connection holds: few locals, the work
        # elsewhere (conn.serve, _own, _end), so that it stays small.
        me = 0
        try:
            c = self._record(addr, c)
            if c is None:
                c = await share.wait_for_record(self, _client_key(addr))
            if c is None:
                return await self._turn_away(s)
            me = self._own(c, s, addr, first)
            while True:
                c.state = IDLE
                c.since = self.clock.ticks_ms()
                if c.first < 0:
                    # parked: no work slot, no buffer. (A TLS connection parks only after a
                    # read that would block: mbedtls then holds no decrypted bytes unread.)
                    await c.on(s)
                addr = share.free_work(self, c) or await share.wait_work(self, c)
                addr = await conn.serve(self, c, addr)  # (addr: the work slot, then what next)
                share.give_back(self, me, c)
                if addr != KEEP:
                    break
            if addr != CLOSE:
                await conn.linger(s, self._drop, self.lim.linger_ms)
        except asyncio.CancelledError:
            if c is not None and c.owner == me and c.why == TIMEOUT and c.state == WAIT:
                await self._late(s)
        except MemoryError:
            self._oom(s)
        except Exception:  # noqa: BLE001 - a reset or broken connection ends only itself
            pass
        finally:
            self._end(c, me, s)

    async def _late(self, s):
        # Waited too long for a work slot: 503, its request read and dropped.
        try:
            self._refuse_now(s, False)
            await conn.linger(s, self._drop, self.lim.linger_ms)
        except Exception:  # noqa: BLE001
            pass

    def _oom(self, s):
        gc.collect()
        try:
            s.write(E503)
        except Exception:  # noqa: BLE001
            pass

    def _record(self, addr, c):
        # A record for a new connection task: the one the accept loop took, a free one or an
        # evicted one (share.take), or None.
        self.tasks += 1
        if self.tasks > self.peak:
            self.peak = self.tasks
        if c is None and not self.closing:
            c = share.take(self, _client_key(addr))
        return c

    async def _turn_away(self, s):
        # No record could be had: 503, and the client's input dropped before the close.
        self.count.refused += 1
        s.write(E503)
        if self.tasks <= self.task_cap():  # (else a flood: no linger)
            await conn.linger(s, self._drop, self.lim.linger_ms)

    def _own(self, c, s, addr, first):
        # Record c is this connection's now; its id.
        self._nid = self._nid + 1 & 0x3FFFFFFF or 1
        c.owner = self._nid
        c.why = 0
        c.served = 0
        c.work = None
        c.sock = s
        c.key = _client_key(addr)
        c.task = asyncio.current_task()
        c.since = c.born = self.clock.ticks_ms()
        c.first = first
        c.tls = first >= 0
        return c.owner

    def _end(self, c, me, s):
        # The connection is over: its work slot, its record and its socket are given back.
        self.tasks -= 1
        if me:
            share.give_back(self, me)
        if c is not None and (c.owner == me or me == 0 and c.owner == -1):
            c.owner = 0
            c.state = conn.FREE
            c.task = None
            c.key = None
            c.sock = None
            c.tls = False
        try:
            s.close()
        except Exception:  # noqa: BLE001
            pass
