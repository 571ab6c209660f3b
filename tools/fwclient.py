"""The firmware as `make run` starts it (tools/run.py), and clients that talk HTTP to it: a small
browser (Client), raw loopback requests from a chosen source address (127.0.0.x stands in for
another device on the LAN) and the abusers of the fuzz, abuse and soak runs. Shared by the
host tests (host_tests/conftest.py puts tools/ on the path) and tools/bench (footprint,
firmware, soak). Nothing here sleeps to pass: the process is awaited by its output lines and
every wait is a bounded socket or queue timeout.
"""

import errno
import http.client
import json
import os
import queue
import re
import signal
import socket
import struct
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


def free_port():
    """A loopback port nobody listens on now (for a server the caller starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    a key the firmware would not take fails, named."""
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
    """One firmware process on a free loopback port with its own data folder: on `interp`
    (micropython, micropython32: the faithful build, cpython), the unix board profile updated
    with `profile`, the MicroPython heap `heap` ("68K"), `env` added to its environment."""

    def __init__(
        self,
        interp,
        folder,
        profile=None,
        password=PASSWORD,
        heap=None,
        fast=True,
        env=None,
        args=(),
        board="unix",
    ):
        # profile: changes to boards/<board>/board.json, in its sections
        self.interp = interp
        self.env = env or {}
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
        env = clean_env(SESSIONRING_ADMIN_PASSWORD=self.password, **self.env)
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

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

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

    def __init__(self, port, host="127.0.0.1", tls=None, keep=False):
        # tls: an ssl.SSLContext for HTTPS (one that trusts the device's certificate); keep:
        # one keep-alive connection for every request (close() it), else one per request
        self.host = host
        self.port = port
        self.tls = tls
        self.keep, self.conn = keep, None
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
        conn = self.conn
        if conn is None and self.tls is not None:
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=20, context=self.tls)
        elif conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=20)
        self.conn = conn if self.keep else None
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            reply = Reply(r.status, r.getheaders(), r.read())
        finally:
            if not self.keep:
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

    def close(self):
        if self.conn is not None:
            self.conn.close()

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


# ---- raw loopback clients
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
HANG_S = 8.0  # no answer and no close within this: a hang (the read timeout is 5 s)
# Close with a reset instead of a FIN (SO_LINGER 0): a soak (tools/bench/soak.py) opens hundreds
# of thousands of connections, and as many in TIME_WAIT on the client side slow every new
# connect() in the kernel until the load generator, not the server, stalls.
RESET_ON_CLOSE = False
_LINGER0 = struct.pack("ii", 1, 0)


def _socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if RESET_ON_CLOSE:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER0)
    return s


def connect(port, source="127.0.0.1", timeout=HANG_S):
    s = _socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_answer(s):
    """(status, head bytes, body bytes) of one answer; status None when the server closed
    without one; raises socket.timeout on a hang."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            d = s.recv(4096)
        except ConnectionResetError:
            d = b""
        if not d:
            m = STATUS.match(data)
            return (int(m.group(1)) if m else None), data, b""
        data += d
    head, _, body = data.partition(b"\r\n\r\n")
    m = STATUS.match(head)
    n = re.search(rb"\r\n[Cc]ontent-[Ll]ength: *(\d+)", head)
    want = int(n.group(1)) if n else 0
    while len(body) < want:
        try:
            d = s.recv(4096)
        except ConnectionResetError:
            break
        if not d:
            break
        body += d
    return (int(m.group(1)) if m else None), head, body


def exchange(port, raw, source="127.0.0.1", timeout=HANG_S, send_fails=False):
    """Send raw on a new connection: (status, head, body) of the answer; status None when
    the server closed without one (or, unless send_fails, refused what was sent), "hang" on
    no answer in time, "refused" when even the connection failed."""
    try:
        s = connect(port, source, timeout)
    except OSError:
        return "refused", b"", b""
    try:
        try:
            s.sendall(raw)
        except OSError:
            if not send_fails:
                raise
        return read_answer(s)
    except socket.timeout:
        return "hang", b"", b""
    except OSError:
        return None, b"", b""
    finally:
        s.close()


def ask(port, raw, source="127.0.0.1", timeout=HANG_S):
    """The status of the answer to raw (exchange), read even when the server stopped reading
    before the end (it may answer and close before it read everything)."""
    return exchange(port, raw, source, timeout, send_fails=True)[0]


def request(port, method, path, headers=(), body=b"", source="127.0.0.1", timeout=HANG_S):
    """(status, head, body) of one well-formed request; status "hang" or None as ask()."""
    h = [b"%s %s HTTP/1.1" % (method.encode(), path.encode()), b"Host: 127.0.0.1:%d" % port]
    h += [(b"%s: %s" % (k.encode(), v.encode())) for k, v in headers]
    if body or method == "POST":
        h.append(b"Content-Length: %d" % len(body))
    return exchange(port, b"\r\n".join(h) + b"\r\n\r\n" + body, source, timeout)


class Admin:
    """The real admin: a browser session (cookie) from 127.0.0.1, timed."""

    def __init__(self, port, password, source="127.0.0.1"):
        self.port = port
        self.password = password
        self.source = source
        self.sid = None
        self.latencies = []

    def login(self):
        """Log in through the form; True on 303. Keeps the new sid."""
        st, head, body = request(self.port, "GET", "/login", source=self.source)
        if st != 200:
            return False
        csrf = re.search(rb'name="csrf" value="([^"]+)"', body).group(1).decode()
        form = "username=admin&password=%s&csrf=%s" % (self.password.replace(" ", "+"), csrf)
        hdrs = [
            ("Cookie", "csrf=" + csrf),
            ("Origin", "http://127.0.0.1:%d" % self.port),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ]
        st, head, _ = request(self.port, "POST", "/login", hdrs, form.encode(), self.source)
        if st != 303:
            self.last = st
            return False
        m = re.search(rb"\r\nSet-Cookie: sid=([^;]+)", head)
        self.sid = m.group(1).decode()
        return True

    def status(self):
        """GET /api/status with the session: (status, json or None), timed."""
        t = time.monotonic()
        h = [("Cookie", "sid=" + self.sid)] if self.sid else []
        st, head, body = request(self.port, "GET", "/api/status", h, b"", self.source)
        self.latencies.append(time.monotonic() - t)
        return st, (json.loads(body) if st == 200 else None)


def free_heap_kb(port, sid, source="127.0.0.1"):
    """Free heap after a gc.collect(), from the dashboard (KB); None where the interpreter
    does not report it (CPython)."""
    st, _, body = request(port, "GET", "/", [("Cookie", "sid=" + sid)], source=source)
    assert st == 200, st
    m = re.search(rb"<dt>Free heap</dt><dd>(\d+) KB</dd>", body)
    return int(m.group(1)) if m else None


class Dribbler:
    """`n` connections from `sources` (round robin) that each send a request head one byte
    every `gap_s` and never finish it (slowloris); a connection the server closes is opened
    again when `reconnect`. Runs in its own thread until stop(); bounded by `limit_s`."""

    HEAD = b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 4000

    def __init__(self, port, n, sources=("127.0.0.2",), gap_s=0.2, reconnect=True, limit_s=30):
        self.port, self.n, self.sources = port, n, sources
        self.gap_s, self.reconnect, self.limit_s = gap_s, reconnect, limit_s
        self.opened = 0
        self.cut = 0  # connections the server closed (or answered, which ends them too)
        self.failed = 0  # connects that failed
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _open(self, i):
        try:
            s = connect(self.port, self.sources[i % len(self.sources)], timeout=2)
            s.setblocking(False)
            self.opened += 1
            return [s, 0]
        except OSError:
            self.failed += 1
            return None

    def _run(self):
        conns = [self._open(i) for i in range(self.n)]
        end = time.monotonic() + self.limit_s
        while not self._stop.is_set() and time.monotonic() < end:
            for i, c in enumerate(conns):
                if c is None:
                    if self.reconnect:
                        conns[i] = self._open(i)
                    continue
                s, pos = c
                try:
                    try:
                        if s.recv(4096) == b"":
                            raise OSError("closed")
                        raise OSError("answered")  # a 408/503: the server ended it
                    except BlockingIOError:
                        pass
                    s.send(self.HEAD[pos % len(self.HEAD) : pos % len(self.HEAD) + 1])
                    c[1] = pos + 1
                except OSError:
                    s.close()
                    self.cut += 1
                    conns[i] = self._open(i) if self.reconnect else None
            self._stop.wait(self.gap_s)
        for c in conns:
            if c is not None:
                c[0].close()

    def start(self):
        self._t.start()
        return self

    def stop(self):
        self._stop.set()
        self._t.join(self.limit_s + 10)
        assert not self._t.is_alive()


def hold_idle(port, n, sources=("127.0.0.2",)):
    """Open n connections that send nothing; returns the sockets (close them yourself)."""
    out = []
    for i in range(n):
        try:
            out.append(connect(port, sources[i % len(sources)], timeout=2))
        except OSError:
            pass
    return out


def tcp_established(port):
    """Established TCP connections to 127.0.0.1:port, server side, from /proc/net/tcp."""
    n = 0
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                p = line.split()
                if p[1].endswith(":%04X" % port) and p[3] == "01":
                    n += 1
    except OSError:
        return None
    return n


def burst(port, n, sources=("127.0.0.2",)):
    """Start n connections at once (non-blocking connects, nothing sent); returns the
    sockets, some of which the kernel may still be connecting (close them yourself)."""
    out = []
    for i in range(n):
        s = _socket()
        try:
            s.bind((sources[i % len(sources)], 0))
            s.setblocking(False)
            rc = s.connect_ex(("127.0.0.1", port))
            if rc not in (0, errno.EINPROGRESS, errno.EAGAIN):
                s.close()
                continue
        except OSError:
            s.close()
            continue
        out.append(s)
    return out


def logged_in(fw):
    """An Admin of the running firmware fw, logged in (the test fails if it cannot)."""
    a = Admin(fw.port, PASSWORD)
    assert a.login(), getattr(a, "last", None)
    return a
