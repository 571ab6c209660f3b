# The admin app's handlers (firmware/admin/app.py) with an injected clock and a stand-in for
# the server's request object: timeouts, throttle waits and their expiry, without sleeping.
from _fw import Log, scratch

from _support import FakeClock
from admin.account import Account
from admin.app import Admin
from admin.board import DEFAULTS
from admin.settings import Settings
from sessionring.ring import ROLE_ADMIN

PW = "the admin password"
HOST = "192.168.4.1"
ORIGIN = "http://" + HOST


class Req:
    # What a handler may use of sessionring.request.Request.
    def __init__(self, app, method, path, form=None, cookies=None, headers=None, query=None):
        self.method = method
        self.path = path
        self.form = form or {}
        self.query = query or {}
        self.cookies = cookies or {}
        self.headers = {"host": HOST}
        if method == "POST":
            self.headers["origin"] = ORIGIN
        self.headers.update(headers or {})
        self.json = None
        self.client_addr = "192.168.4.2"
        self.set = []
        self.ring = app.ring
        self.session = None
        tok = self.cookies.get("sid")
        if tok:
            s = self.ring.get(tok)
            if s is not None:
                self.ring.touch(s)
                self.session = s

    def start_session(self, user, role):
        if self.session is not None:
            self.ring.revoke(self.session)
        self.session = self.ring.create(user, role)
        self.set.append(("sid", self.session.token))
        return self.session

    def end_session(self):
        if self.session is not None:
            self.ring.revoke(self.session)
        self.session = None
        self.set.append(("sid", ""))

    def rotate_session(self):
        s = self.ring.rotate(self.session)
        self.set.append(("sid", s.token))
        return s


def _app(name, **prof):
    d = scratch(name)
    p = dict(DEFAULTS)
    p.update({"name": "t", "slots": 4, "pbkdf2_iterations": 10})
    p.update(prof)
    st = Settings(d, p)
    st.load(Log())
    acct = Account(d, 10)
    acct.setup(Log(), given=PW)
    clock = FakeClock()
    app = Admin(p, st, acct, {"mode": "host", "ssid": "", "ip": ""}, clock=clock)
    return app, clock


def _call(app, req):
    path = req.path
    handler = {
        "/": app.dashboard,
        "/sessions": app.sessions,
        "/sessions/revoke": app.revoke,
        "/logout": app.logout,
        "/api/status": app.api_status,
    }.get(path)
    if handler is None:
        if path == "/login":
            handler = app.login if req.method == "POST" else app.login_form
        elif path == "/settings":
            handler = app.settings_save if req.method == "POST" else app.settings_form
    return handler(req)


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
    app, clock = _app("app-full", slots=2)
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
    app, clock = _app("hosts", hosts=["router.lan", 7])
    assert app.host_names() == ("router.lan",)  # a name that is not a string is left out
    assert app.server.hosts == ("router.lan",)
    app.net = {"mode": "station", "ssid": "home", "ip": "10.0.0.7", "hostname": "ring-1"}
    assert app.host_names() == ("router.lan", "ring-1", "ring-1.local")


def test_connection_limits_come_from_the_profile():
    app, clock = _app("limits", max_conns=5, max_per_client=4)
    assert (app.server.max_conns, app.server.max_per_client) == (5, 4)
    app, clock = _app("limits-default")
    assert (app.server.max_conns, app.server.max_per_client) == (4, 3)  # board.DEFAULTS
    for conns, per, want in ((4, 4, 3), (4, 9, 3), (3, 3, 2), (1, 1, 0), (4, 0, 0)):
        app, clock = _app("limits-%d-%d" % (conns, per), max_conns=conns, max_per_client=per)
        assert app.server.max_per_client == want, (conns, per)  # never the last slot
