# What every page of the admin app shares: answers (HTML pages, redirects, JSON, problems),
# the guards (an admin session, a form post from this device), the one login path used by the
# form and by the API, and the status messages. app.py, api.py and settings_page.py import this
# module; it imports none of them. `a` is the app (app.Admin): its security headers, device
# name, scheme, store, throttle and account.
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


# The security headers of every page, and their lines as sent (encoded once, at import).
SECURITY = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": _csp(),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
PAGE_LINES = encode_headers(SECURITY)
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
def out(a):
    # The Out to render a page into. (One buffer kept for every page would save the page's own
    # bytes per request, about 2.7 KB of the dashboard's heap: docs/benchmarks.md.)
    return Out()


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


def html(a, o, status=200):
    # A rendered page (o: pages.Out) with the app's security headers (encoded once, at import).
    resp = _Page(o.buf, status)
    if a.header_lines is not _Page.lines:
        resp.lines = a.header_lines
    return resp


def redirect(where):
    resp = Response.redirect(where)
    resp.lines = NO_STORE
    return resp


def json(obj, status=200):
    return _Json(_dumps(obj), status)


def free_heap(a):
    # Bytes of free heap after a collection (None where the port does not say), measured at
    # most once per _HEAP_MS and remembered: gc.collect() and gc.mem_free() each walk the
    # whole heap, which cost more than the rest of a page together.
    if _mem_free is None:
        return None
    ck = a.server.clock
    now = ck.ticks_ms()
    t = a.heap_at
    if t is None or not 0 <= ck.ticks_diff(now, t) < _HEAP_MS:
        gc.collect()
        a.heap_free = _mem_free()
        a.heap_at = now
    return a.heap_free


def json_error(status, text):
    # The one shape of every error the API answers: {"error": text} (and the HTTP status).
    return json({"error": text}, status)


def problem(a, status, title, text):
    o = out(a)
    pages.problem(o, a.name, title, text)
    return html(a, o, status)


def forbidden(a):
    return problem(
        a,
        403,
        "Forbidden",
        "This form was out of date or sent from another site. Reload the page and try again.",
    )


# -- guards ------------------------------------------------------------------------------------
def admin(req):
    # The request's admin session (cookie or Bearer), or None.
    s = req.session
    if s is None or not s.valid or s.role != ROLE_ADMIN:
        return None
    return s


def same_origin(a, req):
    return auth.same_origin(req.headers, req.headers.get("host"), a.scheme)


def post_guard(a, req, s):
    # None when a logged-in form post may go on (s: the request's admin session), else the
    # answer: to the login page when not logged in, 403 for a bad CSRF token or Origin.
    if s is None:
        return redirect("/login")
    if not same_origin(a, req) or not auth.csrf_equal(req.form.get("csrf"), s.get("c")):
        return forbidden(a)
    return None


# -- logging in --------------------------------------------------------------------------------
LOGGED_IN = 200
WRONG = 401  # wrong user name or password (one answer for every failure)
THROTTLED = 429  # too many failures: wait the seconds returned
FULL = 503  # every session slot holds a live session: nobody is logged out for a new one


def password_ok(a, req, user, password, device=None):
    # (True, 0) for the right password, (False, 0) for a wrong one, (False, s) while the
    # throttle makes this caller wait s seconds (checked before any hashing). The throttle
    # counts per account and client (the address, or the browser's device cookie from an
    # earlier login) with a looser account-wide count on top, which a device cookie passes:
    # an attacker guessing from the LAN delays the admin's known browsers not at all.
    # device: True for a caller already trusted (a logged-in session changing its password).
    if device is None:
        device = req.cookies.get(a.device_cookie)
    client = req.client_addr
    t = a.throttle
    wait = t.wait(USER, client, device)
    if wait:
        return False, wait
    ok = a.account.check(user, password)
    if ok:
        t.succeeded(USER, client, device)
    else:
        t.failed(USER, client, device)
    return ok, 0


def device_cookie(a, resp):
    # After a login: the device cookie that lets this browser pass the account-wide wait
    # next time (signed by the throttle; kept 180 days).
    tok = a.throttle.device_token(USER)
    resp.set_cookie(a.device_cookie, tok, max_age=DEVICE_MAX_AGE, secure=a.secure)
    return tok


DEVICE_MAX_AGE = 180 * 86400


def log_in(a, req, user, password, cookie, device=None):
    # The one login path: (LOGGED_IN, session), (WRONG, None), (THROTTLED, seconds) or
    # (FULL, None). cookie True: the session is bound to the request and its cookie set (the
    # request's own session, if any, is replaced); False: a new session whose token the caller
    # hands out (the API). A login takes a slot only when one is free or it replaces the
    # request's own session: a full ring of logged-in sessions is never evicted by a login.
    # device: the device token a script sends back (a browser's comes as a cookie).
    ok, wait = password_ok(a, req, user, password, device)
    if wait:
        return THROTTLED, wait
    if not ok:
        return WRONG, None
    st = a.store
    try:
        st.admit(req.session if cookie else None)  # (the store decides: session.Store.admit)
        s = req.start_session(USER, ROLE_ADMIN) if cookie else st.create(USER, ROLE_ADMIN)
    except StoreFull:
        return FULL, None
    s["c"] = auth.new_csrf()  # the synchronizer CSRF token of this session's forms
    s["a"] = req.client_addr
    return LOGGED_IN, s


def full_text(a):
    return (
        "All %d session slots are in use. Log out on another device, or wait for a session"
        " to time out, then try again." % a.store.capacity
    )


def sessions_text(a):
    # The dashboard's line on sessions.
    st = a.store
    if st.capacity is None:
        return "sealed in cookies (no slots on this device)"
    return "%d in use of %d" % (len(st), st.capacity)
