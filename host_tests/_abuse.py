"""Raw loopback clients for the fuzz, abuse and soak runs against the firmware: one request
on its own connection from a chosen source address (127.0.0.x stands in for another device on
the LAN), with every wait bounded. Nothing here sleeps to pass: waits are socket timeouts."""

import re
import socket
import struct
import threading
import time

STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
HANG_S = 8.0  # no answer and no close within this: a hang (the read timeout is 5 s)
# Close with a reset instead of a FIN (SO_LINGER 0): a soak (tools/bench/soak.py) opens hundreds
# of thousands of connections, and as many in TIME_WAIT on the client side slow every new
# connect() in the kernel until the load generator, not the server, stalls.
RESET_ON_CLOSE = False
_LINGER0 = struct.pack("ii", 1, 0)


def connect(port, source="127.0.0.1", timeout=HANG_S):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if RESET_ON_CLOSE:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER0)
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
    import errno

    out = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if RESET_ON_CLOSE:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER0)
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
    from _firmware_proc import PASSWORD

    a = Admin(fw.port, PASSWORD)
    assert a.login(), getattr(a, "last", None)
    return a
