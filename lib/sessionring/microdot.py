# Server-side sessions for microdot 2.x apps, kept by a sessionring store: a SessionRing (RAM
# slots on the device: revocable, bounded, idle and absolute timeouts) or a SealedStore (sealed
# into the cookie). It plugs into microdot through its hooks only, as microdot's own Session and
# Login extensions do: it is the app's `_session` (get / update / delete / encode / decode), and
# an after_request and an after_error_request handler. microdot's Login works on top of it.
#
#   from microdot import Microdot
#   from sessionring.ring import SessionRing
#   from sessionring.microdot import Sessions, with_session
#
#   app = Microdot()
#   Sessions(app, SessionRing(slots=8))
#
# Cookie rules are sessionring's: HttpOnly, SameSite=Strict, Path=/, no Max-Age; Secure and the
# __Host- prefix when secure=True (served over TLS). The cookie is read with cookie.get(), not
# microdot's parser. A token goes out only after the handler returned; when the request fails
# (the handler or a later after_request handler raised, or the store is full: 503), the cookies
# it queued are dropped and a session it started is revoked: no token that never reached the
# client stays live. Not frozen by the board manifests: install it with mip (docs/microdot.md).
from microdot.helpers import wraps
from microdot.microdot import invoke_handler  # (not microdot.session: it imports the JWT code)

from . import cookie
from .binding import Binding, State
from .session import ROLE_ANON, ROLE_USER, RingFull, SessionEnded

_UID = "_user_id"  # the key microdot's Login keeps the user id under: the store's user field


class SessionDict(dict):
    # What a handler sees: the session's data as a dict (plus "_user_id" when logged in), as
    # microdot's own SessionDict; save() writes it to the store, delete() ends the session.
    def __init__(self, request, items):
        super().__init__(items)
        self.request = request
        self.login = False  # "_user_id" was set in this request: save() starts a new session

    def __setitem__(self, key, value):
        if key == _UID:
            self.login = True
        super().__setitem__(key, value)

    def save(self):
        self.request.app._session.update(self.request, self)

    def delete(self):
        self.request.app._session.delete(self.request)


class Sessions:
    # Limits and rules as class attributes (override on a subclass, an instance or as keywords).
    cookie_name = "sid"  # __Host-sid when secure
    secure = False  # served over TLS: Secure and the __Host- prefix
    bearer = False  # also accept "Authorization: Bearer <token>" (API clients)
    role = ROLE_USER  # the role of a logged-in session (ring.ROLE_ADMIN for an admin app)
    retry_after = 5  # seconds, in the 503 answered when the store has no room

    def __init__(self, app=None, store=None, user_id=str, **options):
        # store: a SessionRing or a SealedStore. user_id: turns the user name the store keeps
        # back into the id microdot's Login stored (str by default; int for integer ids).
        self.store = store
        self.user_id = user_id
        for k, v in options.items():
            if k not in ("cookie_name", "secure", "bearer", "role", "retry_after"):
                raise TypeError("unknown Sessions option %r" % k)
            setattr(self, k, v)
        self.bind = None
        if app is not None:
            self.initialize(app)

    def initialize(self, app, store=None):
        if store is not None:
            self.store = store
        if self.store is None:
            raise ValueError("Sessions needs a store: a SessionRing or a SealedStore")
        if not self.cookie_name:
            raise ValueError("cookie_name must not be empty")
        self.bind = Binding(self.store, self.cookie_name, self.secure, False, None)
        app._session = self
        app.after_request(self._after)
        app.after_error_request(self._after_error)
        app.errorhandler(RingFull)(self._full)

    # -- the request's state -----------------------------------------------------------------
    def _state(self, request):
        # The request's binding state, its session found on first use (cookie, then Bearer).
        g = request.g
        st = getattr(g, "_sr", None)
        if st is None:
            st = g._sr = State()
            h = request.headers
            c = h.get("Cookie")
            s = self.bind.bind(st, cookie.get(c, self.bind.cookie_name) if c else None)
            if s is None and self.bearer:
                a = h.get("Authorization") or ""
                if a[:7].lower() == "bearer ":
                    self.bind.bind(st, a[7:].strip())
            v = getattr(g, "_vary", None)  # (microdot adds g._vary to the answer's Vary)
            if v is None:
                v = g._vary = set()
            v.add("Cookie")
        return st

    def current(self, request):
        # The request's live session in the store (user, role, handle, age, idle, token,
        # expires_in()), or None: for an app's own session list or revoke buttons.
        return self._state(request).session

    # -- microdot's session interface (what microdot's Session and Login call) -----------------
    def get(self, request):
        g = request.g
        d = getattr(g, "_session", None)
        if d is None:
            s = self._state(request).session
            items = ()
            if s is not None:
                try:
                    items = s.items()
                    if s.user:
                        items.append((_UID, self.user_id(s.user)))
                except SessionEnded:  # revoked by another request since it was found
                    items = ()
            d = g._session = SessionDict(request, items)
        return d

    def update(self, request, d):
        # Write d to the store. Setting "_user_id" (a login) starts a new session with a new
        # token, ending the one the request came with; removing it (a logout) ends the session
        # on the server; data without a login keeps an anonymous session (evicted first).
        # RingFull when the store has no room (503); SessionDataFull when d does not fit.
        st = self._state(request)
        b = self.bind
        s = st.session
        uid = d.get(_UID)
        items = [kv for kv in d.items() if kv[0] != _UID]
        if uid is not None:
            if d.login or s is None or s.user != str(uid):
                s = b.start(st, str(uid), self.role)
                d.login = False
        elif s is not None and s.user:
            b.end(st)  # logged out
            d.clear()
            return
        elif s is None:
            if not items:
                return
            s = b.start(st, "", ROLE_ANON)
        s._write(items)

    def delete(self, request):
        # End the session on the server and clear the cookie.
        self.bind.end(self._state(request))
        d = getattr(request.g, "_session", None)
        if d is not None:
            d.clear()

    # microdot's Login calls these for its remember-me cookie: a signed, self-contained login
    # is what server-side sessions exist to avoid, so remember=... is refused. Logging out
    # (days 0) deletes a _remember cookie, and one sent by a client is never trusted.
    def encode(self, payload, secret_key=None):
        if payload.get("days"):
            raise ValueError(
                "remember-me is not supported with sessionring sessions: log in without "
                "remember=, and set the store's absolute_s for how long a login lasts"
            )
        return ""

    def decode(self, session, secret_key=None):
        return {}

    # -- hooks -----------------------------------------------------------------------------------
    def _after(self, request, response):
        # The handler is done: the cookie of a session it started, rotated or that the store
        # re-seals goes out with the answer. (The token stays marked as issued: should a later
        # after_request handler raise, _after_error revokes it and microdot sends an error page
        # without this cookie.)
        st = getattr(request.g, "_sr", None)
        if st is None:
            return None
        self.bind.finish(st)
        out = st.cookies_out
        if out:
            h = response.headers
            v = h.get("Set-Cookie")
            if v is None:
                h["Set-Cookie"] = list(out)
            elif isinstance(v, list):
                v.extend(out)
            else:
                h["Set-Cookie"] = [v] + out
            if "Cache-Control" not in h:
                h["Cache-Control"] = "no-store"  # a token is never cached
            st.cookies_out = None
        return None

    def _after_error(self, request, response):
        # The request failed: nothing it queued is sent, and a token it was to deliver ends.
        if request is not None:
            st = getattr(request.g, "_sr", None)
            if st is not None:
                self.bind.undo(st)
        return None

    def _full(self, request, exc):
        return (
            "Service unavailable: no room for a new session",
            503,
            {"Retry-After": str(self.retry_after)},
        )


def with_session(f):
    # Passes the session (a SessionDict) to the handler after the request, as microdot's own
    # with_session does, without importing microdot.session (which needs a JWT library).
    @wraps(f)
    async def wrapper(request, *args, **kwargs):
        return await invoke_handler(f, request, request.app._session.get(request), *args, **kwargs)

    return wrapper
