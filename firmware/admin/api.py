# The JSON API for scripts (Bearer tokens), loaded on first use.
#   POST /api/login {"username", "password"} -> {"token", "expires_in"}; GET /api/status;
#   POST /api/logout with "Authorization: Bearer <token>".
import gc

from sessionring.http import Response
from sessionring.ring import ROLE_ADMIN, RingFull

from .account import USER


def _json(obj, status=200):
    resp = Response.json(obj, status)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _error(status, text):
    return _json({"error": text}, status)


def status(a, req):
    s = a._admin(req)
    if s is None:
        resp = _error(401, "login required")
        resp.headers["WWW-Authenticate"] = 'Bearer realm="sessionring"'
        return resp
    mem = getattr(gc, "mem_free", None)
    ring = a.ring
    n = a.net
    return _json(
        {
            "device": a.name,
            "uptime_s": ring.now(),
            "mem_free": mem() if mem else None,
            "sessions": {"live": len(ring), "capacity": ring.capacity},
            "network": {"mode": n["mode"], "ssid": n["ssid"], "ip": n["ip"]},
            "idle_s": ring.idle_s,
            "absolute_s": ring.absolute_s,
            "session": {"user": s.user, "handle": s.handle, "expires_in": s.expires_in()},
        }
    )


def login(a, req):
    if "origin" in req.headers and not a._same_origin(req):
        return _error(403, "cross-origin request")
    if req.content_type() != "application/json":
        return _error(415, "send application/json")
    body = req.json
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
    ):
        return _error(400, 'expected {"username": ..., "password": ...}')
    wait = a._login_wait()
    if wait:
        resp = _error(429, "too many failed attempts")
        resp.headers["Retry-After"] = str(wait)
        return resp
    if not a._check_password(body["username"], body["password"]):
        return _error(401, "wrong user name or password")
    ring = a.ring
    if len(ring) >= ring.capacity:
        return _error(503, "all session slots are in use")
    try:
        s = ring.create(USER, ROLE_ADMIN)
    except RingFull:
        return _error(503, "all session slots are in use")
    s["a"] = req.client_addr
    s["k"] = "api"
    return _json({"token": s.token, "expires_in": s.expires_in()})


def logout(a, req):
    h = req.headers.get("authorization", "")
    tok = h[7:].strip() if h[:7].lower() == "bearer " else ""
    if not tok or not a.ring.revoke(tok):
        return _error(401, "no such session")
    return _json({"ok": True})
