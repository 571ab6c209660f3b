# Session binding: which session a request belongs to, and every change the server makes to it.
#
# The server has one Binding. For each request it finds the token (the session cookie, else
# "Authorization: Bearer <token>", else the app's opt-in query/form parameter), binds the
# connection's reusable view to it, and, for the handler, starts, rotates and ends sessions.
# When a request fails (the handler raised, or the answer could not be written) undo() drops
# the cookies the request queued and revokes a session whose new token never reached the
# client. Everything here talks to the session store through this interface only:
#
#   store.view()              a new reusable view (one per connection)
#   store.get(token, into)    the live session named by token (str or bytes) bound to `into`,
#                             or None; never raises for a bad token
#   store.touch(view)         the session was used now (idle timeout counts from here)
#   store.create(user, role)  a new session with a new token (RingFull when there is no room)
#   store.rotate(view)        a new token for the same session
#   store.revoke(x)           end the session of a view or token; False if it had ended
#   store.pending(view)       the token to (re)send to the client now, or None (a store that
#                             keeps the session in the cookie re-seals it after a change)
#   store.tick()              upkeep, a few times a second (the server's watchdog)
#
# SessionRing (ring.py) keeps sessions in RAM slots; a store that seals them into the cookie
# plugs in the same way.
#
# Binding does not need sessionring's own Request: every method but find() takes a small
# per-request state, any object with these four attributes (a Request has them; State below is
# the bare one another server uses, as microdot.py does):
#
#   st.view         a reusable session view of the store (store.view()), or None: a new one
#   st.session      the request's live session (a view), or None
#   st.issued       the session whose new token this request is to deliver, or None
#   st.cookies_out  Set-Cookie values to send with the answer (a list), or None
#
# The request's life: bind(st, token) (find(req) for sessionring's Request), the handler's
# start / rotate / end, then finish(st) once it returned (the cookies to send are then in
# st.cookies_out), delivered(st) once the answer is written, or undo(st) if anything failed.
from . import cookie


class State:
    # The per-request state of a server without sessionring's Request (see above).
    def __init__(self, view=None):
        self.view = view
        self.session = None
        self.issued = None
        self.cookies_out = None


class Binding:
    def __init__(self, store, cookie_name, secure, bearer, token_param):
        self.store = store
        self.secure = secure
        self.bearer = bearer  # accept "Authorization: Bearer <token>"
        self.token_param = token_param  # query/form parameter that may carry the token
        # the __Host- prefix over TLS: no other host or path can plant or shadow the cookie
        self.cookie_name = cookie.name_for(cookie_name, secure)
        self.cname = self.cookie_name.encode()  # to find it in the request buffer

    def find(self, req):
        # The session named by the cookie, else by the Bearer header, else by the token
        # parameter: the first that names a live session wins and is touched (used now).
        # None when not logged in. (Few locals: the frame stays off the heap on MicroPython.)
        s = self._bind(req, req.cookie_value(self.cname, self.cookie_name))
        if s is None and self.bearer:
            s = self._bind(req, req.bearer())
        if s is None and self.token_param:
            s = self._bind(req, req.query.get(self.token_param))
            if s is None and req.method == "POST":
                s = self._bind(req, req.form.get(self.token_param))
        req.session = s
        return s

    def bind(self, st, tok):
        # The request's session named by tok (str or bytes; None or "" for none), touched, or
        # None: sets st.session. For a server that finds the token itself.
        s = self._bind(st, tok) if self.store is not None else None
        st.session = s
        return s

    def _bind(self, req, tok):
        # The request's view bound to tok's session (allocates nothing for the ring), or None.
        if not tok:
            return None
        st = self.store
        s = st.get(tok, req.view)
        if s is not None:
            st.touch(s)  # (s.token: the view decodes tok when a handler reads it)
        return s

    def _deliver(self, req, s):
        # s's cookie goes out in finish(), once the handler is done: a store that seals the
        # session into the cookie seals what the handler put in it after starting it.
        req.issued = s

    def _send(self, req, tok):
        self._queue(req, cookie.build(self.cookie_name, tok, secure=self.secure))

    def _queue(self, req, value):
        if req.cookies_out is None:
            req.cookies_out = []
        req.cookies_out.append(value)

    def start(self, req, user, role):
        # A new session (new token: no fixation) for user; the one the request came with, if
        # any, is revoked first. Sets the cookie. Raises RingFull (503 if not caught).
        if self.store is None:
            raise ValueError("the server has no session store")
        if req.session is not None:
            self.store.revoke(req.session)
            req.session = None
        s = self.store.create(user, role)
        req.session = s
        self._deliver(req, s)
        return s

    def end(self, req):
        # Revoke the current session (if any) and clear the cookie.
        req.issued = None
        if req.session is not None:
            self.store.revoke(req.session)
            req.session = None
        self._queue(req, cookie.clear(self.cookie_name, secure=self.secure))

    def rotate(self, req):
        # A new token for the current session (same user, role and data); re-sets the cookie.
        if req.session is None:
            from .session import SessionEnded

            raise SessionEnded("no session to rotate")
        s = self.store.rotate(req.session)
        self._deliver(req, s)
        return s

    def finish(self, req):
        # The handler is done: the session it started or rotated gets its cookie, and one the
        # store must re-send (sealed in the cookie, say) gets a fresh one. Runs on every
        # logged-in request: shallow expressions only, so its frame stays off the heap on
        # MicroPython. (A re-sent cookie leaves the old one good: nothing to undo for it.)
        s = req.session
        if s is None:
            return
        tok = self.store.pending(s)
        if tok is None and req.issued is not None:
            tok = s.token  # a new token of a store that re-sends nothing (the ring)
        if tok is not None:
            self._send(req, tok)

    def undo(self, req):
        # The request failed: the cookies it queued are dropped (a failed request sets nothing
        # in the browser), and a session it started or rotated is revoked: a token that was
        # never delivered must not stay live. Allocates nothing.
        req.cookies_out = None
        if req.issued is not None:
            self.store.revoke(req.issued)  # False, and nothing done, if it has already ended
            req.issued = None

    def delivered(self, req):
        # The answer with its token has been written: a later failure must not revoke it. The
        # request loop calls it once per answer.
        req.issued = None
