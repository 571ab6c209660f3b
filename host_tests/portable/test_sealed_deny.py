# The sealed store's deny-list on flash (deny_file): a logout survives a restart and a power
# cut mid-write, its entries age out with the cookies they deny, and scripts' sessions
# (mark_script) have a lane of their own, so that any number of script logins and logouts
# never ends a browser's session. Runs on CPython and the MicroPython legs.
import os

from _firmware_modules import scratch
from _wall import Wall

from _support import raises
from sessionring import flashfile, sealed
from sessionring.sealed import SealedStore
from sessionring.session import ROLE_ADMIN

T0 = 1800000000
K1 = bytes(range(32))


def _store(wall, folder, **kw):
    return SealedStore(
        keys=[K1],
        clock=wall,
        gen_file=folder + "/gens.json",
        deny_file=folder + "/deny.txt",
        **kw,
    )


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def test_a_logout_survives_a_restart():
    d = scratch("sealed-deny-restart")
    wall = Wall()
    st = _store(wall, d)
    a = st.create("admin", ROLE_ADMIN)
    b = st.create("admin", ROLE_ADMIN)
    ta, tb = a.token, b.token
    assert st.revoke(ta) is True
    assert st.get(ta) is None and st.stats()["deny_writes"] == 1
    st2 = _store(wall, d)  # the device restarted: a new store from the same files
    assert st2.get(ta) is None
    assert st2.get(tb) is not None  # only the logged-out session is refused
    assert st2.stats()["deny_used"] == 1 and st2.generation("admin") == 0
    # without the file the old store's logout would be forgotten
    assert SealedStore(keys=[K1], clock=wall).get(ta) is not None


def test_a_power_cut_mid_write_leaves_the_old_list_or_the_new():
    d = scratch("sealed-deny-cut")
    wall = Wall()
    st = _store(wall, d)
    first = st.create("admin").token
    second = st.create("admin").token
    st.revoke(first)
    with open(d + "/deny.txt", "rb") as f:
        old = f.read()
    st.revoke(second)
    # cut during a later write, before its rename: a half-written .tmp beside the file
    with open(d + "/deny.txt.tmp", "wb") as f:
        f.write(old[: len(old) // 2])
    st2 = _store(wall, d)
    assert st2.get(first) is None and not _exists(d + "/deny.txt.tmp")
    # cut on FAT between the remove and the rename: only a whole .tmp becomes the file
    new = flashfile.read(d + "/deny.txt")
    os.remove(d + "/deny.txt")
    with open(d + "/deny.txt.tmp", "wb") as f:
        f.write(new)
    st3 = _store(wall, d)
    assert st3.get(first) is None and st3.get(second) is None
    os.remove(d + "/deny.txt")
    with open(d + "/deny.txt.tmp", "wb") as f:
        f.write(new[:-5])  # cut short: not taken
    st4 = _store(wall, d)
    assert st4.stats()["deny_used"] == 0 and not _exists(d + "/deny.txt.tmp")


def test_a_damaged_deny_file_is_refused_not_replaced():
    d = scratch("sealed-deny-bad")
    with open(d + "/deny.txt", "wb") as f:
        f.write(b"sessionring deny 1\nd zz 12\n")
    assert raises(ValueError, _store, Wall(), d)
    with open(d + "/deny.txt", "rb") as f:
        assert f.read() == b"sessionring deny 1\nd zz 12\n"


def test_entries_live_only_as_long_as_their_cookies():
    d = scratch("sealed-deny-age")
    wall = Wall()
    st = _store(wall, d, idle_s=900, deny_slots=2)
    toks = [st.create("admin").token for _ in range(3)]
    st.revoke(toks[0])
    st.revoke(toks[1])
    assert st.stats()["deny_used"] == 2
    wall.t += 900 + 60  # idle timeout plus the skew: those cookies are dead anyway
    assert st.get(toks[2]) is None  # (and so is this one: it idled out too)
    st.tick()
    assert st.stats()["deny_used"] == 0
    fresh = st.create("admin")
    st.revoke(fresh)  # the next logout writes only what is still live
    with open(d + "/deny.txt") as f:
        lines = f.read().strip().split("\n")
    assert len(lines) == 2 and lines[1].startswith("d ")
    # a short absolute timeout bounds an entry too
    st2 = _store(wall, scratch("sealed-deny-abs"), idle_s=900, absolute_s=100)
    v = st2.create("admin")
    st2.revoke(v)
    assert st2._rv.until[0] == st2.rel() + 100 + 60
    assert st2.generation("admin") == 0


def test_script_logouts_never_end_a_browser_session():
    d = scratch("sealed-deny-scripts")
    wall = Wall()
    st = _store(wall, d, deny_slots=4, script_slots=3)
    browser = st.create("admin", ROLE_ADMIN).token
    other_script = st.mark_script(st.create("admin", ROLE_ADMIN))
    other = st.pending(other_script)
    assert other is not None and st.get(other).script
    for i in range(50):  # far more than both lanes
        v = st.mark_script(st.create("admin", ROLE_ADMIN))
        tok = st.pending(v)
        assert st.get(tok) is not None
        assert st.revoke(tok) is True
        assert st.get(tok) is None, i
        wall.t += 1
    assert st.get(browser) is not None  # the browser's session is untouched
    assert st.generation("admin") == 0
    info = st.stats()
    assert info["deny_used"] == 0 and info["script_deny_used"] == 3
    assert info["script_generation_bumps"] == 50 - 3
    # an overflow ended the other script sessions of the user (they log in again) ...
    assert st.get(other) is None
    # ... and that stays so after a restart; so does every revoked script token
    st2 = _store(wall, d, deny_slots=4, script_slots=3)
    assert st2.get(browser) is not None and st2.get(other) is None
    assert st2.get(tok) is None
    # a browser's logout still has all of its own lane
    assert st2.revoke(browser) is True and st2.stats()["deny_used"] == 1
    assert st2.generation("admin") == 0


def test_a_password_change_ends_script_sessions_too():
    d = scratch("sealed-deny-pw")
    st = _store(Wall(), d)
    keep = st.create("admin", ROLE_ADMIN)
    script = st.pending(st.mark_script(st.create("admin", ROLE_ADMIN)))
    assert st.get(script) is not None
    st.revoke_user("admin", keep=keep)
    assert st.get(script) is None
    assert st.get(st.pending(keep)) is not None


def test_script_sessions_keep_their_mark_across_rotate_and_reseal():
    st = SealedStore(keys=[K1], clock=Wall())
    v = st.mark_script(st.create("admin"))
    v["x"] = 1
    tok = st.pending(v)
    w = st.get(tok)
    assert w.script and w["x"] == 1
    st.rotate(w)
    r = st.get(st.pending(w))
    assert r is not None and r.script and r["x"] == 1
    assert st.get(tok) is None
    assert not st.get(st.create("admin").token).script
    assert raises(sealed.SessionEnded, st.mark_script, tok)
