# SessionRing: O(1) lookup, no allocation, expiry, wraparound, eviction, data area.
from _support import FakeClock, no_alloc, raises
from sessionring.ring import HEADER, RingFull, SessionRing
from sessionring.session import (
    ROLE_ADMIN,
    ROLE_ANON,
    ROLE_USER,
    SessionDataFull,
    SessionEnded,
    Store,
    StoreFull,
)

# Host-scale: not collected on the qemu legs (host_tests/harness.py).
HOST_ONLY = ("test_lookup_visits_one_slot",)


def _full_ring(slots):
    ring = SessionRing(slots=slots, per_user=0)
    toks = [ring.create("u%d" % i).token for i in range(slots)]
    return ring, toks


def test_one_bytearray_preallocated():
    ring = SessionRing(slots=16, data_bytes=64)
    assert len(ring._buf) == 16 * (HEADER + 64)
    assert ring.capacity == 16
    assert len(ring) == 0
    assert HEADER <= 48  # overhead per slot beyond the data area


def test_lookup_visits_one_slot():
    for slots in (8, 64, 1024):
        ring, toks = _full_ring(slots)
        for t in (toks[0], toks[slots // 2], toks[-1]):
            before = ring.visits
            assert ring.get(t) is not None
            assert ring.visits - before == 1
        # a miss with a well-formed token visits one slot too, never scans
        before = ring.visits
        assert ring.get(toks[0][:5] + "A" * 21 + "A") is None
        assert ring.visits - before <= 1


def test_get_touch_revoke_allocate_nothing():
    ring = SessionRing(slots=64)
    a = ring.create("admin", ROLE_ADMIN)
    b = ring.create("bob")
    view = ring.get(a.token)
    tb = b.token.encode()
    assert no_alloc(ring.get, a.token, view) is view
    assert no_alloc(ring.get, tb, view) is view
    assert view.token == tb
    assert no_alloc(ring.get, memoryview(tb), view) is view
    assert no_alloc(ring.touch, a.token) is True
    assert no_alloc(ring.touch, view) is True
    assert no_alloc(ring.revoke, a.token) is True
    assert no_alloc(ring.get, a.token, view) is None
    assert no_alloc(ring.touch, a.token) is False
    assert no_alloc(ring.revoke, a.token) is False
    assert no_alloc(ring.revoke, tb) is True
    assert len(ring) == 0


def test_get_returns_session_view():
    ring = SessionRing(slots=4)
    s = ring.create("admin", ROLE_ADMIN)
    g = ring.get(s.token)
    assert g.user == "admin"
    assert g.role == ROLE_ADMIN
    assert g.valid
    assert g.token == s.token
    assert g.handle == s.handle
    assert s.handle != s.token and s.token not in s.handle


def test_revoked_and_reused_slot_tokens_never_match():
    ring = SessionRing(slots=1, per_user=0)
    first = ring.create("a").token
    assert ring.revoke(first)
    assert ring.get(first) is None
    second = ring.create("a").token  # same slot, next generation
    assert ring.get(first) is None
    assert ring.get(second) is not None
    third = ring.create("b").token  # evicts second (same role, least recently used)
    assert ring.get(second) is None
    assert ring.get(third).user == "b"


def test_idle_expiry():
    clock = FakeClock()
    ring = SessionRing(slots=4, idle_s=900, absolute_s=0, clock=clock)
    t = ring.create("admin").token
    clock.advance_s(899)
    assert ring.get(t) is not None
    assert ring.touch(t)
    clock.advance_s(899)
    assert ring.get(t) is not None  # touched: idle counts from the touch
    clock.advance_s(1)
    assert ring.get(t) is None
    assert ring.expired == 1
    assert len(ring) == 0


def test_absolute_expiry_despite_activity():
    clock = FakeClock()
    ring = SessionRing(slots=4, idle_s=900, absolute_s=3600, clock=clock)
    t = ring.create("admin").token
    for _ in range(59):
        clock.advance_s(60)
        assert ring.touch(t)
    clock.advance_s(59)
    assert ring.get(t) is not None  # 3599 s old
    clock.advance_s(1)
    assert ring.get(t) is None


def test_expiry_across_ticks_wraparound():
    # Start 10 s before the 2**30 ms wrap of a board's ticks_ms.
    clock = FakeClock(start=(1 << 30) - 10000)
    ring = SessionRing(slots=4, idle_s=60, absolute_s=0, clock=clock)
    t = ring.create("admin").token
    clock.advance_s(30)  # across the wrap
    assert clock.t < 100000
    assert ring.get(t) is not None
    assert ring.touch(t)
    clock.advance_s(59)
    assert ring.get(t) is not None
    clock.advance_s(1)
    assert ring.get(t) is None


def test_clock_survives_many_wraps():
    clock = FakeClock(start=(1 << 30) - 5)
    ring = SessionRing(slots=2, idle_s=0, absolute_s=0, clock=clock)
    start = ring.now()
    for _ in range(10):  # 10 wraps of the 2**30 ms period, read every ~3 days
        for _ in range(4):
            clock.advance(1 << 28)
            ring.now()
    assert ring.now() - start == (10 * (1 << 30)) // 1000


def test_eviction_takes_expired_slot_first():
    clock = FakeClock()
    ring = SessionRing(slots=4, idle_s=100, absolute_s=0, per_user=0, clock=clock)
    a = ring.create("a", ROLE_ANON).token
    clock.advance_s(50)
    others = [ring.create(n, ROLE_ANON).token for n in ("b", "c", "d")]
    clock.advance_s(60)  # a idle 110 s: expired; the others 60 s
    e = ring.create("e", ROLE_ANON).token
    assert ring.get(a) is None
    for t in others + [e]:
        assert ring.get(t) is not None
    assert ring.evicted == 0
    assert ring.expired == 1


def test_eviction_least_recently_used_of_lowest_role():
    clock = FakeClock()
    ring = SessionRing(slots=4, per_user=0, clock=clock)
    admin = ring.create("admin", ROLE_ADMIN).token
    clock.advance_s(1)
    user = ring.create("bob", ROLE_USER).token
    clock.advance_s(1)
    anon1 = ring.create("v1", ROLE_ANON).token
    clock.advance_s(1)
    anon2 = ring.create("v2", ROLE_ANON).token
    clock.advance_s(1)
    ring.touch(anon1)  # anon2 is now the least recently used anonymous session
    clock.advance_s(1)
    new = ring.create("carol", ROLE_USER).token
    assert ring.get(anon2) is None
    for t in (admin, user, anon1, new):
        assert ring.get(t) is not None
    # next: the only anonymous one left goes before any user
    clock.advance_s(1)
    ring.create("dave", ROLE_USER)
    assert ring.get(anon1) is None
    assert ring.get(admin) is not None and ring.get(user) is not None
    # then the least recently used user, never the admin
    clock.advance_s(1)
    ring.touch(user)
    clock.advance_s(1)
    ring.create("admin2", ROLE_ADMIN)
    assert ring.get(new) is None
    assert ring.get(admin) is not None
    assert ring.evicted == 3


def test_anonymous_create_never_evicts_logged_in():
    ring = SessionRing(slots=4, per_user=0)
    toks = [ring.create("admin", ROLE_ADMIN).token, ring.create("bob", ROLE_USER).token]
    toks += [ring.create("carol", ROLE_USER).token, ring.create("dave", ROLE_ADMIN).token]
    for _ in range(50):  # a flood of anonymous visitors
        e = raises(RingFull, ring.create, "visitor", ROLE_ANON)
        assert "higher-privilege" in str(e)
    for t in toks:
        assert ring.get(t) is not None
    assert ring.rejected == 50
    assert ring.evicted == 0


def test_user_create_never_evicts_admin():
    ring = SessionRing(slots=2, per_user=0)
    toks = [ring.create("root", ROLE_ADMIN).token, ring.create("admin", ROLE_ADMIN).token]
    raises(RingFull, ring.create, "bob", ROLE_USER)
    for t in toks:
        assert ring.get(t) is not None


def test_per_user_cap_evicts_that_users_oldest():
    clock = FakeClock()
    ring = SessionRing(slots=8, per_user=2, clock=clock)
    other = ring.create("bob").token
    first = ring.create("admin", ROLE_ADMIN).token
    clock.advance_s(1)
    second = ring.create("admin", ROLE_ADMIN).token
    clock.advance_s(1)
    ring.touch(first)  # recency does not matter: the oldest goes
    third = ring.create("admin", ROLE_ADMIN).token
    assert ring.get(first) is None
    assert ring.get(second) is not None and ring.get(third) is not None
    assert ring.get(other) is not None
    assert len(ring) == 3


def test_revoke_user_keeps_one():
    ring = SessionRing(slots=8, per_user=0)
    mine = [ring.create("admin", ROLE_ADMIN).token for _ in range(3)]
    bob = ring.create("bob").token
    assert ring.revoke_user("admin", keep=mine[1]) == 2
    assert ring.get(mine[0]) is None and ring.get(mine[2]) is None
    assert ring.get(mine[1]) is not None and ring.get(bob) is not None
    assert ring.revoke_user("admin") == 1
    assert len(ring) == 1


def test_rotate_gives_new_token_keeps_data():
    ring = SessionRing(slots=4)
    s = ring.create("admin", ROLE_ADMIN)
    s["lang"] = "en"
    old = s.token
    ring.rotate(s)
    assert s.token != old
    assert ring.get(old) is None
    g = ring.get(s.token)
    assert g["lang"] == "en" and g.user == "admin"


def test_session_data_round_trip():
    ring = SessionRing(slots=2, data_bytes=64)
    s = ring.create("admin")
    s["lang"] = "en"
    s["n"] = -42
    s["big"] = 1 << 40
    s["ok"] = True
    s["no"] = False
    s["none"] = None
    s["raw"] = b"\x00\xff"
    g = ring.get(s.token)
    assert g["lang"] == "en" and g["n"] == -42 and g["big"] == 1 << 40
    assert g["ok"] is True and g["no"] is False and g["none"] is None
    assert g["raw"] == b"\x00\xff"
    assert "lang" in g and "nope" not in g
    assert g.get("nope", 7) == 7
    s["lang"] = "de"  # replacing keeps one entry
    assert g.keys() == ["n", "big", "ok", "no", "none", "raw", "lang"]
    del g["big"]
    assert "big" not in s
    raises(KeyError, lambda: g["big"])
    raises(TypeError, g.__setitem__, "x", 1.5)


def test_data_overflow_leaves_data_intact():
    ring = SessionRing(slots=2, data_bytes=32)
    s = ring.create("admin")
    s["lang"] = "en"
    s["csrf"] = "abcdef"
    before = s.items()
    e = raises(SessionDataFull, s.__setitem__, "note", "x" * 40)
    assert "needs" in str(e) and "32" in str(e)
    assert s.items() == before
    raises(SessionDataFull, s.__setitem__, "lang", "y" * 30)
    assert s["lang"] == "en"
    # no data area at all
    ring0 = SessionRing(slots=1, data_bytes=0)
    s0 = ring0.create("a")
    raises(SessionDataFull, s0.__setitem__, "k", 1)


def test_data_wiped_when_slot_reused():
    ring = SessionRing(slots=1, per_user=0)
    s = ring.create("a")
    s["secret"] = "x"
    ring.revoke(s.token)
    t = ring.create("b")
    assert t.items() == []


def test_stale_view_raises():
    ring = SessionRing(slots=2)
    s = ring.create("admin")
    ring.revoke(s.token)
    assert not s.valid
    raises(SessionEnded, lambda: s.user)
    raises(SessionEnded, s.__setitem__, "k", "v")


def test_iteration_lists_handles_not_tokens():
    ring = SessionRing(slots=8, per_user=0)
    made = [ring.create(n) for n in ("a", "b", "c")]
    gone = made[1].handle
    ring.revoke(made[1].token)
    listed = list(ring)
    assert [v.user for v in listed] == ["a", "c"]
    for v in listed:
        assert v.token is None
        assert ring.by_handle(v.handle).user == v.user
    assert ring.by_handle(gone) is None
    for bad in ("", "x", "1", "1.2.3", "99.1", "-1.1", None, 5):
        assert ring.by_handle(bad) is None
    assert ring.revoke(ring.by_handle(made[0].handle))
    assert ring.get(made[0].token) is None


def test_bad_arguments():
    raises(ValueError, SessionRing, 0)
    raises(ValueError, SessionRing, 70000)
    ring = SessionRing(slots=2)
    e = raises(ValueError, ring.create, "a-very-long-user-name")
    assert "15" in str(e)
    raises(ValueError, ring.create, "a", 300)


def test_stats():
    ring = SessionRing(slots=2, per_user=0)
    t = ring.create("a").token
    ring.get(t)
    ring.get("A" * 27)
    st = ring.stats()
    assert st["capacity"] == 2 and st["live"] == 1 and st["created"] == 1
    assert st["hits"] == 1 and st["misses"] == 1


def test_admit_refuses_a_login_while_every_slot_holds_a_live_session():
    # The full-store rule of a login (session.Store.admit): never evict a live session for it,
    # unless it replaces the request's own; RingFull is the store-neutral StoreFull.
    assert RingFull is StoreFull and isinstance(SessionRing(slots=1), Store)
    clock = FakeClock()
    ring = SessionRing(slots=2, idle_s=60, clock=clock)
    a = ring.create("a", ROLE_ADMIN)
    ring.admit()  # a slot is free
    b = ring.create("b", ROLE_USER)
    e = raises(StoreFull, ring.admit)
    assert "2 session slots" in str(e)
    assert len(ring) == 2 and a.valid and b.valid  # nobody was logged out by asking
    ring.admit(a)  # a login that replaces the request's own live session
    ring.revoke(a)
    c = ring.create("c")  # takes a's slot: full again
    raises(StoreFull, ring.admit, a)  # a has ended: replacing it frees nothing
    assert c.valid
    clock.advance_s(61)
    ring.admit()  # the idle sessions have timed out: their slots are free
