#!/usr/bin/env python3
"""HTTPS figures on the board-faithful builds with Mbed TLS (tools/faithful.py): the smallest GC
heap that serves login + dashboard over TLS with 1 and with 2 TLS connections open at once, and
what mbedtls takes from the C heap when it allocates there; handshake time and requests per
second over one keep-alive TLS connection, as ratios to plain HTTP in the same run.

    python tools/bench_tls.py [--board rpi_pico_w] [heap] [cheap] [speed]

heap   unix32tls (mbedtls on the GC heap, as on the Pico W): the firmware with the board's
       profile and "https": true, started with -X heapsize=N K; N is bisected (4 KB steps) for
       the smallest heap at which N TLS clients each hold a keep-alive connection open while
       one logs in and every one of them gets the dashboard.
cheap  unix32tlsc (mbedtls on the C heap, as on ESP32): the same with 1 TLS connection; the
       smallest GC heap, and the C heap counted by an LD_PRELOAD shim (tools/bench_tls/cheap.c,
       built with gcc -m32): in use once the admin page listens (the certificate and key loaded)
       and the peak above that while the connection is served.
speed  micropython32tls with and without --tls: connect + first answer (for TLS, a full
       handshake), and answers per second over one keep-alive connection; ratios TLS/plain.
       Speed figures need a quiet machine.
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import cert  # noqa: E402
import faithful  # noqa: E402

PASSWORD = "bench-tls-password"
LISTEN = re.compile(r"admin page at (https?)://127\.0\.0\.1:(\d+)/")
START_S = 60


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Proc:
    """The firmware on a faithful build, with the board's profile, https on or off."""

    def __init__(self, folder, board, py, heap_kb, tls=True, conns=2, env=None):
        folder = Path(folder)
        prof = json.loads((ROOT / "boards" / board / "board.json").read_text())
        prof["firmware"] = dict(
            prof.get("firmware", {}),
            http_host="127.0.0.1",
            wifi_mode="none",
            pbkdf2_iterations=1000,  # the heap a login needs does not depend on it
            https=tls,
        )
        prof["server"] = dict(prof.get("server", {}), tls_conns=conns, handshake_ms=20000)
        (folder / "board.json").write_text(json.dumps(prof))
        data = folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        if tls and not (data / cert.CERT_FILE).exists():
            _, self.cert = cert.new(data, board, prof, out=lambda s: None)
        elif tls:
            self.cert = (data / cert.CERT_FILE).read_bytes()
        argv = [sys.executable, str(HERE / "run.py"), "--py", py, "--port", "0"]
        argv += ["--data", str(data), "--board", str(folder / "board.json")]
        argv += ["--heap", "%dK" % heap_kb]
        if tls:
            argv += ["--tls", "--redirect-port", str(_free_port())]
        e = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONRING_")}
        e["SESSIONRING_ADMIN_PASSWORD"] = PASSWORD
        e.update(env or {})
        self.p = subprocess.Popen(
            argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.port = None
        self.tls = tls
        t0 = time.monotonic()
        self.out = []
        while time.monotonic() - t0 < START_S:
            line = self.p.stdout.readline()
            if not line:
                break
            self.out.append(line)
            m = LISTEN.search(line)
            if m:
                self.port = int(m.group(2))
                break

    def conn(self):
        if self.tls:
            ctx = ssl.create_default_context(cadata=ssl.DER_cert_to_PEM_cert(self.cert))
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(10)
        self.p.stdout.close()


def _req(c, method, path, body=None, headers=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, r.getheaders(), r.read()


def login_and_dashboards(proc, n):
    """True when n keep-alive TLS connections, open at once, all get their answers: the first
    logs in, then each gets the dashboard."""
    origin = "%s://127.0.0.1:%d" % ("https" if proc.tls else "http", proc.port)
    conns = [proc.conn() for _ in range(n)]
    try:
        st, hs, body = _req(conns[0], "GET", "/login")
        if st != 200:
            return False
        csrf_c = [v for k, v in hs if k.lower() == "set-cookie"][0].split(";")[0]
        token = re.search(rb'name="csrf" value="([^"]+)"', body).group(1).decode()
        form = urlencode({"username": "admin", "password": PASSWORD, "csrf": token})
        hdr = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin,
            "Cookie": csrf_c,
        }
        st, hs, _ = _req(conns[0], "POST", "/login", form, hdr)
        if st != 303:
            return False
        sid = [v for k, v in hs if k.lower() == "set-cookie" and "sid=" in v][0].split(";")[0]
        for c in conns[1:]:
            if _req(c, "GET", "/login")[0] != 200:  # every connection open and handshaken
                return False
        for c in conns:
            if _req(c, "GET", "/", headers={"Cookie": sid})[0] != 200:
                return False
        return proc.alive()
    except (OSError, http.client.HTTPException, AttributeError, IndexError):
        return False
    finally:
        for c in conns:
            c.close()


def serves(board, py, heap_kb, n, env=None):
    with tempfile.TemporaryDirectory() as d:
        p = Proc(d, board, py, heap_kb, conns=n, env=env)
        try:
            return p.port is not None and login_and_dashboards(p, n)
        finally:
            p.stop()


def smallest(board, py, n, lo=32, hi=256, env=None):
    # The smallest heap (KB, 4 KB steps) that serves; None if hi does not.
    if not serves(board, py, hi, n, env):
        return None
    while hi - lo > 4:
        mid = (lo + hi) // 2 // 4 * 4
        if serves(board, py, mid, n, env):
            hi = mid
        else:
            lo = mid
    return hi


def cheap_shim():
    so = faithful.OUT / "cheap.so"
    src = HERE / "bench_tls" / "cheap.c"
    if not so.exists() or so.stat().st_mtime < src.stat().st_mtime:
        subprocess.run(
            ["gcc", "-m32", "-shared", "-fPIC", "-O2", str(src), "-o", str(so), "-ldl"],
            check=True,
        )
    return so


def c_heap(board, heap_kb):
    """(in use after boot, peak above it while 1 TLS connection logs in and gets the
    dashboard), bytes of C heap, on unix32tlsc."""
    so = cheap_shim()
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "cheap.txt"
        env = {"LD_PRELOAD": str(so), "CHEAP_OUT": str(out)}
        p = Proc(d, board, "micropython32tlsc", heap_kb, conns=1, env=env)
        try:
            time.sleep(0.5)  # the window starts once the allocations of boot are done
            p.p.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            base = int(out.read_text().split()[0])
            ok = login_and_dashboards(p, 1)
            p.p.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            peak = int(out.read_text().split()[1])
            return ok, base, peak - base
        finally:
            p.stop()


def speed(board, n=100):
    """{tls: (first answer s, answers/s)} for plain and TLS on micropython32tls."""
    res = {}
    for tls in (False, True):
        with tempfile.TemporaryDirectory() as d:
            p = Proc(d, board, "micropython32tls", 1024, tls=tls)
            try:
                firsts = []
                for _ in range(10):
                    t0 = time.perf_counter()
                    c = p.conn()
                    _req(c, "GET", "/login")
                    firsts.append(time.perf_counter() - t0)
                    c.close()
                c = p.conn()
                _req(c, "GET", "/login")
                t0 = time.perf_counter()
                for _ in range(n):
                    _req(c, "GET", "/login")
                rps = n / (time.perf_counter() - t0)
                c.close()
                res[tls] = (sorted(firsts)[len(firsts) // 2], rps)
            finally:
                p.stop()
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", nargs="*", default=["heap", "cheap", "speed"])
    ap.add_argument("--board", default=None, help="default: rpi_pico_w for heap, esp32 for cheap")
    a = ap.parse_args(argv)
    for t in ("unix32tls", "unix32tlsc"):
        faithful.build(t)
    if "heap" in a.what:
        b = a.board or "rpi_pico_w"
        for n in (1, 2):
            kb = smallest(b, "micropython32tls", n)
            print("heap: %s, unix32tls (mbedtls on the GC heap), %d TLS connection(s): "
                  "smallest GC heap %s KB" % (b, n, kb), flush=True)  # fmt: skip
    if "cheap" in a.what:
        b = a.board or "esp32"
        kb = smallest(b, "micropython32tlsc", 1)
        print("cheap: %s, unix32tlsc (mbedtls on the C heap), 1 TLS connection: smallest GC "
              "heap %s KB" % (b, kb), flush=True)  # fmt: skip
        budget = json.loads((ROOT / "boards" / b / "board.json").read_text())["heap_kb"]
        ok, base, extra = c_heap(b, budget)
        print("cheap: %s at its %d KB GC heap: served %s; C heap in use after boot %d B, "
              "peak above it with 1 TLS connection %d B" % (b, budget, ok, base, extra),
              flush=True)  # fmt: skip
    if "speed" in a.what:
        b = a.board or "rpi_pico_w"
        r = speed(b)
        (pf, pr), (tf, tr) = r[False], r[True]
        print("speed: %s, micropython32tls: first answer on a new connection TLS/plain %.1fx; "
              "answers/s over one keep-alive connection TLS/plain %.2f" % (b, tf / pf, tr / pr),
              flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
