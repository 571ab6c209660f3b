# The server with the sealed cookie store (sessionring/sealed.py) in place of the ring: the
# same binding (cookie, Bearer, opt-in parameter), a Fernet cookie at login, a re-sealed cookie
# after the handler writes session data or past half the idle timeout, logout and replay,
# tampered cookies, and a failing handler that leaves nothing valid. Wall clocks are injected.
from _http_support import Client, fetch, serving, session_app
from _wall import Wall

from sessionring import fernet, sealed
from sessionring.sealed import SealedStore
from sessionring.session import ROLE_ADMIN, ROLE_USER

T0 = 1800000000  # 2027-01-15, Unix seconds
KEY = bytes(range(32))
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _store(wall, **kw):
    kw.setdefault("idle_s", 600)
    return SealedStore(keys=[KEY], clock=wall, **kw)


def _app(store, **kw):
    return session_app(store, mark=True, **kw)


def _cookie(set_cookie):
    # The sid value of one Set-Cookie header (the session cookie's attributes checked).
    assert "\n" not in set_cookie, "more than one Set-Cookie: %r" % set_cookie
    value, attrs = set_cookie.split(";", 1)
    name, tok = value.split("=", 1)
    assert name == "sid" and attrs == " Path=/; HttpOnly; SameSite=Strict", set_cookie
    return tok


async def _login(port, user="admin", role=ROLE_ADMIN, headers=None):
    h = dict(FORM)
    h.update(headers or {})
    body = ("user=%s&role=%d" % (user, role)).encode()
    st, hd, b = await fetch(port, "POST", "/login", h, body)
    assert st == 303 and hd["location"] == "/me", (st, hd)
    return _cookie(hd["set-cookie"])


async def _me(port, tok, how="cookie"):
    if how == "cookie":
        h = {"Cookie": "sid=" + tok}
    else:
        h = {"Authorization": "Bearer " + tok}
    return await fetch(port, "GET", "/me", h)


def test_login_sets_a_fernet_cookie_that_holds_the_session():
    wall = Wall()
    store = _store(wall)

    async def body(port):
        tok = await _login(port)
        raw = fernet.b64u_decode(tok)
        assert raw is not None and raw[0] == 0x80  # a Fernet token, canonical base64url
        assert int.from_bytes(raw[1:9], "big") == T0  # sealed now (Unix seconds)
        assert b"admin" not in raw and b"csrf-" not in raw  # encrypted, not readable
        # the data written after start_session is in the cookie that was sent
        st, h, b = await _me(port, tok)
        assert st == 200 and b'"user": "admin"' in b and b'"c": "csrf-admin"' in b, b
        assert b'"role": 2' in b
        assert "set-cookie" not in h  # a read-only request changes nothing: nothing re-sent
        assert len(store) == 0 and store.stats()["created"] == 1  # nothing kept per session

    serving(_app(store), body)


def test_cookie_bearer_and_opt_in_parameter_bind_the_same_session():
    wall = Wall()
    store = _store(wall)
    tok = store.create("bob").token

    async def off(port):
        assert (await _me(port, tok, "bearer"))[0] == 200
        st, h, b = await fetch(port, "GET", "/me?token=" + tok)
        assert st == 401  # no parameter unless the app opts in
        st, h, b = await fetch(port, "GET", "/me", {"Authorization": "Basic " + tok})
        assert st == 401

    serving(_app(store), off)

    async def on(port):
        st, h, b = await fetch(port, "GET", "/me?token=" + tok)
        assert st == 200 and b'"user": "bob"' in b
        st, h, b = await fetch(port, "POST", "/me", FORM, ("token=" + tok).encode())
        assert st == 200 and b'"user": "bob"' in b
        # a stale cookie does not hide a good Bearer token
        h = {"Cookie": "sid=" + tok[:-8] + "AAAAAAA=", "Authorization": "Bearer " + tok}
        assert (await fetch(port, "GET", "/me", h))[0] == 200

    serving(_app(store, token_param="token"), on)

    async def no_bearer(port):
        assert (await _me(port, tok, "bearer"))[0] == 401
        assert (await _me(port, tok))[0] == 200

    serving(_app(store, bearer=False), no_bearer)


def test_a_handler_that_writes_data_gets_a_resealed_cookie():
    wall = Wall()
    store = _store(wall)

    async def body(port):
        tok = await _login(port)
        c = await Client.open(port)
        st, h, b = await c.request("GET", "/count", {"Cookie": "sid=" + tok})
        assert (st, b) == (200, b"ok")
        new = _cookie(h["set-cookie"])
        assert new != tok
        st, h, b = await c.request("GET", "/me", {"Cookie": "sid=" + new})
        assert st == 200 and b'"n": 1' in b and b'"c": "csrf-admin"' in b
        st, h, b = await c.request("GET", "/count", {"Cookie": "sid=" + new})
        newer = _cookie(h["set-cookie"])
        st, h, b = await c.request("GET", "/me", {"Cookie": "sid=" + newer})
        assert b'"n": 2' in b
        # the older cookie is a stale copy (a stateless token cannot be recalled): n as it was
        st, h, b = await c.request("GET", "/me", {"Cookie": "sid=" + tok})
        assert st == 200 and b'"n": 0' in b
        await c.close()
        assert store.stats()["resealed"] == 3  # the login's data, then two counts

    serving(_app(store), body)


def test_sliding_reseal_past_half_the_idle_timeout():
    wall = Wall()
    store = _store(wall, idle_s=600)

    async def body(port):
        tok = await _login(port)
        wall.advance(299)
        st, h, b = await _me(port, tok)
        assert st == 200 and "set-cookie" not in h  # younger than half the idle timeout
        wall.advance(2)  # 301 s old: re-sealed on this request, with the data kept
        st, h, b = await _me(port, tok)
        assert st == 200
        slid = _cookie(h["set-cookie"])
        assert fernet.b64u_decode(slid)[1:9] == (T0 + 301).to_bytes(8, "big")
        wall.advance(400)  # 701 s after login: the first cookie is past its idle timeout
        assert (await _me(port, tok))[0] == 401
        st, h, b = await _me(port, slid)  # 400 s old: live, and re-sealed again
        assert st == 200 and b'"c": "csrf-admin"' in b
        assert _cookie(h["set-cookie"]) != slid
        wall.advance(601)
        assert (await _me(port, slid))[0] == 401  # an idle user is logged out

    serving(_app(store), body)


def test_logout_then_replay_refused():
    wall = Wall()
    store = _store(wall)

    async def body(port):
        tok = await _login(port)
        st, h, b = await fetch(port, "GET", "/count", {"Cookie": "sid=" + tok})
        later = _cookie(h["set-cookie"])  # a second cookie of the same session
        st, h, b = await fetch(port, "POST", "/logout", {"Cookie": "sid=" + later}, b"x")
        assert st == 303
        assert h["set-cookie"] == "sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
        for t in (later, tok):  # every cookie of the session, by cookie or by Bearer
            assert (await _me(port, t))[0] == 401
            assert (await _me(port, t, "bearer"))[0] == 401
        assert store.stats()["deny_used"] == 1
        wall.advance(30)
        assert (await _me(port, tok))[0] == 401  # still refused later

    serving(_app(store), body)


def test_login_again_and_rotate_refuse_the_old_cookie():
    wall = Wall()
    store = _store(wall)

    async def body(port):
        old = await _login(port, "bob", ROLE_USER)
        new = await _login(port, "bob", ROLE_USER, {"Cookie": "sid=" + old})
        assert new != old
        assert (await _me(port, old))[0] == 401  # no fixation: the old session ended
        st, h, b = await fetch(port, "GET", "/count", {"Cookie": "sid=" + new})
        counted = _cookie(h["set-cookie"])
        st, h, b = await fetch(port, "POST", "/rotate", {"Cookie": "sid=" + counted}, b"x")
        assert (st, b) == (200, b"rotated")
        rotated = _cookie(h["set-cookie"])
        for t in (old, new, counted):
            assert (await _me(port, t))[0] == 401
        st, h, b = await _me(port, rotated)
        assert st == 200 and b'"user": "bob"' in b and b'"n": 1' in b

    serving(_app(store), body)


def _damaged(tok):
    raw = fernet.b64u_decode(tok)
    flipped = bytearray(raw)
    flipped[40] ^= 1  # a bit of the ciphertext
    late = bytearray(raw)
    late[8] ^= 1  # a bit of the timestamp
    mac = bytearray(raw)
    mac[-1] ^= 0x80
    return (
        fernet.b64u_encode(flipped),
        fernet.b64u_encode(late),
        fernet.b64u_encode(mac),
        tok[:-4],  # truncated
        tok[:20] + "*" + tok[21:],  # a junk character
        tok[:20] + "+" + tok[21:],  # standard base64, not base64url
        tok.replace("=", ""),  # unpadded
        tok + tok,  # two tokens
        "gAAAAA" + "A" * 90,  # the right start, nothing behind it
        "A" * 1000,  # large
        "%",
    )


def test_tampered_cookies_get_no_session_never_a_500():
    wall = Wall()
    store = _store(wall)
    app = _app(store)

    async def body(port):
        tok = await _login(port)
        for bad in _damaged(tok):
            st, h, b = await _me(port, bad)
            assert st == 401 and b == b"nobody" and "set-cookie" not in h, (st, bad[:40])
            assert (await _me(port, bad, "bearer"))[0] == 401, bad
        other = SealedStore(keys=[bytes(32)], clock=wall).create("admin", ROLE_ADMIN).token
        assert (await _me(port, other))[0] == 401  # another device's key
        assert (await _me(port, tok))[0] == 200  # the real one still opens
        assert app.errors == 0

    serving(app, body)


def test_a_failing_handler_after_start_session_leaves_nothing_valid():
    wall = Wall()
    store = _store(wall)
    app = _app(store)
    seen = []

    @app.route("/login-then-fail", methods=("POST",))
    def login_then_fail(req):
        s = req.start_session("bob")
        seen.append(s.token)
        s["x"] = "y"
        seen.append(store.pending(s))  # even a token taken out of the store is revoked
        raise ValueError("something after the login broke")

    @app.route("/rotate-then-fail", methods=("POST",))
    def rotate_then_fail(req):
        seen.append(req.rotate_session().token)
        raise MemoryError("pretend the heap ran out")

    async def body(port):
        st, h, b = await fetch(port, "POST", "/login-then-fail", None, b"x")
        assert st == 500 and "set-cookie" not in h, h
        assert len(seen) == 2 and seen[0] != seen[1]
        for t in seen:
            assert store.get(t) is None
            assert (await _me(port, t))[0] == 401
        tok = await _login(port)
        st, h, b = await fetch(port, "POST", "/rotate-then-fail", {"Cookie": "sid=" + tok}, b"x")
        assert st == 503 and "set-cookie" not in h, h
        assert store.get(seen[2]) is None and store.get(tok) is None
        assert (await _me(port, tok))[0] == 401
        tok = await _login(port)  # and the server goes on as before
        assert (await _me(port, tok))[0] == 200

    serving(app, body)


def test_unset_clock_refuses_cookies_and_logins_answer_500():
    # A store whose wall clock was never set opens nothing and seals nothing (the firmware
    # falls back to the ring before it gets here; a bare server answers 500).
    wall = Wall()
    store = _store(wall)
    tok = store.create("bob").token
    wall.t = 86400  # 1970-01-02: never set
    app = _app(store)

    async def body(port):
        assert (await _me(port, tok))[0] == 401
        st, h, b = await fetch(port, "POST", "/login", FORM, b"user=bob&role=1")
        assert st == 500 and "set-cookie" not in h
        assert app.errors == 1

    serving(app, body)
    assert sealed.MIN_UNIX > 86400
