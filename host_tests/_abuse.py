"""Raw loopback clients for the fuzz, abuse and soak runs against the firmware: one request
on its own connection from a chosen source address (127.0.0.x stands in for another device on
the LAN), with every wait bounded. Nothing here sleeps to pass: waits are socket timeouts."""

import re
import socket
import threading
import time

STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
HANG_S = 8.0  # no answer and no close within this: a hang (the read timeout is 5 s)


def connect(port, source="127.0.0.1", timeout=HANG_S):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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


def ask(port, raw, source="127.0.0.1", timeout=HANG_S):
    """Send raw on a new connection; the answer's status, None (closed, no answer) or
    "hang"; "refused" when even the connection failed."""
    try:
        s = connect(port, source, timeout)
    except OSError:
        return "refused"
    try:
        try:
            s.sendall(raw)
        except OSError:
            pass  # the server may answer and close before it read everything
        return read_answer(s)[0]
    except socket.timeout:
        return "hang"
    except OSError:
        return None
    finally:
        s.close()


def request(port, method, path, headers=(), body=b"", source="127.0.0.1", timeout=HANG_S):
    """(status, head, body) of one well-formed request; status "hang" or None as ask()."""
    h = [b"%s %s HTTP/1.1" % (method.encode(), path.encode()), b"Host: 127.0.0.1:%d" % port]
    h += [(b"%s: %s" % (k.encode(), v.encode())) for k, v in headers]
    if body or method == "POST":
        h.append(b"Content-Length: %d" % len(body))
    raw = b"\r\n".join(h) + b"\r\n\r\n" + body
    try:
        s = connect(port, source, timeout)
    except OSError:
        return "refused", b"", b""
    try:
        s.sendall(raw)
        return read_answer(s)
    except socket.timeout:
        return "hang", b"", b""
    except OSError:
        return None, b"", b""
    finally:
        s.close()


def header(head, name):
    m = re.search(rb"\r\n" + name.encode() + rb": *([^\r]*)", head, re.I)
    return m.group(1).decode() if m else None


class Admin:
    """The real admin: a browser session (cookie) from 127.0.0.1, timed."""

    def __init__(self, port, password, source="127.0.0.1"):
        self.port = port
        self.password = password
        self.source = source
        self.sid = None
        self.device = None
        self.latencies = []

    def _cookie(self):
        parts = []
        if self.sid:
            parts.append("sid=" + self.sid)
        return [("Cookie", "; ".join(parts))] if parts else []

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
        st, head, body = request(self.port, "GET", "/api/status", self._cookie(), b"", self.source)
        self.latencies.append(time.monotonic() - t)
        if st == 200:
            import json

            return st, json.loads(body)
        return st, None


class Background:
    """Run fn(stop_event) in threads until stop(); collects what they return."""

    def __init__(self, fn, n=1):
        self.stop_event = threading.Event()
        self.results = []
        self.threads = [
            threading.Thread(target=self._run, args=(fn,), daemon=True) for _ in range(n)
        ]

    def _run(self, fn):
        self.results.append(fn(self.stop_event))

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self, timeout=30):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout)
        assert not any(t.is_alive() for t in self.threads), "a load thread did not stop"
        return self.results
