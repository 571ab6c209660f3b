# The connection pool: max_conns preallocated slots (conn.Slot), who gets one, the watchdog
# that enforces the timeouts, and the accept loop. A connection that finds every slot busy
# waits a while for one, then gets a 503; nothing that happens to one connection reaches the
# accept loop, and a slot and its socket are always given back.
#
# Under a flood: at most max_conns + backlog connection tasks exist at once (served, waiting
# or being refused); past that, or with less than heap_reserve bytes of heap free, a new
# socket gets a 503 straight from the accept loop, with no task. A client may wait for a slot
# in at most a quarter of the backlog's places, and a client holding no connection (or two
# fewer than another) takes the newest not-yet-answered connection of the one holding most
# when no slot is free: busy addresses cannot keep another out.
import asyncio
import gc

from . import conn
from .conn import BUSY, CLOSING, EVICTED, IDLE, READ, TIMEOUT, WRITE
from .response import E503


def _readable(s):
    # MicroPython: wait until the listening socket can accept (its asyncio's own I/O queue).
    yield asyncio.core._io_queue.queue_read(s)


def _client_key(a):
    # A client's address without its port: the host of a (host, port) tuple, or the raw
    # sockaddr (MicroPython unix port) without its two port bytes. None when unknown.
    if isinstance(a, tuple):
        return a[0]
    if isinstance(a, (bytes, bytearray)) and len(a) > 4:
        return bytes(a[:2]) + bytes(a[4:])
    return None


class Pool:
    def __init__(self, srv, limits, binding, wire):
        self.srv = srv
        self.bind = binding
        self.wire = wire
        self.clock = srv.clock
        self.waiting = 0  # connections waiting for a slot
        self.tasks = 0  # connection tasks alive (served, waiting, being refused)
        self.accepted = 0  # connections accepted, in all
        self.peak = 0  # the most connection tasks alive at once
        self._drop = bytearray(64)  # input read and dropped before a refusal with no task
        self._wkeys = [None] * srv.backlog  # the client of each waiting connection
        mf = getattr(gc, "mem_free", None)  # (MicroPython; CPython has no heap to watch)
        self._mem_free = mf if srv.heap_reserve > 0 else None
        self._nid = 0
        self.tls = None  # TLS: tls.Gate, which admits TLS connections
        if srv.tls is not None:
            from .tls import Gate

            self.tls = Gate(srv, self)
        size = srv.buf_size if srv.buf_size > srv.max_head else srv.max_head
        st = binding.store
        self.slots = [
            conn.Slot(size, limits, binding, None if st is None else st.view())
            for _ in range(srv.max_conns)
        ]

    def states(self):
        # How many open connections are idle, reading, busy and writing.
        n = [0, 0, 0, 0, 0]
        for c in self.slots:
            if c.owner:
                n[c.state] += 1
        return n[IDLE], n[READ], n[BUSY], n[WRITE]

    # -- running -----------------------------------------------------------------------------
    async def run(self, ls, stop):
        # Accept until stop is set.
        watch = asyncio.create_task(self._watch())
        acc = None
        srv = None
        try:
            if getattr(getattr(asyncio, "core", None), "_io_queue", None) is not None:
                acc = asyncio.create_task(self._accept(ls))  # MicroPython
            else:
                tls = self.tls  # TLS: asyncio's TLS, through the gate's cap
                kw = tls.server_options() if tls else {}
                cb = tls.peer if tls else self._peer
                srv = await asyncio.start_server(cb, sock=ls, backlog=self.srv.backlog, **kw)
            await stop.wait()
        finally:
            watch.cancel()
            if acc is not None:
                acc.cancel()
            if srv is not None:
                srv.close()

    async def shut(self):
        # Cancel every open connection and give them a moment to end.
        for c in self.slots:
            if c.owner and c.why == 0 and c.task is not None:
                c.why = CLOSING
                c.task.cancel()
        for _ in range(100):
            if not any(c.owner for c in self.slots):
                break
            await asyncio.sleep(0)

    def task_cap(self):
        # Connection tasks allowed at once: one per slot and one per place in the wait queue.
        return self.srv.max_conns + self.srv.backlog

    def _short_of_memory(self):
        # Less than heap_reserve bytes free, even after a collection.
        mf = self._mem_free
        if mf is None or mf() >= self.srv.heap_reserve:
            return False
        gc.collect()
        return mf() < self.srv.heap_reserve

    async def _accept(self, ls):
        # MicroPython's accept loop: survives a failed accept and running out of memory.
        while True:
            try:
                await _readable(ls)
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
            try:
                c = None
                if self._short_of_memory():
                    c = False
                elif self.tasks >= self.task_cap():
                    c = self.take(_client_key(addr)) or False  # only if it gets a slot now
                    if c:
                        c.owner = -1  # held for this connection until its task starts
                if c is False:
                    s.setblocking(False)
                    self._refuse_now(s)  # a flood: no task, no linger
                    continue
                s.setblocking(False)
                try:
                    s.setsockopt(6, 1, 1)  # IPPROTO_TCP, TCP_NODELAY
                except OSError:
                    pass
                st = asyncio.StreamReader(s)  # one MicroPython Stream reads and writes
                asyncio.create_task(self.connection(st, st, addr, c))
            except MemoryError:
                self._release_held(c)
                self._refuse_now(s)  # no memory for a task: a 503 straight from here
                gc.collect()
            except Exception:  # noqa: BLE001 - the accept loop outlives any one connection
                self._release_held(c)
                s.close()

    @staticmethod
    def _release_held(c):
        # A slot taken for a connection whose task never started.
        if c and c.owner == -1:
            c.owner = 0

    def _refuse_now(self, s):
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
        s.close()
        self.srv.refused += 1

    def _peer(self, reader, writer):
        # CPython's start_server callback.
        self.accepted += 1
        return self.connection(reader, writer, writer.get_extra_info("peername"))

    # -- timeouts ----------------------------------------------------------------------------
    def watch_ms(self):
        # How often the watchdog looks: a few times per timeout, at most once a second.
        s = self.srv
        t = min(s.request_timeout_ms, s.write_timeout_ms, s.keepalive_ms)
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
        # Cancel connections past their deadline; returns how many.
        s = self.srv
        ck = self.clock
        now = ck.ticks_ms()
        n = 0
        first = s.first_request_ms
        for c in self.slots:
            st = c.state
            if st == IDLE:
                lim = s.keepalive_ms
            elif st == READ:
                lim = s.request_timeout_ms
            elif st == WRITE:
                lim = s.write_timeout_ms
            else:
                continue
            late = ck.ticks_diff(now, c.since) >= lim
            if not late and first and not c.served and st != WRITE:
                late = ck.ticks_diff(now, c.born) >= first  # the first request comes quickly
            if c.why == 0 and late:
                c.why = TIMEOUT
                c.task.cancel()
                s.timeouts += 1
                n += 1
        if self.bind.store is not None:
            self.bind.store.tick()  # e.g. keeps the ring's clock stepping across the ticks wrap
        return n

    # -- who gets a slot -----------------------------------------------------------------------
    def take(self, key=None):
        # A free slot, else the slot of the longest-idle connection, which is closed for it: a
        # keep-alive connection between requests, or one that has sent nothing for
        # fresh_idle_ms (so a burst of new connections does not close each other before they
        # are read); never one of a client holding fewer connections than key's. None when
        # every connection is busy. A client (key) holding max_per_client connections may only
        # take the slot of its own longest-idle one: one device on the network cannot fill
        # every slot and keep the others out. A client that would get nothing may take the
        # newest unanswered connection of the one holding most (_unfair).
        srv = self.srv
        lim = srv.max_per_client if key is not None else 0
        free = None
        mine = 0
        for c in self.slots:
            if c.owner == 0:
                if not lim:
                    return c
                if free is None:
                    free = c
            elif key is not None and c.key == key:
                mine += 1
        if lim and mine >= lim:
            old = self._idlest(key, mine, True)
        elif free is not None:
            return free
        else:
            old = self._idlest(key, mine, False)
            if old is None and key is not None:
                old = self._unfair(key, mine)
        if old is not None:
            old.why = EVICTED
            old.task.cancel()
            srv.evicted += 1
        return old

    def _held(self, key):
        n = 0
        for c in self.slots:
            if c.owner and c.key == key:
                n += 1
        return n

    def _idlest(self, key, mine, own):
        # The longest-idle evictable connection: of client key only (own), or of any client
        # holding at least as many connections as key does (mine).
        ck = self.clock
        now = ck.ticks_ms()
        fresh = self.srv.fresh_idle_ms
        old = None
        for c in self.slots:
            if c.owner == 0 or c.state != IDLE or c.why != 0:
                continue
            if not c.served and ck.ticks_diff(now, c.since) < fresh:
                continue
            if own and c.key != key:
                continue
            if old is not None and ck.ticks_diff(c.since, old.since) >= 0:
                continue
            if key is not None and c.key != key and self._held(c.key) < mine:
                continue  # a client with fewer connections keeps its idle one
            old = c
        return old

    def _unfair(self, key, mine):
        # Every slot is busy and none idle: the newest connection not yet answered (waiting for
        # or reading its first request) of the client holding the most slots, if key holds none
        # or the other holds at least two more. None when the slots are shared fairly.
        top = None
        most = mine + 1 if mine else 0
        for c in self.slots:
            if c.owner == 0 or c.key is None or c.key == key:
                continue
            n = 0
            for d in self.slots:
                if d.owner and d.key == c.key:
                    n += 1
            if n > most:
                most = n
                top = c.key
        if top is None:
            return None
        ck = self.clock
        new = None
        for c in self.slots:
            if c.owner and c.key == top and c.why == 0 and not c.served:
                if c.state == IDLE or c.state == READ:
                    if new is None or ck.ticks_diff(c.born, new.born) > 0:
                        new = c
        return new

    def _wait_place(self, key):
        # A place in the wait queue for a connection of client key, or -1: the queue is full,
        # or the client already holds a quarter of it.
        share = self.srv.backlog // 4 or 1
        free = -1
        n = 0
        wk = self._wkeys
        for i in range(len(wk)):
            k = wk[i]
            if k is None:
                if free < 0:
                    free = i
            elif k == key:
                n += 1
        return free if n < share else -1

    async def _wait_for_slot(self, key):
        # Every slot is busy: wait for one (polling; the overload path). Long enough for the
        # watchdog to have cut any client that was too slow when we came. None on giving up.
        srv = self.srv
        c = None
        i = -1 if srv.closing else self._wait_place(key)
        if i < 0:
            return None
        self._wkeys[i] = key if key is not None else b""
        self.waiting += 1
        try:
            for _ in range((srv.request_timeout_ms + 2 * self.watch_ms()) // 20):
                await asyncio.sleep_ms(20)
                c = None if srv.closing else self.take(key)
                if c is not None:
                    break
        finally:
            self.waiting -= 1
            self._wkeys[i] = None
        return c

    # -- one connection, start to end --------------------------------------------------------
    async def connection(self, reader, writer, addr, c=None):
        # Nothing that goes wrong here reaches the accept loop, and the slot and the socket are
        # always given back. c: a slot the accept loop already took for it.
        srv = self.srv
        me = 0
        self.tasks += 1
        if self.tasks > self.peak:
            self.peak = self.tasks
        try:
            key = _client_key(addr)
            if c is None and not srv.closing:
                c = self.take(key)
            if c is None:
                c = await self._wait_for_slot(key)
            if c is None:
                srv.refused += 1
                writer.write(E503)
                await writer.drain()
                if self.tasks <= self.task_cap():  # (else a flood: no linger)
                    await conn.linger(reader, memoryview(bytearray(128)), srv.linger_ms)
                return
            self._nid = self._nid + 1 & 0x3FFFFFFF or 1
            me = self._nid
            c.owner = me
            c.why = 0
            c.served = 0
            c.state = IDLE
            c.since = c.born = self.clock.ticks_ms()
            c.task = asyncio.current_task()
            c.key = key
            c.req.client_raw = addr
            await conn.serve(self, c, reader, writer)
        except asyncio.CancelledError:
            if c is not None and c.owner == me and c.why == TIMEOUT and c.state == READ:
                try:
                    self.wire.answer(writer, c.req, 408, None, False)
                    await writer.drain()
                    await conn.linger(reader, c.mv, srv.linger_ms)
                except Exception:  # noqa: BLE001
                    pass
        except MemoryError:
            if c is not None and c.owner == me:
                self.bind.undo(c.req)  # e.g. out of memory while writing the answer
            gc.collect()
            try:
                writer.write(E503)
            except Exception:  # noqa: BLE001
                pass
        except Exception:  # noqa: BLE001 - a reset or broken connection ends only itself
            pass
        finally:
            self.tasks -= 1
            if c is not None and (c.owner == me or me == 0 and c.owner == -1):
                c.owner = 0
                c.state = conn.FREE
                c.task = None
                c.key = None
                c.req.reset()
            try:
                writer.close()
                if getattr(writer, "transport", None) is None:
                    await writer.wait_closed()  # MicroPython: this closes the socket
            except Exception:  # noqa: BLE001
                pass
