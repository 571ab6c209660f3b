# The JSON API for scripts (Bearer tokens), loaded on first use.
#   POST /api/login {"username", "password"[, "device"]} -> {"token", "expires_in", "device"};
#   GET /api/status;
#   POST /api/logout with "Authorization: Bearer <token>".
# Every error is JSON of one shape, {"error": text} (web.json_error), with nosniff: a body that
# is not UTF-8 JSON (or starts with a BOM), a wrong method, 401, 403, 415, 429, 503.
from . import web


@web.admin_api
def status(a, req, s):
    st = a.store
    n = a.net
    return web.json(
        {
            "device": a.name,
            "uptime_s": st.now(),
            "mem_free": a.free_heap(),
            "sessions": {
                "store": "sealed" if a.sealed else "ring",
                "live": None if a.sealed else len(st),  # a sealed store cannot count them
                "capacity": st.capacity,
            },
            "network": {"mode": n["mode"], "ssid": n["ssid"], "ip": n["ip"]},
            "idle_s": st.idle_s,
            "absolute_s": st.absolute_s,
            "session": {"user": s.user, "handle": s.handle, "expires_in": s.expires_in()},
        }
    )


def login(a, req):
    if "origin" in req.headers and not a.same_origin(req):
        return web.json_error(403, "cross-origin request")
    if req.content_type() != "application/json":
        return web.json_error(415, "send application/json")
    if req.json_error is not None:
        return web.json_error(400, req.json_error)
    body = req.json
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
    ):
        return web.json_error(400, 'expected {"username": ..., "password": ...}')
    dev = body.get("device")  # the device token of an earlier login, if the script kept it
    dev = dev if isinstance(dev, str) else None
    st, got = a.log_in(req, body["username"], body["password"], False, dev)
    if st == web.THROTTLED:
        resp = web.json_error(429, "too many failed attempts")
        resp.headers["Retry-After"] = str(got)
        return resp
    if st == web.WRONG:
        return web.json_error(401, "wrong user name or password")
    if st == web.FULL:
        return web.json_error(503, "all session slots are in use")
    got["k"] = "api"
    if a.sealed:
        a.store.mark_script(got)  # its logout uses the scripts' deny-list lane, not a browser's
    tok = a.store.pending(got)  # sealed: the token holding the data just written
    return web.json(
        {
            "token": tok or got.token,
            "expires_in": got.expires_in(),
            "device": a.throttle.device_token(web.USER),  # send it back at the next login
        }
    )


def logout(a, req):
    # The session the server bound to the request (its Bearer token, read by the library's one
    # strict reader; a cookie would do as well): the firmware reads no credential itself.
    s = web.admin(req)
    if s is None or not a.store.revoke(s):
        return web.json_error(401, "no such session")
    return web.json({"ok": True})


def wrong_method(req, allow):
    # Every method an API route does not take: 405 in JSON with Allow; OPTIONS says what it
    # takes.
    if req.method == "OPTIONS":
        resp = web.json({"allow": allow}, 200)
    else:
        resp = web.json_error(405, "method not allowed")
    resp.headers["Allow"] = allow
    return resp
