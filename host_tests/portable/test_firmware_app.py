# The admin app's handlers (firmware/admin/app.py) with an injected clock and a stand-in for
# the server's request object: timeouts, throttle waits and their expiry, without sleeping.
from _firmware_modules import Log, scratch
from _firmware_modules import admin_app as _app
from _firmware_modules import admin_profile as _profile
from _wall import TicksWall as Wall

from admin.account import Account
from admin.app import Admin
from admin.settings import Settings
from sessionring.http import Server
from sessionring.request import Request
from sessionring.session import ROLE_ADMIN

PW = "the admin password"
HOST = "192.168.4.1"
ORIGIN = "http://" + HOST


def _quote(v):
    # percent-encoding of a form or query value
    out = []
    for b in str(v).encode():
        c = chr(b)
        out.append(c if b < 128 and (c.isalpha() or c.isdigit() or c in "-._~") else "%%%02X" % b)
    return "".join(out)


def _encode(d):
    return "&".join("%s=%s" % (_quote(k), _quote(v)) for k, v in d.items())


def Req(app, method, path, form=None, cookies=None, headers=None, query=None):
    # A request of the admin app's server from plain values (Request.make): its session is
    # bound, started, rotated and ended by the library's own Binding; _call() then collects
    # the cookies the server would set as req.set, [(name, value)].
    h = {"host": HOST}
    if method == "POST":
        h["origin"] = ORIGIN
    h.update(headers or {})
    jar = "; ".join("%s=%s" % kv for kv in (cookies or {}).items() if kv[1] is not None)
    if jar:
        h["cookie"] = jar
    body = b""
    if form is not None:
        h["content-type"] = "application/x-www-form-urlencoded"
        body = _encode(form)
    if query:
        path += "?" + _encode(query)
    return Request.make(method, path, h, body, store=app.ring, client=("192.168.4.2", 50000))


def _call(app, req):
    path = req.path
    handler = {
        "/": app.dashboard,
        "/sessions": app.sessions,
        "/sessions/revoke": app.revoke,
        "/sessions/everywhere": app.everywhere,
        "/logout": app.logout,
        "/api/status": app.api_call,
    }.get(path)
    if handler is None:
        if path == "/login":
            handler = app.login if req.method == "POST" else app.login_form
        elif path == "/settings":
            handler = app.settings_save if req.method == "POST" else app.settings_form
    resp = handler(req)
    req.set = [tuple(c.split(";")[0].split("=", 1)) for c in req.finish()]
    return resp


def _login(app, password=PW):
    form = _call(app, Req(app, "GET", "/login"))
    csrf = form.cookie_values(False)[0].split(";")[0].split("=", 1)[1]
    req = Req(
        app,
        "POST",
        "/login",
        {"username": "admin", "password": password, "csrf": csrf},
        {"csrf": csrf},
    )
    resp = _call(app, req)
    sid = req.set[-1][1] if req.set else None
    return resp, sid


def _page(app, sid, path="/"):
    return _call(app, Req(app, "GET", path, cookies={"sid": sid}))


def _location(resp):
    return resp.headers.get("Location")


def test_idle_timeout_and_absolute_timeout():
    app, clock = _app("app-timeouts")
    resp, sid = _login(app)
    assert resp.status == 303 and sid
    for _ in range(3):  # used every 14 minutes: stays alive
        clock.advance_s(14 * 60)
        assert _page(app, sid).status == 200
    clock.advance_s(15 * 60)  # 15 minutes idle: gone
    assert _location(_page(app, sid)) == "/login"
    _, sid = _login(app)
    for _ in range(12 * 6 - 1):  # busy for 12 hours, a request every 10 minutes
        clock.advance_s(600)
        assert _page(app, sid).status == 200
    clock.advance_s(600)
    assert _location(_page(app, sid)) == "/login"  # the absolute timeout


def test_new_timeouts_apply_at_once():
    app, clock = _app("app-apply")
    _, sid = _login(app)
    clock.advance_s(3 * 60)
    # settings: idle 2 minutes; the session that saves it is touched by the request itself
    page = _page(app, sid, "/settings")
    csrf = app.ring.get(sid)["c"]
    form = {"csrf": csrf, "form": "device", "name": "t", "wifi_ssid": "", "idle_min": "2"}
    form["absolute_min"] = "60"
    _, other = _login(app)
    clock.advance_s(3 * 60)  # `other` has now been idle for 3 minutes
    resp = _call(app, Req(app, "POST", "/settings", form, {"sid": sid}))
    assert page.status == 200 and resp.status == 303
    assert app.ring.idle_s == 120 and app.ring.absolute_s == 3600
    assert _location(_page(app, other)) == "/login"
    assert _page(app, sid).status == 200
    clock.advance_s(121)
    assert _location(_page(app, sid)) == "/login"


def test_throttle_waits_grow_and_expire():
    app, clock = _app("app-throttle")
    for _ in range(4):
        assert _login(app, "wrong")[0].status == 401
    resp, sid = _login(app)  # the right password, but too soon
    assert resp.status == 429 and resp.headers["Retry-After"] == "1" and sid is None
    clock.advance_s(1)
    assert _login(app, "wrong")[0].status == 401  # after the wait: tried, failed again
    resp, _ = _login(app)
    assert resp.status == 429 and resp.headers["Retry-After"] == "2"
    clock.advance_s(2)
    resp, sid = _login(app)
    assert resp.status == 303 and sid  # a success resets the count
    assert _login(app, "wrong")[0].status == 401
    assert _login(app)[0].status == 303


def test_full_ring_refuses_and_keeps_everyone():
    app, clock = _app("app-full", store={"slots": 2})
    a = _login(app)[1]
    b = _login(app)[1]
    resp, c = _login(app)
    assert resp.status == 503 and c is None
    assert b"All 2 session slots are in use" in resp.body
    assert _page(app, a).status == 200 and _page(app, b).status == 200
    clock.advance_s(16 * 60)  # both idle past the timeout: their slots are free again
    assert _login(app)[0].status == 303


def test_password_change_keeps_only_this_session():
    app, _ = _app("app-password")
    _, a = _login(app)
    _, b = _login(app)
    api = app.ring.create("admin", ROLE_ADMIN).token
    csrf = app.ring.get(a)["c"]
    form = {"csrf": csrf, "form": "password", "current": PW, "new": "new password!"}
    form["confirm"] = "new password!"
    req = Req(app, "POST", "/settings", form, {"sid": a})
    resp = _call(app, req)
    assert resp.status == 303
    new_a = req.set[-1][1]
    assert new_a != a and app.ring.get(a) is None and app.ring.get(new_a) is not None
    assert app.ring.get(b) is None and app.ring.get(api) is None
    assert app.ring.get(new_a)["c"] != csrf
    assert _login(app, PW)[0].status == 401
    assert _login(app, "new password!")[0].status == 303


def test_device_name_is_escaped_everywhere():
    app, _ = _app("app-escape")
    app.settings.update({"name": '<img src=x onerror="alert(1)">'})
    _, sid = _login(app)
    for path in ("/", "/sessions", "/settings"):
        body = bytes(_page(app, sid, path).body)
        assert b"<img" not in body, path
        assert b"&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body, path
    body = bytes(_call(app, Req(app, "GET", "/login", headers={})).body)
    assert b"<img" not in body


def test_host_names_from_the_profile_and_the_network():
    app, clock = _app("hosts", server={"hosts": ["router.lan", 7]})
    assert app.host_names() == ("router.lan",)  # a name that is not a string is left out
    assert app.server.hosts == ("router.lan",)
    app.net = {"mode": "station", "ssid": "home", "ip": "10.0.0.7", "hostname": "ring-1"}
    assert app.host_names() == ("router.lan", "ring-1", "ring-1.local")


def test_connection_limits_come_from_the_profile():
    app, clock = _app("limits", server={"max_conns": 5, "max_per_client": 4, "max_head": 1024})
    assert (app.server.max_conns, app.server.max_per_client) == (5, 4)
    assert app.server.max_head == 1024  # any Server tunable, under its own name
    app, clock = _app("limits-default")  # the Server's own defaults
    want = (Server.max_conns, Server.max_per_client, Server.buf_size)
    assert (app.server.max_conns, app.server.max_per_client, app.server.buf_size) == want
    for conns, per, want in ((4, 4, 3), (4, 9, 3), (3, 3, 2), (1, 1, 0), (4, 0, 0)):
        srv = {"max_conns": conns, "max_per_client": per}
        app, clock = _app("limits-%d-%d" % (conns, per), server=srv)
        assert app.server.max_per_client == want, (conns, per)  # never the last slot


# -- the sealed store ("sessions": "sealed") -----------------------------------------------------
def _visit(app, sid, path="/", method="GET", form=None):
    # One request as a browser makes it: (answer, the cookie it holds afterwards).
    req = Req(app, method, path, form, cookies={"sid": sid})
    resp = _call(app, req)
    for name, value in req.set:
        if name == "sid":
            sid = value
    return resp, sid


def _by_route(app, method, path, form=None, sid=None, origin=ORIGIN):
    # One request through the handler the server has registered for path (its guard included).
    req = Req(app, method, path, form, {"sid": sid})
    req.headers["origin"] = origin
    resp = app.server.routes[path][0](req)
    req.finish()
    return resp


def test_every_page_and_form_post_is_guarded():
    # Every route of the admin pages, read from the server's own table: a page needs an admin
    # session (else the login page); a form post also needs that session's CSRF token, sent from
    # this device's Origin (else 403) and changes nothing when refused. A route added without
    # its guard fails here.
    app, _ = _app("app-guards")
    _, sid = _login(app)
    _, other = _login(app)
    csrf = app.ring.get(sid)["c"]
    posts = []
    for path, (_, methods, _) in app.server.routes.items():
        if path.startswith("/api/") or path == "/login":
            continue  # the API: test_api_*; the login form: below
        for method in methods:
            resp = _by_route(app, method, path, {"csrf": csrf} if method == "POST" else None)
            assert resp.status == 303 and _location(resp) == "/login", (method, path)
            if method == "GET":
                assert _by_route(app, method, path, sid=sid).status == 200, path
                continue
            posts.append(path)
            for form, origin in (
                ({"form": "device"}, ORIGIN),  # no token at all
                ({"csrf": ""}, ORIGIN),
                ({"csrf": app.ring.get(other)["c"]}, ORIGIN),  # another session's token
                ({"csrf": csrf}, "http://evil.example"),
                ({"csrf": csrf}, "null"),
            ):
                resp = _by_route(app, method, path, form, sid, origin)
                assert resp.status == 403 and b"Forbidden" in bytes(resp.body), (path, form)
            assert app.ring.get(sid) is not None and app.ring.get(other) is not None, path
    assert sorted(posts) == ["/logout", "/sessions/everywhere", "/sessions/revoke", "/settings"]
    # the login form's post, before any session: the csrf cookie's token, this Origin
    form = {"username": "admin", "password": PW, "csrf": csrf}
    assert _by_route(app, "POST", "/login", form).status == 403  # no csrf cookie to pair with
    req = Req(app, "POST", "/login", form, {"csrf": csrf})
    req.headers["origin"] = "http://evil.example"
    assert app.server.routes["/login"][0](req).status == 403
    assert len(app.ring) == 2  # no session was made, none ended


def _sealed_app(name, **store):
    log = Log()
    app, clock = _app(name, log, firmware={"sessions": "sealed"}, store=store)
    assert app.sealed and "sessions sealed in cookies" in log.text(), log.text()
    return app, clock


def test_sealed_mode_slides_the_cookie_and_times_out():
    app, clock = _sealed_app("sealed-timeouts")
    resp, sid = _login(app)
    assert resp.status == 303 and sid and len(sid) > 100  # a Fernet token, not a ring token
    assert app.store.get(sid)["c"]  # the CSRF token made at login is in the cookie sent
    first = sid
    for _ in range(3):  # used every 14 minutes: re-sealed past half the idle timeout, alive
        clock.advance_s(14 * 60)
        resp, sid = _visit(app, sid)
        assert resp.status == 200
    assert sid != first and app.store.get(first) is None  # the first cookie is past its idle
    clock.advance_s(15 * 60 + 1)  # 15 minutes idle: refused
    assert _location(_visit(app, sid)[0]) == "/login"
    _, sid = _login(app)
    for _ in range(12 * 6 - 1):  # busy for 12 hours, a request every 10 minutes
        clock.advance_s(600)
        resp, sid = _visit(app, sid)
        assert resp.status == 200
    clock.advance_s(600)
    assert _location(_visit(app, sid)[0]) == "/login"  # the absolute timeout, sealed inside


def test_sealed_mode_has_no_slot_limit_and_says_so():
    app, clock = _sealed_app("sealed-many", slots=1)
    sids = [_login(app)[1] for _ in range(5)]
    assert len(set(sids)) == 5 and None not in sids
    for sid in sids:
        resp = _page(app, sid)
        assert resp.status == 200
    body = bytes(resp.body)
    assert b"sealed in cookies (no slots on this device)" in body
    st = _call(app, Req(app, "GET", "/api/status", cookies={"sid": sids[0]})).body
    assert '"store": "sealed"' in st and '"capacity": null' in st
    clock.advance_s(3)
    assert app.store.now() == 3  # the uptime clock of the dashboard


def test_sealed_password_change_keeps_only_this_session_across_a_restart():
    app, _ = _sealed_app("sealed-password")
    _, a = _login(app)
    _, b = _login(app)
    api = app.store.create("admin", ROLE_ADMIN).token
    csrf = app.store.get(a)["c"]
    form = {"csrf": csrf, "form": "password", "current": PW, "new": "new password!"}
    form["confirm"] = "new password!"
    resp, new_a = _visit(app, a, "/settings", "POST", form)
    assert resp.status == 303 and _location(resp) == "/settings?m=password"
    assert new_a != a and app.store.get(a) is None and app.store.get(new_a) is not None
    assert app.store.get(b) is None and app.store.get(api) is None
    assert app.store.get(new_a)["c"] != csrf
    assert app.store.generation("admin") == 1
    # a new app on the same flash (a reboot): the generation came back from its file
    again = Admin(
        app.profile, app.settings, app.account, app.net, clock=Wall(), wall=Wall(), log=Log()
    )
    assert again.sealed and again.store.generation("admin") == 1
    assert again.store.get(b) is None and again.store.get(new_a) is not None
    assert _login(app, PW)[0].status == 401
    assert _login(app, "new password!")[0].status == 303


def test_sealed_sessions_page_and_log_out_everywhere():
    app, _ = _sealed_app("sealed-everywhere")
    _, a = _login(app)
    _, b = _login(app)
    page = bytes(_page(app, a, "/sessions").body)
    assert b"this device keeps no list of them" in page
    assert b"Generation</dt><dd>0 for admin" in page
    assert b'action="/sessions/everywhere"' in page and b"Log out everywhere" in page
    assert b"0 of 32 here" in page
    assert a.encode() not in page and b.encode() not in page
    csrf = app.store.get(a)["c"]
    # another session's CSRF token, or a foreign Origin: refused, nothing changes
    resp, _ = _visit(app, a, "/sessions/everywhere", "POST", {"csrf": app.store.get(b)["c"]})
    assert resp.status == 403 and app.store.generation("admin") == 0
    req = Req(app, "POST", "/sessions/everywhere", {"csrf": csrf}, {"sid": a})
    req.headers["origin"] = "http://evil.example"
    assert _call(app, req).status == 403
    resp, after = _visit(app, a, "/sessions/everywhere", "POST", {"csrf": csrf})
    assert resp.status == 303 and _location(resp) == "/login" and after == ""
    assert app.store.generation("admin") == 1
    for sid in (a, b):
        assert _location(_page(app, sid)) == "/login"
    # a logout is remembered on the deny-list, shown on the page
    _, c = _login(app)
    _, d = _login(app)
    resp, _ = _visit(app, d, "/logout", "POST", {"csrf": app.store.get(d)["c"]})
    assert resp.status == 303 and _location(_page(app, d)) == "/login"
    assert b"1 of 32 here" in bytes(_page(app, c, "/sessions").body)
    # revoking by handle is a ring feature: here the handle is never found
    resp, _ = _visit(app, c, "/sessions/revoke", "POST", {"csrf": app.store.get(c)["c"]})
    assert _location(resp) == "/sessions?m=gone"


def test_sealed_mode_falls_back_to_the_ring_when_it_cannot_work():
    # a wall clock that was never set (an access point with no NTP boots in 1970)
    log = Log()
    d = scratch("sealed-clock")
    p = _profile(firmware={"sessions": "sealed"}, store={"slots": 2})
    st = Settings(d, p)
    st.load(Log())
    acct = Account(d, 10)
    acct.setup(Log(), given=PW)
    net = {"mode": "host", "ssid": "", "ip": ""}
    app = Admin(p, st, acct, net, clock=Wall(), wall=Wall(unix=86400), log=log)
    assert not app.sealed and app.store.capacity == 2
    assert "never set" in log.text() and "using the session ring" in log.text(), log.text()
    resp, sid = _login(app)
    assert resp.status == 303 and len(sid) == 27 and _page(app, sid).status == 200
    # a damaged key file: refused, kept as it is (a fleet shares it), the ring instead
    with open(d + "/sealed.keys", "w") as f:
        f.write("not a key\n")
    log = Log()
    app = Admin(p, st, acct, net, clock=Wall(), wall=Wall(), log=log)
    assert not app.sealed and "damaged" in log.text(), log.text()
    with open(d + "/sealed.keys") as f:
        assert f.read() == "not a key\n"
    # a store this firmware does not know
    log = Log()
    p["sessions"] = "cloud"
    app = Admin(p, st, acct, net, clock=Wall(), wall=Wall(), log=log)
    assert not app.sealed and "unknown session store" in log.text()


def test_throttle_comes_from_its_section_at_the_first_login():
    app, clock = _app("throttle", throttle={"free": 1, "slots": 2, "accounts": 1})
    assert app._throttle is None  # nobody has logged in: no module, no tables
    resp, sid = _login(app, "wrong password")
    t = app.throttle
    assert t is app._throttle and t.free == 1 and len(t._acct) == 2 and len(t._aname) == 1


def test_values_a_class_refuses_leave_its_defaults_and_a_log_line():
    log = Log()
    app, clock = _app("refused", log, store={"slots": 0}, throttle={"base_s": 0})
    assert app.store.capacity == 16  # SessionRing's default
    assert "refused by SessionRing" in log.text(), log.text()
    assert app.throttle.base_s == 1 and "refused by Throttle" in log.text(), log.text()
