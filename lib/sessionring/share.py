# The fair share: who gets a connection record (pool.py's max_conns), and who is lent a work
# slot (work_slots). Plain functions of the pool: they read its records, work slots, limits
# and counters, and change who holds what; the pool calls them from its accept loop, its
# connections and its watchdog.
import asyncio

from .conn import EVICTED, IDLE, READ, STALLED, WAIT, WRITE


def take(pool, key=None):
    # A free record, else the record of the longest-idle connection, which is closed for
    # it: a keep-alive connection between requests, or one that has sent nothing for
    # fresh_idle_ms (so a burst of new connections does not close each other before they
    # are read); never one of a client holding fewer connections than key's. None when
    # every connection is busy. A client (key) holding max_per_client connections may only
    # take the record of its own longest-idle one: one device on the network cannot fill
    # every record and keep the others out. A client that would get nothing may take the
    # newest unanswered connection of the one holding most (unfair).
    lim = pool.lim.max_per_client if key is not None else 0
    free = None
    mine = 0
    for c in pool.conns:
        if c.owner == 0:
            if not lim:
                return c
            if free is None:
                free = c
        elif key is not None and c.key == key:
            mine += 1
    if lim and mine >= lim:
        old = idlest(pool, key, mine, True)
    elif free is not None:
        return free
    else:
        old = idlest(pool, key, mine, False)
        if old is None and key is not None:
            old = unfair(pool, key, mine)
    if old is not None:
        old.why = EVICTED
        old.task.cancel()
        pool.count.evicted += 1
    return old


def held(pool, key):
    n = 0
    for c in pool.conns:
        if c.owner and c.key == key:
            n += 1
    return n


def idlest(pool, key, mine, own):
    # The longest-idle evictable connection: of client key only (own), or of any client
    # holding at least as many connections as key does (mine).
    ck = pool.clock
    now = ck.ticks_ms()
    fresh = pool.lim.fresh_idle_ms
    old = None
    for c in pool.conns:
        if c.owner <= 0 or c.state != IDLE or c.why != 0:
            continue
        if not c.served and ck.ticks_diff(now, c.since) < fresh:
            continue
        if own and c.key != key:
            continue
        if old is not None and ck.ticks_diff(c.since, old.since) >= 0:
            continue
        if key is not None and c.key != key and held(pool, c.key) < mine:
            continue  # a client with fewer connections keeps its idle one
        old = c
    return old


def unfair(pool, key, mine):
    # Every record is busy and none idle: the newest connection not yet answered (waiting
    # for or reading its first request) of the client holding the most records, if key
    # holds none or the other holds at least two more. None when they are shared fairly.
    top = None
    most = mine + 1 if mine else 0
    for c in pool.conns:
        if c.owner <= 0 or c.key is None or c.key == key:
            continue
        n = held(pool, c.key)
        if n > most:
            most = n
            top = c.key
    if top is None:
        return None
    ck = pool.clock
    new = None
    for c in pool.conns:
        if c.owner > 0 and c.key == top and c.why == 0 and not c.served:
            if c.state == IDLE or c.state == READ or c.state == WAIT:
                if new is None or ck.ticks_diff(c.born, new.born) > 0:
                    new = c
    return new


def wait_place(pool, key):
    # A place in the wait queue for a connection of client key, or -1: the queue is full,
    # or the client already holds a quarter of it.
    share = pool.lim.backlog // 4 or 1
    free = -1
    n = 0
    wk = pool.wkeys
    for i in range(len(wk)):
        k = wk[i]
        if k is None:
            if free < 0:
                free = i
        elif k == key:
            n += 1
    return free if n < share else -1


async def wait_for_record(pool, key):
    # Every record is busy: wait for one (polling; the overload path). Long enough for the
    # watchdog to have cut any client that was too slow when we came. None on giving up.
    c = None
    i = -1 if pool.closing else wait_place(pool, key)
    if i < 0:
        return None
    pool.wkeys[i] = key if key is not None else b""
    pool.waiting += 1
    try:
        for _ in range((pool.lim.request_timeout_ms + 2 * pool.watch_ms()) // 20):
            await asyncio.sleep_ms(20)
            c = None if pool.closing else take(pool, key)
            if c is not None:
                break
    finally:
        pool.waiting -= 1
        pool.wkeys[i] = None
    return c


def holding(pool, key):
    # Work slots lent to connections of client key.
    n = 0
    for w in pool.works:
        if w.me and w.conn.key == key:
            n += 1
    return n


def lend(pool, w):
    # Work slot w is free: lend it to the waiting connection whose client holds the fewest
    # work slots (the longest waiting of those), or keep it free. (On every request: the
    # common case, nobody waiting, looks at nothing.)
    best = None
    if pool.wanting:
        ck = pool.clock
        bn = 0
        for c in pool.conns:
            if c.state == WAIT and c.work is None and c.why == 0 and c.owner > 0:
                n = holding(pool, c.key)
                if best is None or n < bn or n == bn and ck.ticks_diff(c.since, best.since) < 0:
                    best = c
                    bn = n
    if best is None:
        w.conn = None
        w.me = 0
    else:
        w.conn = best
        w.me = best.owner
        best.work = w
        best.ev.set()  # wakes that connection alone


def give_back(pool, me, c=None):
    # Connection me is done with its work slot, if it has one: c.work when its record c is
    # still its own (every request), else found by its id (its record serves another
    # connection now, after an eviction).
    w = c.work if c is not None and c.owner == me else None
    if w is not None and w.me == me:
        c.work = None
        lend(pool, w)
        return
    for w in pool.works:
        if w.me == me:
            lend(pool, w)


def free_work(pool, c):
    # A free work slot for connection c, or None.
    c.work = None
    for w in pool.works:
        if not w.me:
            w.conn = c
            w.me = c.owner
            c.work = w
            return w
    return None


def reclaim(pool):
    # Cut the connections that hold a work slot while waiting on their peer (reading the rest
    # of a request, or writing an answer the peer does not read) for stall_ms or more: someone
    # waits for their slot. Looks at the work slots only (the watchdog looks at everything).
    stall = pool.lim.stall_ms
    if not stall:
        return
    ck = pool.clock
    now = ck.ticks_ms()
    for w in pool.works:
        c = w.conn
        if w.me and c.owner == w.me and c.why == 0 and (c.state == READ or c.state == WRITE):
            if ck.ticks_diff(now, c.since) >= stall:
                c.why = STALLED
                c.task.cancel()
                pool.count.stalled += 1


async def wait_work(pool, c):
    # Wait until a work slot is lent to connection c (the watchdog ends the wait after
    # request_timeout_ms: 503).
    c.state = WAIT
    c.since = pool.clock.ticks_ms()
    if c.ev is None:  # made the first time the record waits, kept for its next waits
        c.ev = asyncio.Event()
    c.ev.clear()
    pool.wanting += 1
    try:
        reclaim(pool)  # a connection stalled long enough loses its work slot at once
        while c.work is None:
            await c.ev.wait()
    finally:
        pool.wanting -= 1
    return c.work
