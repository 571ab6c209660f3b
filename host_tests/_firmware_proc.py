"""Start the device firmware as `make run` does (tools/run.py) and talk HTTP to it.

Shared by the end-to-end tests (test_firmware_*.py) and the browser tests (browser/).
Nothing here sleeps: the process is awaited by its output lines, with timeouts.
"""

import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"
LISTEN = re.compile(r"sessionring: admin page at (https?://[\d.]+:(\d+)/)")
START_TIMEOUT_S = 30
FAST = {"firmware": {"pbkdf2_iterations": 1000}}  # logins in tests need not cost a second


def merge(prof, changes):
    """prof (a parsed board.json) with changes made: a section's keys are merged into it, a
    top-level key replaced."""
    for k, v in changes.items():
        if isinstance(v, dict) and isinstance(prof.get(k), dict):
            prof[k] = dict(prof[k], **v)
        elif isinstance(v, dict):
            prof[k] = dict(v)
        else:
            prof[k] = v
    return prof


def board_problems(prof):
    """What the firmware would leave out of a board.json object (firmware/admin/board.py)."""
    for p in (ROOT / "firmware", ROOT / "lib", ROOT / "lib" / "hostshim"):
        if str(p) not in sys.path:
            sys.path.append(str(p))
    from admin import board

    return board.problems(json.loads(json.dumps(prof)))


def unix_profile(changes=None, fast=True, board="unix"):
    """A board's profile (the unix one unless told) with changes (sections as in board.json);
    a key the firmware would not take fails the test, named."""
    prof = json.loads((ROOT / "boards" / board / "board.json").read_text())
    if fast:
        merge(prof, FAST)
    merge(prof, changes or {})
    bad = board_problems(prof)
    assert not bad, "board profile: %s" % "; ".join(bad)
    return prof


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONRING_") and k != "PORT"}
    env["PATH"] = str(ROOT / ".venv" / "bin") + os.pathsep + env.get("PATH", "")
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


class Firmware:
    """One firmware process on a free loopback port with its own data folder."""

    def __init__(
        self,
        interp,
        folder,
        profile=None,
        password=PASSWORD,
        heap=None,
        fast=True,
        args=(),
        board="unix",
    ):
        # profile: changes to boards/<board>/board.json, in its sections
        self.interp = interp
        self.args = list(args)  # more tools/run.py arguments (e.g. --tls)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.data = self.folder / "data"
        self.board = self.folder / "board.json"
        prof = unix_profile(profile, fast, board)
        self.board.write_text(json.dumps(prof))
        self.profile = prof
        self.password = password
        self.heap = heap
        self.proc = None
        self.lines = []
        self._q = None

    def start(self):
        argv = [sys.executable, str(ROOT / "tools" / "run.py"), "--py", self.interp]
        argv += ["--port", "0", "--data", str(self.data), "--board", str(self.board)]
        if self.heap:
            argv += ["--heap", self.heap]
        argv += self.args
        env = clean_env(SESSIONRING_ADMIN_PASSWORD=self.password)
        self.lines = []
        self._q = queue.Queue()
        self.proc = subprocess.Popen(
            argv,
            cwd=str(ROOT),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._pump, args=(self.proc, self._q), daemon=True).start()
        m = LISTEN.search(self.wait_line(LISTEN.pattern))
        self.url = m.group(1).rstrip("/")
        self.port = int(m.group(2))
        return self

    @staticmethod
    def _pump(proc, q):
        for line in proc.stdout:
            q.put(line.rstrip("\n"))
        q.put(None)

    def wait_line(self, pattern, timeout=START_TIMEOUT_S):
        # The next output line matching pattern (regex); fails on exit or timeout.
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no line %r in %s s:\n%s" % (pattern, timeout, self.output))
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("firmware exited:\n" + self.output)
            self.lines.append(line)
            if rx.search(line):
                return line

    @property
    def output(self):
        # every line so far, including those nobody waited for
        while self._q is not None:
            try:
                line = self._q.get_nowait()
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
        return "\n".join(self.lines)

    def stop(self, sig=signal.SIGTERM):
        p = self.proc
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        p.stdout.close()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def client(self):
        return Client(self.port)


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # list of (name, value)
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode()

    def json(self):
        return json.loads(self.body)

    def csrf(self):
        m = re.search(r'name="csrf" value="([^"]+)"', self.text)
        return m.group(1) if m else None

    def __repr__(self):
        return "<Reply %d %r>" % (self.status, self.body[:200])


class Client:
    """A tiny browser: one cookie jar, Origin on every POST, no redirects followed."""

    def __init__(self, port, host="127.0.0.1", tls=None):
        # tls: an ssl.SSLContext for HTTPS (one that trusts the device's certificate)
        self.host = host
        self.port = port
        self.tls = tls
        self.origin = "%s://%s:%d" % ("https" if tls else "http", host, port)
        self.cookies = {}
        self.set_cookies = []  # every Set-Cookie value received, in order

    def request(self, method, path, body=None, headers=None, origin=True):
        h = {"Host": "%s:%d" % (self.host, self.port)}
        if method == "POST" and origin:
            h["Origin"] = self.origin
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        if self.tls is not None:
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=20, context=self.tls)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            reply = Reply(r.status, r.getheaders(), r.read())
        finally:
            conn.close()
        for sc in reply.all("Set-Cookie"):
            self.set_cookies.append(sc)
            name, _, rest = sc.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in sc:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return reply

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields=None, headers=None, **kw):
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"}
        hdrs.update(headers or {})
        return self.request("POST", path, urlencode(fields or {}), hdrs, **kw)

    def post_json(self, path, obj, headers=None, **kw):
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        body = obj if isinstance(obj, (str, bytes)) else json.dumps(obj)
        return self.request("POST", path, body, hdrs, **kw)

    def login(self, password=PASSWORD, user="admin"):
        form = self.get("/login")
        assert form.status == 200, form
        return self.post("/login", {"username": user, "password": password, "csrf": form.csrf()})

    def page_csrf(self, path="/"):
        r = self.get(path)
        assert r.status == 200, r
        return r.csrf()

    def api_token(self, password=PASSWORD):
        r = self.post_json("/api/login", {"username": "admin", "password": password})
        assert r.status == 200, r
        return r.json()["token"]
