# Session binding: cookie, bearer header, opt-in token parameter; start (no fixation),
# rotate and end; the cookie's attributes; Secure and __Host- over TLS; a full ring.
from _http_support import Client, fetch, serving
from _http_support import session_app as _app

from _support import FakeClock
from sessionring import token
from sessionring.http import Response
from sessionring.ring import SessionRing
from sessionring.session import ROLE_ADMIN, ROLE_USER


def _form(d):
    return "&".join("%s=%s" % kv for kv in d.items()).encode()


async def _login(port, user="admin", role=ROLE_ADMIN, headers=None):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    h.update(headers or {})
    st, hd, b = await fetch(port, "POST", "/login", h, _form({"user": user, "role": role}))
    assert st == 303 and hd["location"] == "/me"
    return hd["set-cookie"]


def _token(set_cookie, name="sid"):
    assert set_cookie.startswith(name + "=")
    tok = set_cookie.split(";")[0].split("=", 1)[1]
    assert token.well_formed(tok)
    return tok


def test_not_logged_in_has_no_session():
    async def body(port):
        st, h, b = await fetch(port, "GET", "/me")
        assert st == 401 and "set-cookie" not in h
        st, h, b = await fetch(port, "GET", "/me", {"Cookie": "sid=garbage; other=1"})
        assert st == 401
        forged = "A" * 26 + "A"
        st, h, b = await fetch(port, "GET", "/me", {"Cookie": "sid=" + forged})
        assert st == 401

    serving(_app(SessionRing(slots=4)), body)


def test_login_sets_a_strict_http_only_session_cookie():
    ring = SessionRing(slots=4)

    async def body(port):
        sc = await _login(port)
        tok = _token(sc)
        assert sc == "sid=%s; Path=/; HttpOnly; SameSite=Strict" % tok  # no Max-Age, no Domain
        for cookie in ("sid=" + tok, "a=1; sid=%s; b=2" % tok):
            st, h, b = await fetch(port, "GET", "/me", {"Cookie": cookie})
            assert st == 200 and b'"user": "admin"' in b and b'"role": 2' in b
        assert len(ring) == 1

    serving(_app(ring), body)


def test_bearer_header_and_its_switch():
    ring = SessionRing(slots=4)

    async def body(port):
        tok = _token(await _login(port))
        for auth in ("Bearer " + tok, "bearer  " + tok):
            st, h, b = await fetch(port, "GET", "/me", {"Authorization": auth})
            assert st == 200, auth
        # a stale cookie does not hide a good bearer token
        st, h, b = await fetch(
            port, "GET", "/me", {"Cookie": "sid=" + "B" * 27, "Authorization": "Bearer " + tok}
        )
        assert st == 200
        st, h, b = await fetch(port, "GET", "/me", {"Authorization": "Basic " + tok})
        assert st == 401

    serving(_app(ring), body)
    ring2 = SessionRing(slots=4)
    tok = ring2.create("u").token

    async def body2(port):
        st, h, b = await fetch(port, "GET", "/me", {"Authorization": "Bearer " + tok})
        assert st == 401

    serving(_app(ring2, bearer=False), body2)


def test_token_parameter_only_when_the_app_opts_in():
    ring = SessionRing(slots=4)
    tok = ring.create("u").token

    async def off(port):
        assert (await fetch(port, "GET", "/me?sid=" + tok))[0] == 401
        assert (await fetch(port, "GET", "/me?token=" + tok))[0] == 401

    serving(_app(ring), off)

    async def on(port):
        assert (await fetch(port, "GET", "/me?token=" + tok))[0] == 200
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        st, h, b = await fetch(port, "POST", "/me", form, b"token=" + tok.encode())
        assert st == 200
        assert (await fetch(port, "GET", "/me?token=x" + tok))[0] == 401

    serving(_app(ring, token_param="token"), on)


def test_each_request_touches_the_session_and_keeps_its_data():
    clk = FakeClock()
    ring = SessionRing(slots=4, data_bytes=32, idle_s=60, clock=clk)

    async def body(port):
        tok = _token(await _login(port))
        c = await Client.open(port)
        hdr = {"Cookie": "sid=" + tok}
        clk.advance_s(50)
        assert (await c.request("GET", "/count", hdr))[2] == b"ok"
        clk.advance_s(50)  # 100 s after login, 50 s after the last request: still live
        st, h, b = await c.request("GET", "/me", hdr)
        assert st == 200 and b'"idle": 0' in b and b'"n": 1' in b
        clk.advance_s(60)
        assert (await c.request("GET", "/me", hdr))[0] == 401  # idle timeout
        await c.close()

    serving(_app(ring), body)


def test_login_again_replaces_the_session_no_fixation():
    ring = SessionRing(slots=4)

    async def body(port):
        old = _token(await _login(port))
        new = _token(await _login(port, headers={"Cookie": "sid=" + old}))
        assert new != old
        assert (await fetch(port, "GET", "/me", {"Cookie": "sid=" + old}))[0] == 401
        assert (await fetch(port, "GET", "/me", {"Cookie": "sid=" + new}))[0] == 200
        assert len(ring) == 1

    serving(_app(ring), body)


def test_rotate_gives_a_new_token_for_the_same_session():
    ring = SessionRing(slots=4, data_bytes=32)

    async def body(port):
        old = _token(await _login(port, "bob", ROLE_USER))
        assert (await fetch(port, "GET", "/count", {"Cookie": "sid=" + old}))[0] == 200
        st, h, b = await fetch(port, "POST", "/rotate", {"Cookie": "sid=" + old}, b"x")
        assert (st, b) == (200, b"rotated")
        new = _token(h["set-cookie"])
        assert new != old
        assert (await fetch(port, "GET", "/me", {"Cookie": "sid=" + old}))[0] == 401
        st, h, b = await fetch(port, "GET", "/me", {"Cookie": "sid=" + new})
        assert st == 200 and b'"user": "bob"' in b and b'"n": 1' in b

    serving(_app(ring), body)


def test_logout_revokes_and_clears_the_cookie():
    ring = SessionRing(slots=4)

    async def body(port):
        tok = _token(await _login(port))
        st, h, b = await fetch(port, "POST", "/logout", {"Cookie": "sid=" + tok}, b"x")
        assert st == 303
        assert h["set-cookie"] == "sid=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict"
        assert (await fetch(port, "GET", "/me", {"Cookie": "sid=" + tok}))[0] == 401
        assert len(ring) == 0

    serving(_app(ring), body)


def test_secure_uses_the_host_prefix_and_secure_attribute():
    ring = SessionRing(slots=4)

    async def body(port):
        sc = await _login(port)
        tok = _token(sc, "__Host-sid")
        assert sc == "__Host-sid=%s; Path=/; Secure; HttpOnly; SameSite=Strict" % tok
        assert (await fetch(port, "GET", "/me", {"Cookie": "__Host-sid=" + tok}))[0] == 200
        assert (await fetch(port, "GET", "/me", {"Cookie": "sid=" + tok}))[0] == 401
        st, h, b = await fetch(port, "GET", "/theme")
        assert h["set-cookie"] == "theme=dark; Path=/; Secure; HttpOnly; SameSite=Strict"
        st, h, b = await fetch(port, "POST", "/logout", {"Cookie": "__Host-sid=" + tok}, b"x")
        assert h["set-cookie"].startswith("__Host-sid=; Max-Age=0; Path=/; Secure;")

    serving(_app(ring, secure=True), body)


def test_full_ring_answers_503():
    ring = SessionRing(slots=1)
    ring.create("root", ROLE_ADMIN)

    async def body(port):
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        st, hd, b = await fetch(port, "POST", "/login", h, b"user=bob&role=1")
        assert st == 503 and "set-cookie" not in hd
        assert (await fetch(port, "GET", "/me"))[0] == 401  # still serving

    serving(_app(ring), body)


def test_no_ring_no_sessions():
    async def body(port):
        assert (await fetch(port, "GET", "/me", {"Cookie": "sid=" + "A" * 27}))[0] == 401
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        assert (await fetch(port, "POST", "/login", h, b"user=bob"))[0] == 500

    serving(_app(None), body)


def test_a_failing_handler_sets_no_cookie_and_leaves_no_session():
    # A handler that starts or rotates a session and then fails: the answer (500, or 503 for
    # MemoryError) carries no Set-Cookie, and the session whose token was never delivered is
    # revoked, so it neither lingers in a slot nor stays usable.
    ring = SessionRing(slots=4)
    app = _app(ring)
    seen = []

    @app.route("/login-then-fail", methods=("POST",))
    def login_then_fail(req):
        seen.append(req.start_session("bob").token)
        raise ValueError("something after the login broke")

    @app.route("/rotate-then-fail", methods=("POST",))
    def rotate_then_fail(req):
        seen.append(req.rotate_session().token)
        raise MemoryError("pretend the heap ran out")

    class Bomb(str):
        def encode(self, *a):
            raise MemoryError("out of memory while writing the answer")

    @app.route("/login-then-oom-in-answer", methods=("POST",))
    def login_then_oom(req):
        seen.append(req.start_session("eve").token)
        return Response(Bomb("body"))

    async def body(port):
        st, h, b = await fetch(port, "POST", "/login-then-oom-in-answer", None, b"x")
        assert st == 503 and "set-cookie" not in h, h
        assert len(ring) == 0 and ring.get(seen.pop()) is None
        st, h, b = await fetch(port, "POST", "/login-then-fail", None, b"x")
        assert st == 500 and "set-cookie" not in h, h
        assert len(ring) == 0 and ring.get(seen[0]) is None
        tok = _token(await _login(port))
        st, h, b = await fetch(port, "POST", "/rotate-then-fail", {"Cookie": "sid=" + tok}, b"x")
        assert st == 503 and "set-cookie" not in h, h
        assert ring.get(seen[1]) is None and ring.get(tok) is None and len(ring) == 0
        tok = _token(await _login(port))  # and the server goes on as before
        assert (await fetch(port, "GET", "/me", {"Cookie": "sid=" + tok}))[0] == 200

    serving(app, body)
