# One strict reading of every credential (issue 19 part 3), on both stores (the ring and the
# sealed cookie): the session token is read in one form only; a request with two Cookie
# headers, two Authorization headers or the session cookie's name twice gets 400; "sid" and
# "__Host-sid" are two names and only the server's counts. And cookie.token_at, the reader.
from _http_support import Client, fetch, serving

from sessionring import cookie
from sessionring.http import Response, Server
from sessionring.ring import SessionRing
from sessionring.sealed import SealedStore

T0 = 1800000000  # 2027-01-15, Unix seconds


class _Wall:
    def time(self):
        return T0

    def gmtime(self, secs=0):
        return (1970, 1, 1, 0, 0, 0, 3, 1)


def _stores():
    # (name, store) for each store the binding serves
    return (
        ("ring", SessionRing(slots=4)),
        ("sealed", SealedStore(keys=[bytes(range(32))], clock=_Wall(), idle_s=600)),
    )


def _app(store, **kw):
    app = Server(store, **kw)

    @app.route("/me")
    def me(req):
        if req.session is None:
            return Response("nobody", 401, content_type="text/plain")
        return {"user": req.session.user}

    return app


async def _me(port, headers):
    return (await fetch(port, "GET", "/me", headers))[0]


async def _raw(port, lines):
    # One GET /me with the header lines given as they are; the status.
    raw = b"GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(x + b"\r\n" for x in lines)
    c = await Client.open(port)
    try:
        await c.send(raw + b"\r\n")
        return (await c.response())[0]
    finally:
        await c.close()


def test_the_token_is_read_in_one_form_only():
    for name, store in _stores():
        tok = store.create("admin").token

        async def body(port, name=name, tok=tok):
            for good in ("sid=" + tok, "a=1; sid=" + tok, "a=1;sid=" + tok, "sid=%s; b=2" % tok):
                assert await _me(port, {"Cookie": good}) == 200, (name, good)
            bad = (
                "sid=\t" + tok,  # a tab before the token
                "a=1;\tsid=" + tok,  # a tab before the pair
                'sid="%s"' % tok,  # double quotes
                "sid =" + tok,  # a space before "="
                "sid= " + tok,  # a space after "="
                "sid=%s ; a=1" % tok,  # a space after the token
                "SID=" + tok,  # names are case-sensitive
                "xsid=" + tok,
                "a=sid=" + tok,  # inside another cookie's value
            )
            for b in bad:
                assert await _me(port, {"Cookie": b}) == 401, (name, b)

        serving(_app(store), body)


def test_two_cookie_or_authorization_headers_or_the_name_twice_get_400():
    for name, store in _stores():
        tok = store.create("admin").token.encode()

        async def body(port, name=name, tok=tok):
            ck = b"Cookie: sid=" + tok
            au = b"Authorization: Bearer " + tok
            assert await _raw(port, [ck]) == 200
            assert await _raw(port, [au]) == 200
            assert await _raw(port, [ck, b"Cookie: a=1"]) == 400, name
            assert await _raw(port, [b"Cookie: a=1", ck]) == 400, name
            assert await _raw(port, [au, b"Authorization: Bearer x"]) == 400, name
            assert await _raw(port, [b"Authorization: Bearer x", au]) == 400, name
            assert await _raw(port, [ck + b"; sid=" + tok]) == 400, name
            assert await _raw(port, [b"Cookie: sid=x; a=1; sid=" + tok]) == 400, name
            assert await _raw(port, [b'Cookie: sid="x"; sid=' + tok]) == 400, name
            # "sid" named once beside other names that contain it: one session cookie
            assert await _raw(port, [b"Cookie: xsid=1; sid=%s; sid2=2" % tok]) == 200, name

        serving(_app(store), body)


def test_only_the_servers_cookie_name_counts():
    for name, store in _stores():
        tok = store.create("admin").token

        async def body(port, name=name, tok=tok):
            # plain HTTP: "sid" counts, "__Host-sid" (left from HTTPS) is another cookie
            assert await _me(port, {"Cookie": "__Host-sid=junk; sid=" + tok}) == 200, name
            assert await _me(port, {"Cookie": "sid=%s; __Host-sid=junk" % tok}) == 200, name
            assert await _me(port, {"Cookie": "__Host-sid=" + tok}) == 401, name
            assert await _me(port, {"Cookie": "sid=junk; __Host-sid=" + tok}) == 401, name

        serving(_app(store), body)


def test_bearer_is_read_in_one_form_only():
    for name, store in _stores():
        tok = store.create("admin").token

        async def body(port, name=name, tok=tok):
            for good in ("Bearer " + tok, "bearer " + tok, "BEARER  " + tok):
                assert await _me(port, {"Authorization": good}) == 200, (name, good)
            for bad in ("Bearer\t" + tok, 'Bearer "%s"' % tok, "Bearer %s x" % tok, tok):
                assert await _me(port, {"Authorization": bad}) == 401, (name, bad)

        serving(_app(store), body)


def test_token_at():
    T = b"AbC-_123"
    n = b"sid"

    def at(h):
        return cookie.token_at(h, 0, len(h), n)

    def value(h):
        s = at(h)
        return h[s : cookie.token_end(h, s, len(h))] if s >= 0 else s

    assert value(b"sid=" + T) == T
    assert value(b"a=1; sid=" + T + b"; b=2") == T
    assert value(b"a=1;   sid=" + T) == T
    assert value(b"__Host-sid=x; sid=" + T) == T
    for h in (b"", b"a=1", b"sid", b"sid=", b"sid =x", b"\tsid=x", b'sid="x"', b"a=1;\tsid=x"):
        assert at(h) == -1, h
    for h in (b"sid=x y", b"sid=x,y", b"sid=x\\y", b"Sid=x", b"a=sid=x", b"xsid=1"):
        assert at(h) == -1, h
    for h in (b"sid=1; sid=2", b"sid=; sid=2", b"sid =1; sid=2; sid=3"):
        assert at(h) == cookie.DUPLICATE, h
    assert at(b"sid =1; sid=2") == 12  # "sid =" is no session cookie: the one after it is
    # within a larger buffer, between s and e only
    buf = bytearray(b"XXsid=1; sid=2YY")
    assert cookie.token_at(buf, 2, 14, n) == cookie.DUPLICATE
    assert cookie.token_at(buf, 9, 14, n) == 13
    assert cookie.token_at(buf, 2, 7, n) == 6
    assert cookie.token_at(b"sid=1", 0, 5, b"") == -1
