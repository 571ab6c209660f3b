# A real microdot 2.x app with sessionring.microdot, served over 127.0.0.1 by microdot's own
# server, and a raw HTTP client in the same asyncio loop. Run by test_microdot.py on CPython,
# the MicroPython unix port and the faithful 32-bit build, as
#   <interpreter> _microdot_loopback.py PORT ring|sealed EXTENSION_SOURCE
# and prints "PASS <checks>" when every check held (an AssertionError otherwise).
import asyncio
import sys

from microdot import Microdot
from microdot.login import Login

from _support import FakeClock
from sessionring.ring import SessionRing

PORT = int(sys.argv[1])
STORE = sys.argv[2]

try:
    from sessionring.microdot import Sessions, with_session
except ImportError:
    # The faithful build freezes the library without the extension (the board manifests never
    # freeze it): load its source under its package's name, as a file in /lib would be.
    ext = {"__name__": "sessionring.microdot"}
    with open(sys.argv[3]) as f:
        exec(f.read(), ext)
    Sessions = ext["Sessions"]
    with_session = ext["with_session"]


class Wall(FakeClock):
    # ticks and wall clock in one (the sealed store reads time(); the ring reads ticks)
    def time(self):
        return 1800000000 + self.t // 1000

    def gmtime(self, secs=0):
        return (1970, 1, 1, 0, 0, 0, 3, 1)


clock = Wall()
if STORE == "ring":
    store = SessionRing(slots=3, data_bytes=48, idle_s=60, absolute_s=3600, clock=clock)
else:
    from sessionring.sealed import SealedStore

    store = SealedStore(
        keys=[bytes(range(32))], idle_s=60, absolute_s=3600, clock=clock, ticks=clock
    )

app = Microdot()
sessions = Sessions(app, store)
login = Login()


class User:
    def __init__(self, uid):
        self.id = uid


@login.user_loader
async def load_user(uid):
    return User(uid)


@app.post("/login")
async def do_login(req):
    return await login.login_user(req, User(req.form["u"]))


@app.get("/me")
@login
async def me(req):
    return "user=" + req.g.current_user.id


@app.get("/fresh")
@login.fresh
async def fresh(req):
    return "fresh"


@app.post("/note")
@with_session
async def note(req, session):
    session["note"] = req.form["n"]
    session.save()
    return "saved"


@app.get("/note")
@with_session
async def read_note(req, session):
    return "note=%s" % session.get("note")


@app.post("/logout")
@login
async def logout(req):
    await login.logout_user(req)
    return "bye"


@app.post("/boom")
@with_session
async def boom(req, session):
    session["_user_id"] = "mallory"
    session.save()  # a new session, whose token must never be sent
    raise RuntimeError("handler failed after starting a session")


@app.post("/revoke")
@login
async def revoke(req):
    # end every other session of this user, as a "log out everywhere else" button does
    n = store.revoke_user(req.g.current_user.id, keep=sessions.current(req))
    return "revoked=%s" % n  # (a sealed store cannot count them: None)


async def http(method, path, cookie=None, form=None):
    # One request on its own connection: (status, {lower-case name: [values]}, body text).
    r, w = await asyncio.open_connection("127.0.0.1", PORT)
    body = form or ""
    head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" % (method, path)
    if cookie:
        head += "Cookie: %s\r\n" % cookie
    if form is not None:
        head += "Content-Type: application/x-www-form-urlencoded\r\n"
    head += "Content-Length: %d\r\n\r\n" % len(body)
    w.write((head + body).encode())
    await w.drain()
    data = b""
    while True:
        chunk = await r.read(1024)
        if not chunk:
            break
        data += chunk
    w.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return status, headers, body.decode()


def sid_of(headers):
    # The session cookie's value from Set-Cookie, after checking its attributes.
    for c in headers.get("set-cookie", []):
        if c.startswith("sid="):
            attrs = c.split("; ")
            assert "HttpOnly" in attrs and "SameSite=Strict" in attrs and "Path=/" in attrs, c
            assert not [a for a in attrs if a.startswith(("Domain", "Expires"))], c
            return attrs[0][4:]
    return None


def live():
    return len(store) if STORE == "ring" else None


async def checks():
    done = []
    # not logged in: Login's decorator redirects to its login page
    st, h, b = await http("GET", "/me")
    assert st == 302 and h["location"][0].startswith("/login?next="), (st, h)
    # an anonymous session for data, then a login: a new token, the anonymous one ends
    st, h, b = await http("POST", "/note", form="n=hi")
    anon = sid_of(h)
    assert st == 200 and anon, (st, h)
    st, h, b = await http("GET", "/note", cookie="sid=" + anon)
    assert b == "note=hi", b
    st, h, b = await http("POST", "/login", cookie="sid=" + anon, form="u=bob")
    a = sid_of(h)
    assert st == 302 and a and a != anon, (st, h)
    assert not [x for x in h["set-cookie"] if "Max-Age" in x]  # a session cookie
    st, h, b = await http("GET", "/note", cookie="sid=" + anon)
    assert b == "note=None", b  # the pre-login token is dead
    st, h, b = await http("GET", "/me", cookie="sid=" + a)
    assert (st, b) == (200, "user=bob"), (st, b)
    st, h, b = await http("GET", "/note", cookie="sid=" + a)
    assert b == "note=hi", b  # the data came along into the new session
    st, h, b = await http("GET", "/fresh", cookie="sid=" + a)
    assert (st, b) == (200, "fresh"), (st, b)
    assert h["vary"] == ["Cookie"], h
    done.append("login")
    # a handler that raises after starting a session: 500, no cookie, no live session left
    before = live()
    st, h, b = await http("POST", "/boom", form="")
    assert st == 500 and "set-cookie" not in h, (st, h)
    assert live() == before, (live(), before)
    done.append("raise")
    # revoke from another session: a second login of bob ends the first
    st, h, b = await http("POST", "/login", form="u=bob")
    a2 = sid_of(h)
    st, h, b = await http("POST", "/revoke", cookie="sid=" + a2, form="")
    assert (st, b) == (200, "revoked=1" if STORE == "ring" else "revoked=None"), (st, b)
    a2 = sid_of(h) or a2  # (the sealed store re-seals the kept session at the new generation)
    st, h, b = await http("GET", "/me", cookie="sid=" + a)
    assert st == 302, st
    st, h, b = await http("GET", "/me", cookie="sid=" + a2)
    assert (st, b) == (200, "user=bob"), (st, b)
    done.append("revoke")
    # the idle timeout, on the injected clock: 59 s is fine, 61 s more is not
    clock.advance(59000)
    st, h, b = await http("GET", "/me", cookie="sid=" + a2)
    assert st == 200, st
    if STORE == "sealed":  # a sealed session's cookie is re-sealed when it was used
        a2 = sid_of(h) or a2
    clock.advance(61000)
    st, h, b = await http("GET", "/me", cookie="sid=" + a2)
    assert st == 302, st
    done.append("idle")
    # logout ends the session on the server and clears the cookie
    st, h, b = await http("POST", "/login", form="u=carol")
    c = sid_of(h)
    st, h, b = await http("POST", "/logout", cookie="sid=" + c, form="")
    assert st == 200 and sid_of(h) == "", (st, h)
    assert [x for x in h["set-cookie"] if x.startswith("sid=") and "Max-Age=0" in x], h
    st, h, b = await http("GET", "/me", cookie="sid=" + c)
    assert st == 302, st  # replaying the old cookie does not log in
    done.append("logout")
    return done


async def main():
    server = asyncio.create_task(app.start_server(host="127.0.0.1", port=PORT))
    for _ in range(200):  # wait (bounded) until it accepts
        await asyncio.sleep(0.01)
        try:
            r, w = await asyncio.open_connection("127.0.0.1", PORT)
            w.close()
            break
        except OSError:
            pass
    try:
        done = await asyncio.wait_for(checks(), 60)
    finally:
        app.shutdown()
        await asyncio.wait_for(server, 10)
    print("PASS " + ",".join(done))


asyncio.run(main())
