# The admin app: the routes of the device admin page on a sessionring Server.
# Tour and security model: docs/admin.md. In short:
#  - one account, "admin"; sessions (ROLE_ADMIN, cookie "sid") live in the RAM ring, or sealed
#    in the cookie itself when the profile says "sessions": "sealed" (docs/sessions.md);
#  - logged-in forms carry a synchronizer CSRF token kept in the session's data ("c");
#  - the login form, before any session exists, uses a double-submit cookie ("csrf"): the
#    visitor gets no ring slot, so nobody who is not logged in can take one from a session;
#  - every POST also passes an exact Origin (else Referer) check; nothing changes on GET.
# What the pages share (answers, the guards as decorators, the login path, messages) is in
# web.py; the handlers here say which guard they need (@web.admin_page, @web.admin_form...).
import hashlib
import sys

from sessionring import __version__, auth, cookie
from sessionring.http import Server
from sessionring.ring import SessionRing

from . import board, pages, web
from .account import USER

_CSRF_LEN = 32  # auth.new_csrf(): 32 URL-safe characters
_ANY = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")  # (HEAD goes with GET)
KEY_FILE = "sealed.keys"  # sealed store: its keys, in the data folder ("sealed": "key_file")

# The API's routes: path -> the methods it takes, its Allow line, its function in api.py. Each
# takes every method, so that a wrong one gets the API's JSON 405 (api.wrong_method).
_API = {
    "/api/status": (("GET", "HEAD"), "GET, HEAD, OPTIONS", "status"),
    "/api/login": (("POST",), "POST, OPTIONS", "login"),
    "/api/logout": (("POST",), "POST, OPTIONS", "logout"),
}
GEN_FILE = "sealed_gens.json"  # sealed store: the users' generations, in the data folder
DENY_FILE = "sealed_deny.txt"  # sealed store: its deny-list (logouts), in the data folder


def _device_key(acct):
    # The throttle signs device cookies with a key derived from the stored password hash
    # (secret, random salt, on flash): they outlive a restart, and a new password retires them
    # at the next one. None (a random key) before any password exists.
    stored = getattr(acct, "stored", None)
    if not stored:
        return None
    return hashlib.sha256(b"sessionring/v1/device/" + stored.encode()).digest()


def _make(cls, opts, log, kw):
    # cls(**opts, **kw); when the board's values are refused (logged), cls(**kw): its defaults.
    try:
        return cls(**opts, **kw)
    except (TypeError, ValueError) as e:
        if not opts:
            raise
        log(
            "sessionring: board profile values refused by %s (%s): its defaults"
            % (cls.__name__, e)
        )
        return cls(**kw)


def fingerprint(cert_der):
    # A certificate's SHA-256 as browsers show it: "AB:CD:..." (tools/cert.py prints the same).
    d = hashlib.sha256(cert_der).digest()
    return ":".join("%02X" % b for b in d)


class Admin(web.Site):
    def __init__(
        self, profile, settings, acct, netstate, clock=None, wall=None, log=print, tls=None
    ):
        # The profile is board.profile()'s: each class section goes to its class as keyword
        # arguments (what a section leaves out is the class's default); the firmware adds what
        # it sets itself. clock: a ticks clock, wall: a wall clock (time(), gmtime()), both
        # injected by tests. tls: None, or (key_der, cert_der) to serve HTTPS (start.py loads
        # them; docs/https.md).
        p = profile
        self.profile = p
        self.settings = settings
        self.account = acct
        self.net = netstate
        self.fingerprint = fingerprint(tls[1]) if tls is not None else None
        self._clock = clock
        self._log = log
        kw = {} if clock is None else {"clock": clock}
        kind = board.sessions(p)
        self.store = self._sealed(clock, wall, log) if kind == "sealed" else None
        self.sealed = self.store is not None
        if self.store is None:
            if kind not in ("ring", "sealed"):
                log("sessionring: unknown session store %r: using the ring" % kind)
            self.store = _make(SessionRing, p["store"], log, self._timeouts(kw))
        opts = dict(p["server"])
        opts["max_conns"] = self.conn_limit(tls)
        opts["max_per_client"] = self.per_client_limit()
        opts["hosts"] = self.host_names()
        opts["handler_json_errors"] = True  # the API answers a bad JSON body in JSON (api.py)
        if tls is not None:
            opts["tls"] = tls
        opts.update(kw)
        self.server = Server(self.store, **opts)
        self._throttle = None  # made at the first login (throttle below)
        self.secure = bool(self.server.secure)
        self.scheme = "https" if self.secure else "http"
        self.csrf_cookie = cookie.name_for("csrf", self.secure)
        self.device_cookie = cookie.name_for("dev", self.secure)
        self._api = None  # api.py once loaded
        self._software = "sessionring %s on %s" % (__version__, _interpreter())
        self._to_idle = self._to_abs = self._to_text = None  # _timeouts_text()
        r = self.server.route
        r("/login", methods=("GET", "POST"))(self.login_route)
        r("/", methods=("GET",))(self.dashboard)
        r("/sessions", methods=("GET",))(self.sessions)
        r("/sessions/revoke", methods=("POST",))(self.revoke)
        r("/sessions/everywhere", methods=("POST",))(self.everywhere)
        r("/settings", methods=("GET", "POST"))(self.settings_route)
        r("/logout", methods=("POST",))(self.logout)
        call = self.api_call  # (one bound method for the three)
        for path in _API:
            r(path, methods=_ANY)(call)

    def _timeouts(self, kw):
        # A store's keywords: the session timeouts from the settings, and kw.
        t = {"idle_s": self.settings["idle_s"], "absolute_s": self.settings["absolute_s"]}
        t.update(kw)
        return t

    def _sealed(self, clock, wall, log):
        # The sealed store from the "sealed" section (its key file in the data folder unless
        # absolute), or None (logged) when it cannot be used here: a wall clock that was never
        # set (its cookies would be misread by every peer), no cryptolib or no sealed stack in
        # this build, a damaged key or generation file. Then the ring.
        try:
            from sessionring.sealed import SealedStore
        except ImportError as e:
            log("sessionring: no sealed sessions in this build (%s): using the ring" % e)
            return None
        folder = self.settings.folder
        opts = dict(self.profile["sealed"])
        keys = board.in_folder(folder, opts.get("key_file", KEY_FILE))
        opts["key_file"] = keys
        opts["gen_file"] = board.in_folder(folder, GEN_FILE)
        opts["deny_file"] = board.in_folder(folder, DENY_FILE)
        opts["cookie_name"] = self.profile["server"].get("cookie_name", Server.cookie_name)
        kw = {}
        if wall is not None:
            kw["clock"] = wall
        if clock is not None:
            kw["ticks"] = clock
        try:
            st = SealedStore(**opts, **self._timeouts(kw))
            st.unix()  # ClockNotSet when the wall clock was never set
        except (RuntimeError, ValueError, TypeError, OSError) as e:  # ClockNotSet: RuntimeError
            log("sessionring: sealed sessions unavailable: %s; using the session ring" % e)
            return None
        log("sessionring: sessions sealed in cookies, key file %s" % keys)
        return st

    @property
    def ring(self):
        return self.store  # the store under its older name

    # -- configuration -------------------------------------------------------------------------
    def _server(self, key):
        # A Server tunable as the profile sets it, else the class's default.
        return self.profile["server"].get(key, getattr(Server, key))

    def conn_limit(self, tls):
        # max_conns; over TLS no more than TLS may have: a record past them is never used.
        n = self._server("max_conns")
        return min(n, self._server("tls_conns")) if tls else n

    def per_client_limit(self):
        # max_per_client, but below max_conns: one device never takes the last slot (0: no
        # limit; with a single slot there is nothing to share).
        n = self._server("max_per_client")
        top = self._server("max_conns") - 1
        return n if 0 < n <= top else (top if n > 0 else 0)

    def host_names(self):
        # Names a request's Host may carry: the server section's "hosts" and the device's own
        # network name (NAME and NAME.local). IP addresses always pass; any other name gets
        # 421, which keeps a DNS-rebinding page from talking to the admin page from a browser
        # on the LAN.
        names = [h for h in self._server("hosts") or () if isinstance(h, str)]
        hn = self.net.get("hostname")
        if hn:
            names.append(hn)
            names.append(hn + ".local")
        return tuple(names)

    @property
    def throttle(self):
        # The login throttle, made (module and tables) at its first use: a board that nobody
        # logs in to keeps that heap.
        t = self._throttle
        if t is None:
            from sessionring.throttle import Throttle

            kw = {"key": _device_key(self.account)}
            if self._clock is not None:
                kw["clock"] = self._clock
            t = self._throttle = _make(Throttle, self.profile["throttle"], self._log, kw)
        return t

    @property
    def name(self):
        return self.settings["name"]

    def apply_timeouts(self):
        # Settings take effect on the store at once: the idle timeout for existing sessions
        # too; the sealed store's absolute expiry is sealed in each cookie at login.
        self.store.idle_s = self.settings["idle_s"]
        self.store.absolute_s = self.settings["absolute_s"]

    # -- login -----------------------------------------------------------------------------------
    def login_route(self, req):
        # /login: GET (and HEAD) the form, POST it
        return self.login(req) if req.method == "POST" else self.login_form(req)

    def _login_page(self, req, status, msg, token=None):
        if token is None:
            token = req.cookies.get(self.csrf_cookie)
            if not isinstance(token, str) or len(token) != _CSRF_LEN:
                token = auth.new_csrf()
        o = pages.Out()
        pages.login(o, self.name, token, msg)
        resp = web.html(o, status)
        if req.cookies.get(self.csrf_cookie) != token:
            resp.set_cookie(self.csrf_cookie, token, secure=self.secure)
        return resp

    def login_form(self, req):
        if web.admin(req) is not None:
            return web.redirect("/")
        return self._login_page(req, 200, None)

    @web.visitor_form
    def login(self, req, token):
        f = req.form
        st, got = self.log_in(req, f.get("username", ""), f.get("password", ""), True)
        if st == web.THROTTLED:
            msg = "Too many failed attempts. Try again in %d s." % got
            resp = self._login_page(req, 429, msg, token)
            resp.headers["Retry-After"] = str(got)
            return resp
        if st == web.WRONG:
            return self._login_page(req, 401, "Wrong user name or password.", token)
        if st == web.FULL:
            return self._login_page(req, 503, self.full_text(), token)
        resp = web.redirect("/")
        resp.set_cookie(self.csrf_cookie, "", max_age=0, secure=self.secure)  # used up
        self.set_device_cookie(resp)
        return resp

    @web.admin_form
    def logout(self, req, s):
        req.end_session()
        return web.redirect("/login")

    # -- pages -----------------------------------------------------------------------------------
    @web.admin_page
    def dashboard(self, req, s):
        free = self.free_heap()
        st = self.store
        rows = (
            (b"Device", self.name),
            (b"Uptime", pages.duration(st.now())),
            (b"Free heap", "%d KB" % (free // 1024) if free is not None else "n/a"),
            (b"Sessions", self.sessions_text()),
            (b"Network", self._network_text()),
            (b"Timeouts", self._timeouts_text()),
            (b"Software", self._software),
        )
        if self.fingerprint:
            rows += ((b"Certificate SHA-256", self.fingerprint),)
        o = pages.Out()
        pages.dashboard(o, self.name, s.get("c"), rows)
        return web.html(o)

    def _timeouts_text(self):
        # "15 min idle, 12 h at most", made again only when a timeout changed
        st = self.store
        if self._to_idle != st.idle_s or self._to_abs != st.absolute_s:
            self._to_idle = st.idle_s
            self._to_abs = st.absolute_s
            self._to_text = "%s idle, %s at most" % (
                pages.duration(st.idle_s),
                pages.duration(st.absolute_s),
            )
        return self._to_text

    def _network_text(self):
        n = self.net
        mode = n["mode"]
        if mode == "host":
            return "host network (no Wi-Fi on this port)"
        if mode in ("station", "access point"):
            return "%s %s, %s" % (mode, n["ssid"], n["ip"])
        return mode

    @web.admin_page
    def sessions(self, req, s):
        o = pages.Out()
        msg = web.MESSAGES.get(req.query.get("m"))
        if self.sealed:
            st = self.store
            info = st.stats()
            info["generation"] = st.generation(s.user)
            pages.sealed_sessions(o, self.name, s.get("c"), s, info, msg)
        else:
            pages.sessions(o, self.name, s.get("c"), self.store, s.handle, msg)
        return web.html(o)

    @web.admin_form
    def revoke(self, req, s):
        target = self.store.by_handle(req.form.get("handle", ""))
        if target is None:
            return web.redirect("/sessions?m=gone")
        if target.handle == s.handle:
            req.end_session()
            return web.redirect("/login")
        self.store.revoke(target)
        return web.redirect("/sessions?m=revoked")

    @web.admin_form
    def everywhere(self, req, s):
        # Log out everywhere: every session of the user ends, this one too (the sealed store
        # bumps the user's generation on flash, so every older cookie is refused).
        self.store.revoke_user(USER)
        req.end_session()
        return web.redirect("/login")

    # -- rarely used parts: loaded on first use, to keep the heap free after boot ---------------
    def settings_route(self, req):
        # /settings: GET (and HEAD) the page, POST one of its forms
        return self.settings_save(req) if req.method == "POST" else self.settings_form(req)

    def settings_form(self, req):
        from . import settings_page

        return settings_page.show(self, req)

    def settings_save(self, req):
        from . import settings_page

        return settings_page.save(self, req)

    def api(self):
        # api.py, imported at its first use and kept: an import statement on every call
        # looks the module up by name each time.
        m = self._api
        if m is None:
            from . import api as m

            self._api = m
        return m

    def api_call(self, req):
        # Every API route, every method: a method the route takes to its function in api.py,
        # the others to the API's JSON 405 with the route's Allow line.
        methods, allow, name = _API[req.path]
        m = self.api()
        if req.method in methods:
            return getattr(m, name)(self, req)
        return m.wrong_method(req, allow)


def _interpreter():
    impl = sys.implementation
    v = impl.version
    return "%s %d.%d.%d" % (impl.name, v[0], v[1], v[2])
