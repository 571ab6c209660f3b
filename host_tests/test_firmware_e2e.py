"""End-to-end: the firmware started as `make run` starts it (tools/run.py), under the
MicroPython unix port and under CPython, driven over loopback HTTP for every route and every
failure answer of the admin page; with either session store (the RAM ring, or sessions sealed
in the cookie: board.json "sessions")."""

import base64
import json
import re
import socket

import pytest
from fwclient import PASSWORD, Client, Firmware

from harness import HOST_INTERPRETERS

INTERPRETERS = HOST_INTERPRETERS  # micropython, micropython32 (frozen, 32-bit), cpython
STORES = ("ring", "sealed")


@pytest.fixture(params=INTERPRETERS)
def interp(request):
    return request.param


@pytest.fixture(params=STORES)
def sessions(request):
    return request.param


def _start(interp, tmp_path, **kw):
    return Firmware(interp, tmp_path, **kw).start()


def _fw(interp, tmp_path, sessions):
    f = _start(
        interp, tmp_path, profile={"store": {"slots": 4}, "firmware": {"sessions": sessions}}
    )
    want = "sessions sealed in cookies" if sessions == "sealed" else "admin page at"
    assert want in f.output, f.output  # sealed mode really came up sealed
    return f


@pytest.fixture
def fw(interp, sessions, tmp_path):
    f = _fw(interp, tmp_path, sessions)
    f.sealed = sessions == "sealed"
    yield f
    f.stop()


@pytest.fixture
def ring_fw(interp, tmp_path):
    # what only the ring has: a list of sessions, a capacity
    f = _fw(interp, tmp_path, "ring")
    yield f
    f.stop()


@pytest.fixture
def sealed_fw(interp, tmp_path):
    f = _fw(interp, tmp_path, "sealed")
    yield f
    f.stop()


def _sid(c):
    return c.cookies.get("sid")


def _status(c, token=None):
    h = {"Authorization": "Bearer " + token} if token else None
    return c.get("/api/status", headers=h)


# -- login, dashboard, logout ------------------------------------------------------------------
def test_login_form(fw):
    c = fw.client()
    r = c.get("/login")
    assert r.status == 200
    assert r.header("Cache-Control") == "no-store"
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    for name in ('name="username"', 'name="password"', 'type="hidden" name="csrf"'):
        assert name in r.text
    assert 'name="viewport"' in r.text
    assert "frame-ancestors 'none'" in r.header("Content-Security-Policy")
    assert r.header("X-Frame-Options") == "DENY"
    (sc,) = r.all("Set-Cookie")  # the login form's CSRF cookie, never a session
    assert sc.startswith("csrf=") and "HttpOnly" in sc and "SameSite=Strict" in sc
    assert "sid" not in c.cookies
    # the same visitor keeps its token (two tabs both work)
    assert c.get("/login").csrf() == r.csrf() == c.cookies["csrf"]


def test_login_dashboard_logout(fw):
    c = fw.client()
    r = c.login()
    assert r.status == 303 and r.header("Location") == "/"
    sc = [v for v in r.all("Set-Cookie") if v.startswith("sid=")]
    assert len(sc) == 1
    attrs = [a.strip() for a in sc[0].split(";")[1:]]
    assert sorted(attrs) == ["HttpOnly", "Path=/", "SameSite=Strict"]  # no Max-Age, no Domain
    token = _sid(c)
    assert "csrf" not in c.cookies  # used up
    d = c.get("/")
    assert d.status == 200 and d.header("Cache-Control") == "no-store"
    held = "sealed in cookies" if fw.sealed else "1 in use of 4"
    for text in ("sessionring-unix", "Uptime", "Free heap", held, "host network"):
        assert text in d.text, text
    assert token not in d.text
    csrf = d.csrf()
    r = c.post("/logout", {"csrf": csrf})
    assert r.status == 303 and r.header("Location") == "/login"
    assert any(v.startswith("sid=;") and "Max-Age=0" in v for v in r.all("Set-Cookie"))
    # the old cookie is dead on the server, not only in the browser
    old = Client(fw.port)
    old.cookies["sid"] = token
    assert old.get("/").status == 303
    assert old.get("/api/status").status == 401
    assert old.post("/logout", {"csrf": csrf}).status == 303
    assert _status(Client(fw.port), token).status == 401


def test_not_logged_in(fw):
    c = fw.client()
    for path in ("/", "/sessions", "/settings"):
        r = c.get(path)
        assert r.status == 303 and r.header("Location") == "/login", path
    for path in ("/sessions/revoke", "/settings", "/logout"):
        r = c.post(path, {"csrf": "x"})
        assert r.status == 303 and r.header("Location") == "/login", path
    r = c.get("/api/status")
    assert r.status == 401 and r.json() == {"error": "login required"}
    assert r.header("WWW-Authenticate").startswith("Bearer")
    bogus = Client(fw.port)
    bogus.cookies["sid"] = "A" * 27
    assert bogus.get("/").status == 303
    assert _status(Client(fw.port), "garbage").status == 401


def test_failed_login_is_one_generic_answer(fw):
    c = fw.client()
    csrf = c.get("/login").csrf()
    bodies = set()
    for user, pw in (("admin", "wrong"), ("root", PASSWORD), ("", "")):
        r = c.post("/login", {"username": user, "password": pw, "csrf": csrf})
        assert r.status == 401
        assert "Wrong user name or password." in r.text
        assert r.header("Cache-Control") == "no-store"
        bodies.add(r.body)
        assert "sid" not in c.cookies
    assert len(bodies) == 1  # nothing tells a wrong name from a wrong password


def test_session_fixation(fw):
    # a cookie planted before login is never the session cookie after it: neither a made-up
    # one nor a real session of the attacker's
    c = fw.client()
    c.cookies["sid"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAA"
    assert c.login().status == 303
    first = _sid(c)
    assert first and first != "AAAAAAAAAAAAAAAAAAAAAAAAAAA"
    attacker = fw.client()
    attacker.login()
    planted = _sid(attacker)
    victim = fw.client()
    csrf = victim.get("/login").csrf()
    victim.cookies["sid"] = planted
    r = victim.post("/login", {"username": "admin", "password": PASSWORD, "csrf": csrf})
    assert r.status == 303
    assert _sid(victim) not in (planted, first)
    assert _status(Client(fw.port), planted).status == 401  # the planted session ended
    assert _status(Client(fw.port), _sid(victim)).status == 200
    assert _status(Client(fw.port), first).status == 200


def test_csrf_and_origin_checks(fw):
    c = fw.client()
    csrf = c.get("/login").csrf()
    form = {"username": "admin", "password": PASSWORD, "csrf": csrf}
    assert c.post("/login", dict(form, csrf="")).status == 403
    wrong = csrf[:-1] + ("y" if csrf[-1] == "x" else "x")  # one character off, never the same
    assert c.post("/login", dict(form, csrf=wrong)).status == 403
    assert c.post("/login", form, headers={"Origin": "http://evil.example"}).status == 403
    assert c.post("/login", form, headers={"Origin": "null"}).status == 403
    assert c.post("/login", form, origin=False).status == 403  # neither Origin nor Referer
    stranger = Client(fw.port)  # the right field but not the cookie it pairs with
    assert stranger.post("/login", form).status == 403
    assert "sid" not in c.cookies
    # a same-origin Referer stands in for a missing Origin
    r = c.post("/login", form, origin=False, headers={"Referer": c.origin + "/login"})
    assert r.status == 303
    token = _sid(c)
    csrf = c.page_csrf("/settings")
    name = {"form": "device", "name": "Evil", "wifi_ssid": "", "idle_min": "15"}
    name["absolute_min"] = "720"
    for bad in (
        {"csrf": ""},
        {"csrf": "x" * 32},
        {"headers": {"Origin": "http://127.0.0.1:1"}},
        {"headers": {"Origin": None, "Referer": "http://evil.example/"}},
    ):
        fields = dict(name, csrf=bad.get("csrf", csrf))
        r = c.post("/settings", fields, headers=bad.get("headers"))
        assert r.status == 403, bad
        assert "Forbidden" in r.text
    assert "Evil" not in c.get("/settings").text
    assert c.post("/sessions/revoke", {"csrf": "nope", "handle": "0.1"}).status == 403
    assert c.post("/logout", {"csrf": "nope"}).status == 403
    assert c.post("/logout", {"csrf": csrf}, headers={"Origin": "http://x"}).status == 403
    assert _status(Client(fw.port), token).status == 200  # still logged in
    # another session's token is no good either
    other = Client(fw.port)
    other.login()
    assert c.post("/logout", {"csrf": other.page_csrf()}).status == 403
    # and nothing changes state on GET
    for path in ("/logout", "/sessions/revoke", "/api/login", "/api/logout"):
        r = c.get(path)
        assert r.status == 405 and "POST" in r.header("Allow"), path
    assert _status(Client(fw.port), token).status == 200


def test_routes_and_server_answers(fw):
    c = fw.client()
    assert c.get("/nope").status == 404
    r = c.request("PUT", "/login", body="x", headers={"Content-Length": "1"})
    assert r.status == 405
    assert set(r.header("Allow").replace(" ", "").split(",")) >= {"GET", "POST"}
    r = c.request("HEAD", "/login")
    assert r.status == 200 and r.body == b""
    r = c.post_json("/api/login", "{not json")
    assert r.status == 400
    # the profile's limits reach the server: max_body 2048 in the unix profile
    r = c.post("/login", {"csrf": "x" * 3000})
    assert r.status == 413
    assert _raw(fw.port, b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").startswith(
        b"HTTP/1.1 411 "
    )
    assert c.get("/" + "a" * 600).status == 414
    many = "".join("X-%d: y\r\n" % i for i in range(30)).encode()
    assert _raw(fw.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n").startswith(
        b"HTTP/1.1 431 "
    )


def test_dns_rebinding_is_refused(fw):
    # A page of evil.example whose name now resolves to the device: the browser sends that
    # name as Host. Only IP addresses and the profile's names ("localhost" on unix) pass.
    for host in (b"evil.example", b"evil.example:%d" % fw.port, b"localhost.evil.example"):
        r = _raw(fw.port, b"GET /login HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 421 "), (host, r[:60])
    body = b'{"username": "admin", "password": "%s"}' % PASSWORD.encode()
    r = _raw(
        fw.port,
        b"POST /api/login HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body),
    )
    assert r.startswith(b"HTTP/1.1 421 ") and b"token" not in r
    for host in (b"localhost:%d" % fw.port, b"127.0.0.1:%d" % fw.port):
        r = _raw(fw.port, b"GET /login HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
        assert r.startswith(b"HTTP/1.1 200 "), (host, r[:60])


def _raw(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        return s.recv(4096)


# -- sessions --------------------------------------------------------------------------------
def test_sessions_list_and_revoke(ring_fw):
    fw = ring_fw
    a, b = fw.client(), fw.client()
    assert a.login().status == 303 and b.login().status == 303
    bearer = Client(fw.port).api_token()
    page = a.get("/sessions")
    assert page.status == 200 and page.header("Cache-Control") == "no-store"
    text = page.text
    assert "3 of 4 session slots in use" in text
    assert text.count("this session") == 1
    assert "127.0.0.1" in text and ">API<" in text
    for secret in (_sid(a), _sid(b), bearer):
        assert secret not in text  # public handles only, never tokens
    handles = re.findall(r'name="handle" value="(\d+\.\d+)"', text)
    assert len(handles) == 3
    mine = _status(a).json()["session"]["handle"]
    theirs = _status(b).json()["session"]["handle"]
    assert mine in handles and theirs in handles
    r = a.post("/sessions/revoke", {"csrf": page.csrf(), "handle": theirs})
    assert r.status == 303 and r.header("Location") == "/sessions?m=revoked"
    assert b.get("/").status == 303
    assert "Session revoked." in a.get("/sessions?m=revoked").text
    assert "Session revoked." not in a.get("/sessions").text
    # the same handle again, or one never issued: already gone
    for h in (theirs, "99.1", "x", ""):
        r = a.post("/sessions/revoke", {"csrf": page.csrf(), "handle": h})
        assert r.header("Location") == "/sessions?m=gone", h
    assert _status(Client(fw.port), bearer).status == 200
    # revoking one's own session logs out
    r = a.post("/sessions/revoke", {"csrf": page.csrf(), "handle": mine})
    assert r.status == 303 and r.header("Location") == "/login"
    assert "sid" not in a.cookies
    assert a.get("/").status == 303


def test_full_ring_refuses_logins_and_keeps_sessions(ring_fw):
    fw = ring_fw
    tokens = [Client(fw.port).api_token() for _ in range(4)]
    # not logged in: forms, failed logins and junk cookies take no slot
    for _ in range(10):
        v = Client(fw.port)
        v.cookies["sid"] = "B" * 27
        assert v.get("/login").status == 200
    v = Client(fw.port)
    csrf = v.get("/login").csrf()
    assert v.post("/login", {"username": "admin", "password": "x", "csrf": csrf}).status == 401
    for t in tokens:
        assert _status(Client(fw.port), t).status == 200
    # a right password with no slot free: 503 with a short message, nobody evicted
    r = v.post("/login", {"username": "admin", "password": PASSWORD, "csrf": csrf})
    assert r.status == 503
    assert "All 4 session slots are in use" in r.text
    assert "sid" not in v.cookies
    r = Client(fw.port).post_json("/api/login", {"username": "admin", "password": PASSWORD})
    assert "slots" in _json_error(r, 503)
    for t in tokens:
        assert _status(Client(fw.port), t).status == 200
    # one script logs out: the browser gets in
    r = Client(fw.port).request(
        "POST",
        "/api/logout",
        headers={"Authorization": "Bearer " + tokens[0], "Content-Length": "0"},
    )
    assert r.status == 200 and r.json() == {"ok": True}
    assert v.login().status == 303
    assert _status(Client(fw.port), tokens[0]).status == 401


# -- throttling --------------------------------------------------------------------------------
def test_login_throttle(interp, sessions, tmp_path):
    # base_s 60: the first wait outlasts the test on any machine, without sleeping
    prof = {"throttle": {"base_s": 60, "max_s": 600}, "firmware": {"sessions": sessions}}
    f = _start(interp, tmp_path, profile=prof)
    try:
        c = f.client()
        csrf = c.get("/login").csrf()
        wrong = {"username": "admin", "password": "wrong", "csrf": csrf}
        for _ in range(4):  # three free failures, the fourth starts the wait
            assert c.post("/login", wrong).status == 401
        right = dict(wrong, password=PASSWORD)
        r = c.post("/login", right)  # refused before the password is even hashed
        assert r.status == 429
        assert 1 <= int(r.header("Retry-After")) <= 60
        assert "Too many failed attempts" in r.text and "sid" not in c.cookies
        # the account is throttled whatever the user name, and through the API too
        assert c.post("/login", dict(right, username="other")).status == 429
        r = Client(f.port).post_json("/api/login", {"username": "admin", "password": PASSWORD})
        assert r.status == 429 and int(r.header("Retry-After")) >= 1
        assert "too many" in _json_error(r, 429)
    finally:
        f.stop()


# -- settings ------------------------------------------------------------------------------------
def _device_form(csrf, **kw):
    form = {
        "csrf": csrf,
        "form": "device",
        "name": "Living room",
        "wifi_ssid": "home",
        "wifi_password": "",
        "ap_password": "",
        "idle_min": "15",
        "absolute_min": "720",
    }
    form.update(kw)
    return form


def test_settings_apply_at_once_and_survive_a_restart(fw):
    c = fw.client()
    c.login()
    page = c.get("/settings")
    assert page.status == 200 and page.header("Cache-Control") == "no-store"
    assert 'value="15"' in page.text and 'value="720"' in page.text
    csrf = page.csrf()
    form = _device_form(csrf, name="<b>Hall</b> & 'co'", wifi_password="wifisecret", idle_min="5")
    r = c.post("/settings", form)
    assert r.status == 303 and r.header("Location") == "/settings?m=saved"
    page = c.get("/settings?m=saved")
    assert "Settings saved." in page.text
    assert "&lt;b&gt;Hall&lt;/b&gt; &amp; &#39;co&#39;" in page.text
    assert "<b>Hall</b>" not in page.text
    assert "wifisecret" not in page.text  # passwords are never sent back
    st = _status(c).json()
    assert st["idle_s"] == 300 and st["absolute_s"] == 43200
    assert 0 < st["session"]["expires_in"] <= 300  # applied to the ring at once
    saved = json.loads((fw.data / "settings.json").read_text())
    assert saved["name"] == "<b>Hall</b> & 'co'" and saved["wifi_password"] == "wifisecret"
    fw.restart()
    c = fw.client()
    assert c.login().status == 303
    st = _status(c).json()
    assert st["device"] == "<b>Hall</b> & 'co'" and st["idle_s"] == 300
    assert "&lt;b&gt;Hall" in c.get("/").text


def test_settings_validation(fw):
    c = fw.client()
    c.login()
    csrf = c.page_csrf("/settings")
    before = (fw.data / "settings.json").read_bytes()
    for bad, why in (
        ({"name": ""}, "1 to 64 bytes that show"),
        ({"idle_min": "0"}, "1 minute to 24 hours"),
        ({"idle_min": "ten"}, "a whole number of minutes"),
        ({"absolute_min": "1"}, "5 minutes to 7 days"),
        ({"idle_min": "600", "absolute_min": "60"}, "at least the idle timeout"),
        ({"wifi_password": "short"}, "8 to 63 ASCII letters"),
        ({"wifi_ssid": "s" * 33}, "1 to 32 bytes"),
    ):
        r = c.post("/settings", _device_form(csrf, **bad))
        assert r.status == 400, bad
        assert why in r.text, bad
    assert (fw.data / "settings.json").read_bytes() == before
    assert c.post("/settings", {"csrf": csrf, "form": "other"}).status == 400


def test_settings_the_radio_or_the_pages_would_refuse_are_refused(fw):
    # issue 19: limits in bytes as the radio counts them, WPA2 passphrases as 802.11i has them,
    # a device name that shows and cannot reorder the page; each refusal says why on the page
    # and keeps the saved value
    c = fw.client()
    c.login()
    csrf = c.page_csrf("/settings")
    before = (fw.data / "settings.json").read_bytes()
    ssid, wpa, name = "1 to 32 bytes", "8 to 63 ASCII letters", "1 to 64 bytes that show"
    for bad, why in (
        ({"wifi_ssid": "\u7db2" * 20}, ssid),  # 20 characters, 60 bytes
        ({"wifi_ssid": "\u7db2" * 11}, ssid),  # 33 bytes
        ({"wifi_password": "\u00e9" * 63}, wpa),  # 63 characters, 126 bytes
        ({"wifi_password": "p\u00e4ssword"}, wpa),  # not ASCII
        ({"ap_password": "\u00e9" * 63}, wpa),
        ({"ap_password": "z" * 64}, wpa),  # 64 characters that are not hex digits
        ({"name": "a\u0085b"}, name),  # C1 control (NEL)
        ({"name": "a\u009bb"}, name),  # C1 control (CSI)
        ({"name": "admin\u202egnp.exe"}, name),  # right-to-left override
        ({"name": "a\u2066b"}, name),  # isolate
        ({"name": "\u200b"}, name),  # only a zero-width space
    ):
        r = c.post("/settings", _device_form(csrf, **bad))
        assert r.status == 400 and why in r.text, (bad, r.status)
    assert (fw.data / "settings.json").read_bytes() == before  # nothing saved
    ok = {
        "wifi_ssid": "\u7db2" * 10,
        "ap_password": "0123456789abcdef" * 4,
        "name": "\u5c45\u9593",
    }
    assert c.post("/settings", _device_form(csrf, **ok)).status == 303
    saved = json.loads((fw.data / "settings.json").read_text())
    assert {k: saved[k] for k in ok} == ok


def test_password_change_ends_other_sessions(fw):
    a, b = fw.client(), fw.client()
    a.login()
    b.login()
    bearer = Client(fw.port).api_token()
    csrf = a.page_csrf("/settings")
    change = {"csrf": csrf, "form": "password", "current": PASSWORD, "new": "n3w password"}
    for bad, field_text in (
        ({"current": "wrong"}, "Wrong password."),
        ({"new": "short"}, "8 to 128 characters"),
        ({"confirm": "something else"}, "The two new passwords differ."),
    ):
        fields = dict(change, confirm="n3w password")
        fields.update(bad)
        r = a.post("/settings", fields)
        assert r.status == 400 and field_text in r.text, bad
    assert b.get("/").status == 200  # nothing happened yet
    old_sid = _sid(a)
    r = a.post("/settings", dict(change, confirm="n3w password"))
    assert r.status == 303 and r.header("Location") == "/settings?m=password"
    assert _sid(a) != old_sid  # a new token for the session that changed it
    assert _status(Client(fw.port), old_sid).status == 401
    assert "Password changed" in a.get("/settings?m=password").text
    assert b.get("/").status == 303  # every other session is gone
    assert _status(Client(fw.port), bearer).status == 401
    assert Client(fw.port).login().status == 401
    assert Client(fw.port).login("n3w password").status == 303
    auth = (fw.data / "auth.json").read_text()
    assert "n3w password" not in auth and auth.count("pbkdf2-sha256$1000$") == 1
    fw.restart()
    assert Client(fw.port).login("n3w password").status == 303


# -- JSON API ----------------------------------------------------------------------------------
def test_api(fw):
    c = Client(fw.port)
    creds = {"username": "admin", "password": PASSWORD}
    r = c.post_json("/api/login", creds)
    assert r.status == 200 and r.header("Cache-Control") == "no-store"
    body = r.json()
    assert set(body) == {"token", "expires_in", "device"}  # device: for the throttle, next time
    assert body["device"].startswith("admin.") and body["device"] != body["token"]
    assert body["expires_in"] == 900
    assert len(body["token"]) > 100 if fw.sealed else len(body["token"]) == 27
    assert r.all("Set-Cookie") == []  # scripts get a token, not a cookie
    st = _status(c, body["token"])
    assert st.status == 200 and st.header("Cache-Control") == "no-store"
    s = st.json()
    if fw.sealed:
        held = {"store": "sealed", "live": None, "capacity": None}
    else:
        held = {"store": "ring", "live": 1, "capacity": 4}
    assert s["device"] == "sessionring-unix" and s["sessions"] == held
    assert s["network"]["mode"] == "host" and s["session"]["user"] == "admin"
    assert isinstance(s["uptime_s"], int) and isinstance(s["mem_free"], (int, type(None)))
    assert c.post_json("/api/login", dict(creds, password="x")).status == 401
    assert c.post_json("/api/login", {"username": "admin"}).status == 400
    assert c.post_json("/api/login", [1, 2]).status == 400
    r = c.request("POST", "/api/login", json.dumps(creds), {"Content-Type": "text/plain"})
    assert r.status == 415
    r = c.post_json("/api/login", creds, headers={"Origin": "http://evil.example"})
    assert r.status == 403
    r = c.request(
        "POST", "/api/logout", headers={"Authorization": "Bearer " + body["token"]}, body=""
    )
    assert r.status == 200
    assert _status(c, body["token"]).status == 401
    r = c.request("POST", "/api/logout", headers={"Authorization": "Bearer x"}, body="")
    assert r.status == 401
    again = c.post_json("/api/login", dict(creds, device=body["device"]))  # the token sent back
    assert again.status == 200 and again.json()["device"].startswith("admin.")


def _json_error(r, status):
    # One shape for every API error: JSON {"error": text}, nosniff, no-store.
    assert r.status == status, r
    assert r.header("Content-Type") == "application/json", (status, r.headers)
    assert r.header("X-Content-Type-Options") == "nosniff", (status, r.headers)
    assert r.header("Cache-Control") == "no-store", (status, r.headers)
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body
    return body["error"]


def test_api_errors_are_all_json_of_one_shape(fw):
    # issue 19: invalid JSON, a body that is not UTF-8 or starts with a BOM, a wrong method,
    # 401, 403, 415, 429, 503 on /api/*: all JSON {"error": ...} with nosniff
    c = Client(fw.port)
    creds = json.dumps({"username": "admin", "password": PASSWORD}).encode()
    assert "not valid JSON" in _json_error(c.post_json("/api/login", "{not json"), 400)
    assert "UTF-8" in _json_error(c.post_json("/api/login", b'{"username": "\xff"}'), 400)
    bom = c.post_json("/api/login", b"\xef\xbb\xbf" + creds)
    assert "byte order mark" in _json_error(bom, 400)
    _json_error(c.post_json("/api/login", {"username": "admin"}), 400)
    _json_error(c.request("GET", "/api/login"), 405)
    _json_error(c.request("DELETE", "/api/status"), 405)
    r = c.request("PUT", "/api/logout", body="x", headers={"Content-Length": "1"})
    assert _json_error(r, 405) and r.header("Allow") == "POST, OPTIONS"
    r = c.request("OPTIONS", "/api/status")
    assert r.status == 200 and r.header("Allow") == "GET, HEAD, OPTIONS"
    assert r.header("X-Content-Type-Options") == "nosniff"
    r = c.get("/api/status")
    _json_error(r, 401)
    assert r.header("WWW-Authenticate") == 'Bearer realm="sessionring"'
    _json_error(c.post_json("/api/login", {"username": "admin", "password": "x"}), 401)
    _json_error(c.request("POST", "/api/logout", headers={"Content-Length": "0"}), 401)
    _json_error(c.request("POST", "/api/login", creds, {"Content-Type": "text/plain"}), 415)
    evil = c.post_json("/api/login", creds, headers={"Origin": "http://evil.example"})
    _json_error(evil, 403)
    # the one that works is JSON with nosniff too, and logs out through the session it bound
    ok = c.post_json("/api/login", creds)
    assert ok.status == 200 and ok.header("X-Content-Type-Options") == "nosniff"
    tok = ok.json()["token"]
    st = _status(c, tok)
    assert st.status == 200 and st.header("X-Content-Type-Options") == "nosniff"
    out = c.request("POST", "/api/logout", headers={"Authorization": "Bearer " + tok}, body="")
    assert out.status == 200 and _status(c, tok).status == 401


def test_nosniff_on_every_answer_of_the_app(fw):
    c = fw.client()
    for r in (c.get("/login"), c.get("/"), c.get("/settings"), c.login(), c.get("/")):
        assert r.header("X-Content-Type-Options") == "nosniff", (r.status, r.headers)
    assert c.get("/").status == 200


# -- sealed sessions ----------------------------------------------------------------------------
def test_sealed_cookie_is_a_fernet_token_and_tampering_is_refused(sealed_fw):
    fw = sealed_fw
    c = fw.client()
    assert c.login().status == 303
    tok = _sid(c)
    raw = base64.urlsafe_b64decode(tok)
    assert raw[0] == 0x80 and b"admin" not in raw  # Fernet, encrypted
    assert c.get("/").status == 200
    for bad in (tok[:-6] + "AAAA==", tok[:30] + ("B" if tok[30] != "B" else "C") + tok[31:]):
        t = Client(fw.port)
        t.cookies["sid"] = bad
        assert t.get("/").status == 303  # no session: to the login page, never a 500
        assert _status(Client(fw.port), bad).status == 401
    assert "Traceback" not in fw.output


def test_sealed_logins_take_no_slot(sealed_fw):
    # slots 4 in the profile: the sealed store keeps nothing per session, so a fifth, sixth
    # ... login works and every session stays live
    tokens = [Client(sealed_fw.port).api_token() for _ in range(6)]
    assert len(set(tokens)) == 6
    for t in tokens:
        assert _status(Client(sealed_fw.port), t).status == 200


def test_sealed_sessions_page_and_log_out_everywhere(sealed_fw):
    fw = sealed_fw
    a, b = fw.client(), fw.client()
    assert a.login().status == 303 and b.login().status == 303
    bearer = Client(fw.port).api_token()
    page = a.get("/sessions")
    assert page.status == 200 and page.header("Cache-Control") == "no-store"
    assert "keeps no list of them" in page.text and "0 for admin" in page.text
    for secret in (_sid(a), _sid(b), bearer):
        assert secret not in page.text
    csrf = page.csrf()
    assert a.post("/sessions/everywhere", {"csrf": b.page_csrf()}).status == 403
    r = a.post("/sessions/everywhere", {"csrf": csrf}, headers={"Origin": "http://x"})
    assert r.status == 403
    assert b.get("/").status == 200  # nothing happened yet
    r = a.post("/sessions/everywhere", {"csrf": csrf})
    assert r.status == 303 and r.header("Location") == "/login" and "sid" not in a.cookies
    assert b.get("/").status == 303
    assert _status(Client(fw.port), bearer).status == 401
    gens = json.loads((fw.data / "sealed_gens.json").read_text())
    assert gens == {"admin": 1}  # on flash: a restart keeps the old cookies out
    old = _sid(b)
    fw.restart()
    assert _status(Client(fw.port), old).status == 401
    c = fw.client()
    assert c.login().status == 303 and "1 for admin" in c.get("/sessions").text
