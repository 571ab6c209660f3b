"""sessionring.microdot against microdot's own code (microdot 2.7.0, pinned): its TestClient on
CPython, and a real microdot app served over 127.0.0.1 by microdot's server on CPython, the
MicroPython unix port and the faithful 32-bit build (_microdot_loopback.py), with both stores."""

import asyncio
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import microdot
import pytest
from microdot import Microdot
from microdot.login import Login
from microdot.test_client import TestClient

from harness import HOST_INTERPRETERS, PORTABLE, ROOT, interpreter_command

sys.path[:0] = [str(ROOT / "lib"), str(ROOT / "lib" / "hostshim"), str(PORTABLE)]
from _support import FakeClock  # noqa: E402
from sessionring.microdot import Sessions, with_session  # noqa: E402
from sessionring.ring import SessionRing  # noqa: E402
from sessionring.sealed import SealedStore  # noqa: E402
from sessionring.session import ROLE_ADMIN  # noqa: E402

EXT = ROOT / "lib" / "sessionring" / "microdot.py"
FORM = (("Content-Type", "application/x-www-form-urlencoded"),)  # TestClient adds to a dict


class Client(TestClient):
    # microdot's TestClient without its cookie jar: each request sends exactly what it names
    def _update_cookies(self, res):
        pass


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


class User:
    def __init__(self, uid):
        self.id = uid


def make_app(store, **options):
    app = Microdot()
    sessions = Sessions(app, store, **options)
    login = Login()

    @login.user_loader
    async def load(uid):
        return User(uid)

    @app.post("/login")
    async def do_login(req):
        return await login.login_user(req, User(req.form["u"]), remember=req.form.get("r", False))

    @app.get("/me")
    @login
    async def me(req):
        return "user=%s" % req.g.current_user.id

    @app.post("/logout")
    @login
    async def logout(req):
        await login.logout_user(req)
        return "bye"

    @app.get("/data")
    @with_session
    async def data(req, session):
        return json.dumps(sorted(session.items()))

    @app.post("/boom")
    @with_session
    async def boom(req, session):
        session["_user_id"] = "mallory"
        session.save()
        raise RuntimeError("after starting a session")

    return app, sessions


def cookies(res):
    v = res.headers.get("Set-Cookie", [])
    return v if isinstance(v, list) else [v]


def sid(res, name="sid"):
    for c in cookies(res):
        if c.startswith(name + "="):
            return c.split(";")[0][len(name) + 1 :]
    return None


def test_login_sets_a_strict_session_cookie_with_a_new_token():
    ring = SessionRing(slots=4, data_bytes=48)
    app, _ = make_app(ring)

    async def body():
        c = Client(app)
        r = await c.get("/me")
        assert r.status_code == 302 and r.headers["Location"] == "/login?next=/me"
        planted = ring.create("", 0).token  # a session token planted before login
        r = await c.post("/login", body="u=bob", headers=dict(FORM, Cookie="sid=" + planted))
        assert r.status_code == 302
        (set_cookie,) = cookies(r)
        tok = sid(r)
        assert tok and tok != planted and ring.get(planted) is None  # no fixation
        attrs = set_cookie.split("; ")[1:]
        assert sorted(attrs) == ["HttpOnly", "Path=/", "SameSite=Strict"]
        assert r.headers["Cache-Control"] == "no-store" and r.headers["Vary"] == "Cookie"
        r = await c.get("/me", headers={"Cookie": "sid=" + tok})
        assert (r.status_code, r.text) == (200, "user=bob")
        assert len(ring) == 1 and next(iter(ring)).user == "bob"

    run(body())


def test_a_handler_that_raises_after_starting_a_session_leaves_none():
    ring = SessionRing(slots=4)
    app, _ = make_app(ring)

    async def body():
        r = await Client(app).post("/boom", body="")
        assert r.status_code == 500 and not cookies(r)
        assert len(ring) == 0 and ring.stats()["created"] == 1

    run(body())


def test_logout_ends_the_session_on_the_server():
    ring = SessionRing(slots=4)
    app, _ = make_app(ring)

    async def body():
        c = Client(app)
        tok = sid(await c.post("/login", body="u=bob", headers=dict(FORM)))
        r = await c.post("/logout", headers={"Cookie": "sid=" + tok})
        assert r.status_code == 200 and r.text == "bye"
        assert [x for x in cookies(r) if x.startswith("sid=;") and "Max-Age=0" in x]
        assert len(ring) == 0 and ring.get(tok) is None
        r = await c.get("/me", headers={"Cookie": "sid=" + tok})  # the old cookie, replayed
        assert r.status_code == 302

    run(body())


def test_revoke_from_another_session_and_the_idle_timeout():
    clock = FakeClock()
    ring = SessionRing(slots=4, idle_s=60, absolute_s=600, clock=clock)
    app, sessions = make_app(ring)

    @app.post("/kick")
    async def kick(req):
        me = sessions.current(req)
        for s in list(ring):
            if s.handle != me.handle:
                ring.revoke(s)
        return "ok"

    async def body():
        c = Client(app)
        a = sid(await c.post("/login", body="u=bob", headers=dict(FORM)))
        b = sid(await c.post("/login", body="u=eve", headers=dict(FORM)))
        assert (await c.post("/kick", headers={"Cookie": "sid=" + b})).text == "ok"
        assert (await c.get("/me", headers={"Cookie": "sid=" + a})).status_code == 302
        clock.advance(59000)
        assert (await c.get("/me", headers={"Cookie": "sid=" + b})).status_code == 200
        clock.advance(59000)  # idle 59 s again: still in
        assert (await c.get("/me", headers={"Cookie": "sid=" + b})).status_code == 200
        clock.advance(61000)
        assert (await c.get("/me", headers={"Cookie": "sid=" + b})).status_code == 302
        assert len(ring) == 0

    run(body())


def test_a_full_store_answers_503_and_logs_nobody_out():
    # the ring's policy: a login never evicts a session of a higher role (RingFull instead)
    ring = SessionRing(slots=2)
    app, _ = make_app(ring, retry_after=7)  # logins get ROLE_USER
    admin, _ = make_app(ring, role=ROLE_ADMIN)

    async def body():
        a = sid(await Client(admin).post("/login", body="u=root", headers=dict(FORM)))
        await Client(admin).post("/login", body="u=root2", headers=dict(FORM))
        r = await Client(app).post("/login", body="u=other", headers=dict(FORM))
        assert r.status_code == 503 and r.headers["Retry-After"] == "7" and not cookies(r)
        assert len(ring) == 2 and ring.stats()["rejected"] == 1
        assert ring.get(a).user == "root"

    run(body())


def test_remember_me_is_refused_with_a_clear_error():
    ring = SessionRing(slots=2)
    app, sessions = make_app(ring)
    with pytest.raises(ValueError, match="remember-me is not supported"):
        sessions.encode({"user_id": "bob", "days": 30})
    assert sessions.decode("anything a client sent") == {}

    async def body():
        c = Client(app)
        r = await c.post("/login", body="u=bob&r=1", headers=dict(FORM))
        assert r.status_code == 500 and not cookies(r)
        assert len(ring) == 0  # the session the login started ended with it
        # a _remember cookie sent by a client logs nobody in
        r = await c.get("/me", headers={"Cookie": "_remember=eyJ1c2VyX2lkIjoiYm9iIn0"})
        assert r.status_code == 302

    run(body())


def test_the_cookie_is_read_strictly_and_the_name_follows_tls():
    ring = SessionRing(slots=2)
    app, _ = make_app(ring, secure=True)

    async def body():
        c = Client(app)
        r = await c.post("/login", body="u=bob", headers=dict(FORM))
        tok = sid(r, "__Host-sid")
        assert tok and "Secure" in cookies(r)[0].split("; ")
        ok = await c.get("/me", headers={"Cookie": "a=1; __Host-sid=" + tok})
        assert ok.text == "user=bob"
        for bad in ("sid=" + tok, "x__Host-sid=" + tok, "__Host-sid=" + tok[:-1]):
            r = await c.get("/me", headers={"Cookie": bad})
            assert r.status_code == 302, bad

    run(body())


def test_data_and_login_with_the_sealed_store():
    store = SealedStore(keys=[bytes(range(32))])
    app, _ = make_app(store)

    @app.post("/put")
    @with_session
    async def put(req, session):
        session["lang"] = "en"
        session.save()
        return "ok"

    async def body():
        c = Client(app)
        tok = sid(await c.post("/login", body="u=bob", headers=dict(FORM)))
        r = await c.post("/put", headers={"Cookie": "sid=" + tok})
        tok = sid(r)  # re-sealed with the new data
        r = await c.get("/data", headers={"Cookie": "sid=" + tok})
        assert json.loads(r.text) == [["_fresh", True], ["_user_id", "bob"], ["lang", "en"]]
        r = await c.post("/logout", headers={"Cookie": "sid=" + tok})
        assert r.status_code == 200
        assert (await c.get("/me", headers={"Cookie": "sid=" + tok})).status_code == 302

    run(body())


def test_user_ids_come_back_in_their_type():
    ring = SessionRing(slots=2)
    app = Microdot()
    Sessions(app, ring, user_id=int)
    login = Login()
    seen = []

    @login.user_loader
    async def load(uid):
        seen.append(uid)
        return User(uid)

    @app.post("/login")
    async def do_login(req):
        return await login.login_user(req, User(42))

    @app.get("/me")
    @login
    async def me(req):
        return "ok"

    async def body():
        c = Client(app)
        tok = sid(await c.post("/login"))
        assert (await c.get("/me", headers={"Cookie": "sid=" + tok})).text == "ok"
        assert seen == [42]
        with pytest.raises(TypeError):
            Sessions(Microdot(), ring, max_age=5)

    run(body())


def test_the_extension_does_not_import_the_jwt_code():
    code = (
        "import sys\n"
        "from microdot import Microdot\n"
        "from sessionring.microdot import Sessions, with_session\n"
        "from sessionring.ring import SessionRing\n"
        "Sessions(Microdot(), SessionRing(slots=1))\n"
        "assert 'jwt' not in sys.modules and 'microdot.session' not in sys.modules\n"
        "print('clean')\n"
    )
    env = {"PYTHONPATH": str(ROOT / "lib") + ":" + str(ROOT / "lib" / "hostshim")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.strip() == "clean", out.stderr


def _microdot_sources(dest):
    # microdot's own .py files from the installed package (the ones the app uses)
    src = Path(microdot.__file__).parent
    (dest / "microdot").mkdir(parents=True)
    for name in ("__init__.py", "microdot.py", "helpers.py", "login.py"):
        shutil.copyfile(src / name, dest / "microdot" / name)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("store", ("ring", "sealed"))
@pytest.mark.parametrize("interp", HOST_INTERPRETERS)
def test_a_microdot_app_over_loopback(interp, store, tmp_path):
    _microdot_sources(tmp_path)
    script = ROOT / "host_tests" / "_microdot_loopback.py"
    argv, env = interpreter_command(interp, script, heap="4M")
    extra = [str(tmp_path), str(PORTABLE)]
    if interp == "cpython":
        env["PYTHONPATH"] = ":".join([env["PYTHONPATH"]] + extra)
    else:
        env["MICROPYPATH"] = ":".join([env["MICROPYPATH"]] + extra)
    argv += [str(_free_port()), store, str(EXT)]
    proc = subprocess.run(
        argv, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=120
    )
    out = proc.stdout.strip().splitlines()
    assert proc.returncode == 0 and out, proc.stdout + proc.stderr
    assert out[-1] == "PASS login,raise,revoke,idle,logout", proc.stdout + proc.stderr


def test_the_extension_installs_from_its_own_package_and_is_never_frozen(tmp_path):
    pkg = json.loads((ROOT / "lib" / "sessionring" / "microdot.json").read_text())
    assert pkg["urls"] == [["sessionring/microdot.py", "microdot.py"]]
    root = json.loads((ROOT / "package.json").read_text())
    assert "sessionring/microdot.py" not in [t for t, _ in root["urls"]]
    manifest = (ROOT / "lib" / "sessionring" / "manifest.py").read_text()
    assert '"microdot.py"' in manifest  # left out of package(): see test_packaging.py
    # what mip does with it: the file under the package's name, beside the library
    lib = tmp_path / "lib"
    for target, url in root["urls"] + pkg["urls"]:
        base = ROOT if target in dict(root["urls"]) else ROOT / "lib" / "sessionring"
        (lib / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / url, lib / target)
    _microdot_sources(tmp_path / "md")
    argv, env = interpreter_command("micropython", tmp_path / "probe.py", heap="4M")
    env["MICROPYPATH"] = ":".join([".frozen", str(lib), str(tmp_path / "md")])
    (tmp_path / "probe.py").write_text("import sessionring.microdot as m\nprint(m.__file__)\n")
    proc = subprocess.run(
        argv, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(lib / "sessionring" / "microdot.py")
