"""Abuse tests against the running firmware (tools/run.py, loopback only; 127.0.0.2 and up
stand in for other devices on the LAN). Each is bounded in count and time (a few seconds),
prints its figures, and asserts that a logged-in admin keeps working during and after, and
that a new admin login gets through. What fails on today's server core is in
test_firmware_abuse_core.py."""

import json
import random
import re
import signal
import subprocess
import threading
import time
from collections import Counter

import pytest
from fwclient import (
    PASSWORD,
    ROOT,
    Admin,
    Dribbler,
    Firmware,
    ask,
    free_heap_kb,
    hold_idle,
    logged_in,
    request,
)

from harness import interpreter_command

_admin = logged_in  # (interp, fw: host_tests/conftest.py)


def _served_meanwhile(admin, seconds, every_s=0.1, limit=200):
    # the admin's status requests while something else goes on: their statuses
    got = Counter()
    end = time.monotonic() + seconds
    for _ in range(limit):
        if time.monotonic() >= end:
            break
        got[admin.status()[0]] += 1
        time.sleep(every_s)  # pacing the admin's clicks, not waiting for a result
    return got


def _after(fw, admin):
    # the logged-in admin is still served, and a new admin login gets through
    st, body = admin.status()
    assert st == 200 and body["session"]["user"] == "admin", st
    new = Admin(fw.port, PASSWORD)
    assert new.login(), getattr(new, "last", None)
    assert fw.proc.poll() is None, fw.output[-2000:]


def _lat(admin):
    xs = sorted(admin.latencies)
    return "admin latency median %.1f ms, max %.1f ms over %d requests" % (
        1000 * xs[len(xs) // 2],
        1000 * xs[-1],
        len(xs),
    )


# -- slow and many connections -----------------------------------------------------------------
def test_slowloris_from_one_address(fw):
    # one address holds every connection it may (max_per_client 7 of 8), each sending a byte
    # every 0.2 s for 8 s, and reconnects when cut: the admin keeps the slot left over
    admin = _admin(fw)
    d = Dribbler(
        fw.port, fw.profile["server"]["max_per_client"], ("127.0.0.2",), gap_s=0.2
    ).start()
    try:
        got = _served_meanwhile(admin, 8)
    finally:
        d.stop()
    print(
        "\nslowloris on %s: %d connections opened, %d cut by the server; admin %s; %s"
        % (fw.interp, d.opened, d.cut, dict(got), _lat(admin))
    )
    assert set(got) == {200}, got
    assert d.cut >= 1  # the read timeout (5 s for a whole request) cut dribbling connections
    _after(fw, admin)


def test_connection_flood_beyond_the_cap_from_one_address(fw):
    # 40 idle connections (five times the cap) from one address (from several addresses:
    # test_firmware_abuse_core.py)
    sources = 1
    admin = _admin(fw)
    addrs = tuple("127.0.0.%d" % (2 + i) for i in range(sources))
    socks = hold_idle(fw.port, 40, addrs)
    try:
        got = _served_meanwhile(admin, 3)
    finally:
        for s in socks:
            s.close()
    print(
        "\nconnection flood on %s: %d idle connections from %d address(es); admin %s; %s"
        % (fw.interp, len(socks), sources, dict(got), _lat(admin))
    )
    assert len(socks) == 40
    assert set(got) == {200}, got
    _after(fw, admin)


# -- session flood -----------------------------------------------------------------------------
ANON = (
    ("GET", "/login", (), b""),
    ("GET", "/", (), b""),
    ("GET", "/sessions", (), b""),
    ("GET", "/api/status", (), b""),
    ("GET", "/api/status", (("Authorization", "Bearer " + "A" * 27),), b""),
    ("POST", "/login", (("Content-Type", "application/x-www-form-urlencoded"),), b"username=a"),
    ("POST", "/api/login", (("Content-Type", "application/json"),), b"[1]"),
    ("POST", "/logout", (("Content-Type", "application/x-www-form-urlencoded"),), b"csrf=x"),
)


def test_session_flood(fw):
    # thousands of requests that are not logged in, and login posts that fail before any
    # password is hashed, from four addresses at once: no logged-in session is evicted, and
    # the heap comes back to its idle level
    admin = _admin(fw)
    heap0 = free_heap_kb(fw.port, admin.sid)
    live0 = admin.status()[1]["sessions"]["live"]
    counts = Counter()
    lock = threading.Lock()
    per_thread = 500

    def flood(n):
        src = "127.0.0.%d" % (2 + n)
        for i in range(per_thread):
            m, p, h, b = ANON[(i + n) % len(ANON)]
            st = request(fw.port, m, p, h, b, source=src)[0]
            with lock:
                counts[st] += 1

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    during = _served_meanwhile(admin, 60, every_s=0.2, limit=40)
    for t in threads:
        t.join(120)
    took = time.monotonic() - t0
    assert not any(t.is_alive() for t in threads)
    st, body = admin.status()
    heap1 = free_heap_kb(fw.port, admin.sid)
    print(
        "\nsession flood on %s: %d requests in %.1f s %s; admin during %s; live sessions "
        "%d -> %d; free heap %s -> %s KB"
        % (
            fw.interp,
            sum(counts.values()),
            took,
            dict(counts),
            dict(during),
            live0,
            body["sessions"]["live"],
            heap0,
            heap1,
        )  # fmt: skip
    )
    assert sum(counts.values()) == 4 * per_thread
    assert set(counts) <= {200, 303, 400, 401, 403, 405}, counts
    assert set(during) == {200}, during
    assert body["sessions"]["live"] == live0  # nothing took a slot, nothing was evicted
    if heap0 is not None:  # MicroPython reports its heap; CPython does not
        assert heap1 >= heap0 - 8, (heap0, heap1)  # back to idle (KB, after a collect)
    _after(fw, admin)


# -- brute force -------------------------------------------------------------------------------
def test_brute_force_guess_rate(fw):
    # wrong passwords as fast as the answers come, from another address, for 4 s (or 5,000): the
    # throttle lets 4 guesses through to the hash at once (3 free failures, the 4th starts the
    # waits) and then one after each doubling wait (1 s, 2 s); the admin's session is untouched
    admin = _admin(fw)
    counts = Counter()
    creds = json.dumps({"username": "admin", "password": "guess"}).encode()
    t0 = time.monotonic()
    end = t0 + 4
    sent = 0
    while time.monotonic() < end and sent < 5000:
        st, head, _ = request(
            fw.port, "POST", "/api/login", [("Content-Type", "application/json")], creds,
            source="127.0.0.2",
        )  # fmt: skip
        counts[st] += 1
        sent += 1
        if sent % 50 == 0:
            assert admin.status()[0] == 200
    took = time.monotonic() - t0
    print("\nbrute force on %s: %d guesses in %.1f s: %s" % (fw.interp, sent, took, dict(counts)))
    assert set(counts) <= {401, 429}, counts
    assert 4 <= counts[401] <= 6, counts  # 4 at once, 1 after 1 s, 1 after 2 s more (< 4 s)
    assert counts[429] >= 10
    st, _ = admin.status()
    assert st == 200


# -- token forgery -----------------------------------------------------------------------------
_ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _forgeries(real, dead, rng):
    out = [("random", "".join(rng.choice(_ALPHA) for _ in range(27))) for _ in range(40)]
    out += [("truncated", real[:n]) for n in (0, 1, 20, 26)]
    for i in range(27):  # one character changed, at every position
        c = _ALPHA[(_ALPHA.index(real[i]) + 1 + rng.randrange(63)) % 64]
        out.append(("bit-flipped", real[:i] + c + real[i + 1 :]))
    out += [("old generation", t) for t in dead]
    out += [("over-long", real + "A"), ("over-long", real + "A" * 1500), ("over-long", real * 3)]
    out += [("non-ASCII", "é" * 27), ("non-ASCII", real[:26] + "é"), ("non-ASCII", "\udcff" * 27)]
    out += [("padded", real + "="), ("spaces", " " + real[1:]), ("quoted", '"%s"' % real[1:])]
    return out


def test_token_forgery(fw):
    admin = _admin(fw)
    real = admin.sid
    dead = []  # sessions that ended: their tokens must never work again
    for _ in range(3):
        a = _admin(fw)
        csrf = re.search(rb'name="csrf" value="([^"]+)"', request(
            fw.port, "GET", "/", [("Cookie", "sid=" + a.sid)])[2]).group(1).decode()  # fmt: skip
        st = request(
            fw.port, "POST", "/logout",
            [("Cookie", "sid=" + a.sid), ("Origin", "http://127.0.0.1:%d" % fw.port),
             ("Content-Type", "application/x-www-form-urlencoded")],
            ("csrf=" + csrf).encode(),
        )[0]  # fmt: skip
        assert st == 303
        dead.append(a.sid)
    _admin(fw)  # the freed slots are used again: the dead tokens' slots have a new generation
    rng = random.Random(5)
    counts = Counter()
    bad = []
    for kind, tok in _forgeries(real, dead, rng):
        enc = tok.encode("utf-8", "surrogateescape")
        for how, h in (
            ("cookie", b"Cookie: sid=" + enc),
            ("bearer", b"Authorization: Bearer " + enc),
            ("repeated", b"Cookie: sid=" + enc + b"; sid=" + enc[::-1]),
            ("repeated first", b"Cookie: sid=" + enc + b"; other=1; sid=" + real.encode()),
        ):
            raw = b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n" + h + b"\r\n\r\n"
            st = ask(fw.port, raw, source="127.0.0.3")
            counts[st] += 1
            if st not in (400, 401, 431):  # refused: not logged in, or a head too large
                bad.append((kind, how, tok[:40], st))
    print("\ntoken forgery on %s: %d forged requests: %s" % (fw.interp, sum(counts.values()),
                                                              dict(counts)))  # fmt: skip
    assert not bad, bad
    assert sum(counts.values()) >= 300
    _after(fw, admin)


# -- power cut ---------------------------------------------------------------------------------
WRITER = """
import sys
sys.path.append("firmware")
from admin.account import Account
from admin.settings import Settings

folder = sys.argv[1]
s = Settings(folder, {"name": "t", "idle_s": 900, "absolute_s": 43200})
s.load(lambda line: None)
a = Account(folder, 2)
a.setup(lambda line: None, "pw-000000")
print("ready", s["wifi_ssid"] or "0")
i = int(s["wifi_ssid"] or "0")
while True:
    i += 1
    if i % 2:
        s.update({"wifi_ssid": str(i), "name": "n" * 32})
    else:
        a.set_password("pw-%06d" % i)
    print("saved", i)
"""


def _check_files(data, saved):
    # settings and password are each the last save reported or a later one (the writer runs
    # ahead of what we read), never lost, never torn. Saves alternate (odd numbers: settings,
    # even: password), so the password is one of those between the last reported and the
    # settings counter + 1. Returns the password found.
    import sys

    for p in (str(ROOT / "lib"), str(ROOT / "lib" / "hostshim")):
        if p not in sys.path:
            sys.path.insert(0, p)
    from sessionring import auth

    n = int(json.loads((data / "settings.json").read_text())["wifi_ssid"] or "0")
    last_set = saved if saved % 2 else saved - 1
    assert n >= last_set, (n, saved)  # the last settings save reported, or a later one
    stored = json.loads((data / "auth.json").read_text())["admin"]
    first = saved - (saved % 2)
    ok = [i for i in range(first, n + 2, 2) if auth.verify_password("pw-%06d" % i, stored)]
    assert len(ok) == 1, (saved, n, stored)
    assert not (data / "settings.json.bad").exists() and not (data / "auth.json.bad").exists()
    return "pw-%06d" % ok[0]


@pytest.mark.parametrize("interp,rounds", (("micropython", 150), ("cpython", 50)))
def test_power_cut_during_settings_and_password_writes(interp, rounds, tmp_path):
    # kill -9 at random moments while settings and the password hash are saved in turn;
    # after every kill both are old or new, and the firmware boots from them (checked every
    # 50 kills and at the end, by logging in with the password found)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    f = Firmware(interp, tmp_path / "fw")
    data = f.data
    data.mkdir(parents=True)
    argv, env = interpreter_command(interp, script)
    env["PYTHONUNBUFFERED"] = "1"
    rng = random.Random(99)
    saves = 0
    boots = 0
    for k in range(rounds):
        p = subprocess.Popen(
            argv + [str(data)],
            cwd=str(ROOT),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            first = p.stdout.readline().split()
            assert first[:1] == ["ready"], first + [p.stderr.read()]
            saved = int(first[1])
            for _ in range(rng.randint(0, 12)):
                saved = int(p.stdout.readline().split()[1])
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(10)
            p.stdout.close()
            p.stderr.close()
        saves = max(saves, saved)
        pw = _check_files(data, saved)
        if k % 50 == 49 or k == rounds - 1:
            f.password = "unused: the stored hash must be kept"
            f.start()
            try:
                assert "corrupt" not in f.output, f.output
                assert Admin(f.port, pw).login()
                boots += 1
            finally:
                f.stop()
    print("\npower cut on %s: %d kills during %d saves, %d boots, nothing lost" % (
        interp, rounds, saves, boots))  # fmt: skip
    assert boots >= 1
