# What every page of the admin app shares: answers (HTML pages, redirects, JSON), the guards
# (decorators: what a handler needs before it runs), and, as methods of the app (app.Admin is a
# Site), the problem pages, the free-heap figure, the one login path used by the form and by
# the API, and the status lines. app.py, api.py and settings_page.py import this module; it
# imports none of them.
import binascii
import gc
import hashlib
from json import dumps as _dumps

from micropython import const

from sessionring import auth
from sessionring.http import Response
from sessionring.response import JSON, encode_headers
from sessionring.session import ROLE_ADMIN, StoreFull

from . import pages
from .account import USER
from .pages import Out


def _csp():
    # The only style is pages.CSS, allowed by its hash; no scripts, no frames, forms post here.
    digest = binascii.b2a_base64(hashlib.sha256(pages.CSS).digest()).decode().strip()
    return (
        "default-src 'none'; style-src 'sha256-%s'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'" % digest
    )


# The security headers of every page, as sent (encoded once, at import).
PAGE_LINES = encode_headers(
    {
        "Cache-Control": "no-store",
        "Content-Security-Policy": _csp(),
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }
)
# redirects and JSON: nosniff too, on every answer the app makes (a JSON answer must not be
# taken for a script or a page)
NO_STORE = encode_headers({"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
_HEAP_MS = const(1000)  # the free-heap figure is measured at most once in this many ms
_mem_free = getattr(gc, "mem_free", None)

# ?m=... on a page -> the message it shows
MESSAGES = {
    "revoked": "Session revoked.",
    "gone": "That session had already ended.",
    "saved": "Settings saved.",
    "password": "Password changed. Every other session has been logged out.",
}


# -- answers -----------------------------------------------------------------------------------
class _Page(Response):
    # A page or a JSON answer: what every one of its kind sends is on the class, so an answer
    # stores its body and status only (each instance attribute costs heap on MicroPython).
    lines = PAGE_LINES

    def __init__(self, body, status):
        self.body = body
        self.status = status


class _Json(_Page):
    content_type = JSON
    lines = NO_STORE


def html(o, status=200):
    # A page rendered into o (a pages.Out), with the security headers. (One buffer kept for
    # every page would save the page's own bytes per request, about 2.7 KB of the dashboard's
    # heap: docs/benchmarks.md.)
    return _Page(o.buf, status)


def redirect(where):
    resp = Response.redirect(where)
    resp.lines = NO_STORE
    return resp


def json(obj, status=200):
    return _Json(_dumps(obj), status)


def json_error(status, text):
    # The one shape of every error the API answers: {"error": text} (and the HTTP status).
    return json({"error": text}, status)


# -- guards ------------------------------------------------------------------------------------
# A handler is a method of the app, or a function of (app, req); a guard wraps it once, at
# import, in a closure that calls it with what it checked, or answers for it. A request costs
# no allocation more. CSRF is checked here only: admin_form (the session's synchronizer token)
# and visitor_form (the login form's double-submit cookie), each with the exact Origin check.
def admin(req):
    # The request's admin session (cookie or Bearer), or None.
    s = req.session
    if s is None or not s.valid or s.role != ROLE_ADMIN:
        return None
    return s


def admin_page(handler):
    # handler(app, req, s) for an admin session s; the login page for anyone else.
    def page(a, req):
        s = admin(req)
        if s is None:
            return redirect("/login")
        return handler(a, req, s)

    return page


def admin_form(handler):
    # A form post that changes something: handler(app, req, s) for an admin session s whose
    # CSRF token came in the form, from this device's own Origin. Not logged in: the login
    # page; a bad token or Origin: 403.
    def form(a, req):
        s = admin(req)
        if s is None:
            return redirect("/login")
        if not a.form_ok(req, s.get("c")):
            return a.forbidden()
        return handler(a, req, s)

    return form


def visitor_form(handler):
    # The login form's post, before there is a session: handler(app, req, token) when the
    # form's CSRF token is the one in the csrf cookie (double submit) and the Origin is this
    # device's; else 403.
    def form(a, req):
        token = req.cookies.get(a.csrf_cookie)
        if not a.form_ok(req, token):
            return a.forbidden()
        return handler(a, req, token)

    return form


def admin_api(handler):
    # An API call: handler(app, req, s) for an admin session s (Bearer or cookie); else 401.
    def call(a, req):
        s = admin(req)
        if s is None:
            resp = json_error(401, "login required")
            resp.headers["WWW-Authenticate"] = 'Bearer realm="sessionring"'
            return resp
        return handler(a, req, s)

    return call


# -- logging in --------------------------------------------------------------------------------
LOGGED_IN = 200
WRONG = 401  # wrong user name or password (one answer for every failure)
THROTTLED = 429  # too many failed attempts: wait the seconds returned
FULL = 503  # every session slot holds a live session: nobody is logged out for a new one
DEVICE_MAX_AGE = 180 * 86400


class Site:
    # What the handlers use of the app: app.Admin is a Site. It reads the app's name, scheme,
    # secure, csrf_cookie, device_cookie, server (its clock), store, throttle and account.
    heap_at = None  # free_heap(): when it last measured, and what
    heap_free = None

    def problem(self, status, title, text):
        o = Out()
        pages.problem(o, self.name, title, text)
        return html(o, status)

    def forbidden(self):
        return self.problem(
            403,
            "Forbidden",
            "This form was out of date or sent from another site. Reload the page and try again.",
        )

    def same_origin(self, req):
        return auth.same_origin(req.headers, req.headers.get("host"), self.scheme)

    def form_ok(self, req, token):
        # A form post from this device (exact Origin, else Referer) carrying token as "csrf".
        return self.same_origin(req) and auth.csrf_equal(req.form.get("csrf"), token)

    def free_heap(self):
        # Bytes of free heap after a collection (None where the port does not say), measured
        # at most once per _HEAP_MS and remembered: gc.collect() and gc.mem_free() each walk
        # the whole heap, which cost more than the rest of a page together.
        if _mem_free is None:
            return None
        ck = self.server.clock
        now = ck.ticks_ms()
        t = self.heap_at
        if t is None or not 0 <= ck.ticks_diff(now, t) < _HEAP_MS:
            gc.collect()
            self.heap_free = _mem_free()
            self.heap_at = now
        return self.heap_free

    def password_ok(self, req, user, password, device=None):
        # (True, 0) for the right password, (False, 0) for a wrong one, (False, s) while the
        # throttle makes this caller wait s seconds (checked before any hashing). The throttle
        # counts per account and client (the address, or the browser's device cookie from an
        # earlier login) with a looser account-wide count on top, which a device cookie
        # passes: an attacker guessing from the LAN delays the admin's known browsers not at
        # all. device: True for a caller already trusted (a logged-in session changing its
        # password).
        if device is None:
            device = req.cookies.get(self.device_cookie)
        client = req.client_addr
        t = self.throttle
        wait = t.wait(USER, client, device)
        if wait:
            return False, wait
        ok = self.account.check(user, password)
        if ok:
            t.succeeded(USER, client, device)
        else:
            t.failed(USER, client, device)
        return ok, 0

    def set_device_cookie(self, resp):
        # After a login: the device cookie that lets this browser pass the account-wide wait
        # next time (signed by the throttle; kept 180 days).
        tok = self.throttle.device_token(USER)
        resp.set_cookie(self.device_cookie, tok, max_age=DEVICE_MAX_AGE, secure=self.secure)
        return tok

    def log_in(self, req, user, password, cookie, device=None):
        # The one login path: (LOGGED_IN, session), (WRONG, None), (THROTTLED, seconds) or
        # (FULL, None). cookie True: the session is bound to the request and its cookie set
        # (the request's own session, if any, is replaced); False: a new session whose token
        # the caller hands out (the API). A login takes a slot only when one is free or it
        # replaces the request's own session: a full ring of logged-in sessions is never
        # evicted by a login. device: the device token a script sends back (a browser's comes
        # as a cookie).
        ok, wait = self.password_ok(req, user, password, device)
        if wait:
            return THROTTLED, wait
        if not ok:
            return WRONG, None
        st = self.store
        try:
            st.admit(req.session if cookie else None)  # (the store decides: session.Store.admit)
            s = req.start_session(USER, ROLE_ADMIN) if cookie else st.create(USER, ROLE_ADMIN)
        except StoreFull:
            return FULL, None
        s["c"] = auth.new_csrf()  # the synchronizer CSRF token of this session's forms
        s["a"] = req.client_addr
        return LOGGED_IN, s

    def full_text(self):
        return (
            "All %d session slots are in use. Log out on another device, or wait for a session"
            " to time out, then try again." % self.store.capacity
        )

    def sessions_text(self):
        # The dashboard's line on sessions.
        st = self.store
        if st.capacity is None:
            return "sealed in cookies (no slots on this device)"
        return "%d in use of %d" % (len(st), st.capacity)
