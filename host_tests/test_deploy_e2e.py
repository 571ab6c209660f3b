"""End to end: deploy the real firmware to the virtual board with tools/deploy.py (mpremote's
transport underneath), let the soft reset start it, and log in to the admin page it serves.
Then a second deploy copies nothing, and changing one source file copies one file.

The sources are a copy of lib/sessionring, firmware/ and boards/ in a temporary folder, so the
test can change a file. One change to the copy's unix profile: PBKDF2 iterations are lowered
so that a login does not cost a second (as in the other firmware end-to-end tests).
"""

import re

from _vboard import VirtualBoard, deploy, host_env, source_copy, states
from fwclient import Client

PASSWORD = "deploy e2e password"
LISTEN = re.compile(r"sessionring: admin page at http://127\.0\.0\.1:(\d+)/")


def _run_deploy(board, src):
    r = deploy("unix", board.url, src)
    console = board.output()[-4000:].decode("utf-8", "replace")
    assert r.returncode == 0, "deploy failed:\n%s\n%s\n--- board console\n%s" % (
        r.stdout,
        r.stderr,
        console,
    )
    m = LISTEN.search(r.stdout)
    assert m, (
        "the firmware did not serve after the soft reset (no 'admin page at' line):\n%s\n"
        "--- board console\n%s" % (r.stdout, console)
    )
    return r, int(m.group(1))


def _log_in(board, port):
    why = "\n--- board console\n" + board.output()[-3000:].decode("utf-8", "replace")
    c = Client(port)
    form = c.get("/login")
    assert form.status == 200, "GET /login: %r%s" % (form, why)
    assert form.csrf(), "no csrf field in the login form" + why
    r = c.post("/login", {"username": "admin", "password": PASSWORD, "csrf": form.csrf()})
    assert r.status == 303, "POST /login: %r%s" % (r, why)
    assert "sid" in c.cookies, r.headers
    page = c.get("/")
    assert page.status == 200, "GET / with the session cookie: %r%s" % (page, why)
    api = Client(port)
    r = api.post_json("/api/login", {"username": "admin", "password": PASSWORD})
    assert r.status == 200, "POST /api/login: %r%s" % (r, why)
    token = r.json()["token"]
    r = api.get("/api/status", headers={"Authorization": "Bearer " + token})
    assert r.status == 200, "GET /api/status: %r%s" % (r, why)
    assert isinstance(r.json(), dict)
    bad = Client(port).post_json("/api/login", {"username": "admin", "password": "wrong"})
    assert bad.status == 401, bad


def test_deploy_login_redeploy(tmp_path):
    src = source_copy(tmp_path / "src")
    env = host_env(SESSIONRING_PORT=0, SESSIONRING_ADMIN_PASSWORD=PASSWORD)
    with VirtualBoard(tmp_path / "board", env=env) as board:
        board.wait_for(b">>> ", 20)  # an empty board: straight to the REPL

        r, port = _run_deploy(board, src)
        first = states(r.stdout)
        assert set(first.values()) == {"copied"}
        assert {"main.py", "boot.py", "board.json", "lib/sessionring/http.mpy"} <= set(first)
        assert (board.folder / "admin").is_dir() and (board.folder / "data").is_dir()
        _log_in(board, port)

        r, port = _run_deploy(board, src)
        assert set(states(r.stdout).values()) == {"unchanged"}, r.stdout
        assert "summary: 0 copied" in r.stdout
        _log_in(board, port)

        cookie = src / "lib" / "sessionring" / "cookie.py"
        cookie.write_text(cookie.read_text() + "\n_DEPLOY_E2E = 1  # a change in one module\n")
        r, port = _run_deploy(board, src)
        s = states(r.stdout)
        assert [t for t, v in s.items() if v == "copied"] == ["lib/sessionring/cookie.mpy"], (
            r.stdout
        )
        assert len(s) == len(first)
        _log_in(board, port)
