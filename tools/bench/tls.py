"""`python tools/bench tls [-- heap cheap speed --board B]`: HTTPS on the board-faithful builds
with Mbed TLS (tools/faithful.py), printed (the HTTPS section of docs/benchmarks.md quotes them;
not part of `make bench`):

heap   unix32tls (mbedtls on the GC heap, as on the Pico W; board rpi_pico_w): the firmware with
       the board's profile and "https": true; the smallest GC heap (4 KB steps) at which N TLS
       clients (1, then 2) each hold a keep-alive connection open while one logs in and every
       one of them gets the dashboard.
cheap  unix32tlsc (mbedtls on the C heap, as on ESP32; board esp32): the same with 1 client;
       then, at the board's heap_kb, the C heap counted by an LD_PRELOAD shim (cheap.c beside
       this file, built with gcc -m32): in use once the admin page listens (the certificate and
       key loaded) and the peak above that while the client is served.
speed  micropython32tls with and without --tls: connect + first answer (for TLS, a full
       handshake), and answers per second over one keep-alive connection; ratios TLS/plain.
       Speed figures need a quiet machine.
"""

import argparse
import http.client
import json
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cert
import faithful
from bench import common
from fwclient import Client, Firmware

PASSWORD = "bench-tls-password"
HEAPS_KB = range(32, 257, 4)


def start(folder, board, py, heap_kb, tls=True, conns=2, env=None):
    """The firmware on a faithful build with `board`'s profile, https on or off; its
    certificate (DER) made beforehand as deploy makes a board's, or None."""
    changes = {
        "firmware": {"http_host": "127.0.0.1", "wifi_mode": "none", "https": tls},
        "server": {"tls_conns": conns, "handshake_ms": 20000},
    }
    changes["firmware"]["pbkdf2_iterations"] = 1000  # the heap a login needs does not depend on it
    args = ["--tls", "--redirect-port", str(common.free_port())] if tls else []
    heap = "%dK" % heap_kb
    fw = Firmware(py, folder, changes, PASSWORD, heap, False, env, args, board=board)
    fw.der = cert.new(fw.data, board, fw.profile, out=lambda s: None)[1] if tls else None
    return fw.start()


def client(fw):
    # one keep-alive connection, HTTPS when the firmware serves it, trusting its certificate
    ctx = ssl.create_default_context(cadata=ssl.DER_cert_to_PEM_cert(fw.der)) if fw.der else None
    return Client(fw.port, tls=ctx, keep=True)


def login_and_dashboards(fw, n):
    """True when n keep-alive connections, open at once, all get their answers: the first
    logs in, then each gets the dashboard."""
    clients = [client(fw) for _ in range(n)]
    try:
        if clients[0].login(PASSWORD).status != 303:
            return False
        if any(c.get("/login").status != 200 for c in clients[1:]):  # all open, handshaken
            return False
        sid = [k + "=" + v for k, v in clients[0].cookies.items() if k.endswith("sid")]
        sid = {"Cookie": sid[0]}  # __Host-sid over TLS
        return all(c.get("/", headers=sid).status == 200 for c in clients) and fw.alive()
    except (OSError, http.client.HTTPException, AssertionError, IndexError):
        return False
    finally:
        for c in clients:
            c.close()


def serves(board, py, heap_kb, n, env=None):
    with tempfile.TemporaryDirectory() as d:
        try:
            fw = start(d, board, py, heap_kb, conns=n, env=env)
        except AssertionError:  # no listening line: it did not boot
            return False
        try:
            return login_and_dashboards(fw, n)
        finally:
            fw.stop()


def cheap_shim():
    so, src = faithful.OUT / "cheap.so", Path(__file__).with_name("cheap.c")
    if not so.exists() or so.stat().st_mtime < src.stat().st_mtime:
        argv = ["gcc", "-m32", "-shared", "-fPIC", "-O2", str(src), "-o", str(so), "-ldl"]
        subprocess.run(argv, check=True)
    return so


def c_heap(board, heap_kb):
    """(served, C heap in use after boot, peak above it while 1 TLS connection logs in and
    gets the dashboard), bytes, on unix32tlsc."""
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "cheap.txt"
        env = {"LD_PRELOAD": str(cheap_shim()), "CHEAP_OUT": str(out)}
        fw = start(d, board, "micropython32tlsc", heap_kb, conns=1, env=env)
        try:
            time.sleep(0.5)  # the window starts once the allocations of boot are done
            fw.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            base = int(out.read_text().split()[0])
            ok = login_and_dashboards(fw, 1)
            fw.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            return ok, base, int(out.read_text().split()[1]) - base
        finally:
            fw.stop()


def speed(board, n=100):
    """{tls: (first answer s, answers/s)} for plain and TLS on micropython32tls."""
    res = {}
    for tls in (False, True):
        with tempfile.TemporaryDirectory() as d:
            fw = start(d, board, "micropython32tls", 1024, tls=tls)
            try:
                firsts = []
                for _ in range(10):
                    t0 = time.perf_counter()
                    c = client(fw)
                    c.get("/login")
                    firsts.append(time.perf_counter() - t0)
                    c.close()
                c = client(fw)
                c.get("/login")
                t0 = time.perf_counter()
                for _ in range(n):
                    c.get("/login")
                res[tls] = (sorted(firsts)[len(firsts) // 2], n / (time.perf_counter() - t0))
                c.close()
            finally:
                fw.stop()
    return res


def say(what, board, how, figures):
    if not isinstance(figures, str):
        figures = "smallest GC heap %s KB" % figures
    print("%s: %s, %s: %s" % (what, board, how, figures), flush=True)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("what", nargs="*", help="heap, cheap, speed (default: all three)")
    ap.add_argument("--board", default=None, help="default: rpi_pico_w, esp32 for cheap")
    a = ap.parse_args(argv[1:])
    what = a.what or ("heap", "cheap", "speed")
    if set(what) - {"heap", "cheap", "speed"}:
        ap.error("choose from heap, cheap, speed")
    try:
        for t in ("unix32tls", "unix32tlsc"):
            faithful.build(t)
    except faithful.BuildError as e:
        sys.exit("bench tls: %s" % e)
    if "heap" in what:
        b = a.board or "rpi_pico_w"
        for n in (1, 2):
            kb = common.smallest(lambda k, n=n: serves(b, "micropython32tls", k, n), HEAPS_KB)
            say("heap", b, "unix32tls (mbedtls on the GC heap), %d TLS connection(s)" % n, kb)
    if "cheap" in what:
        b = a.board or "esp32"
        kb = common.smallest(lambda k: serves(b, "micropython32tlsc", k, 1), HEAPS_KB)
        say("cheap", b, "unix32tlsc (mbedtls on the C heap), 1 TLS connection", kb)
        budget = json.loads((common.ROOT / "boards" / b / "board.json").read_text())["heap_kb"]
        ok, base, extra = c_heap(b, budget)
        say(
            "cheap",
            b,
            "at its %d KB GC heap" % budget,
            "served %s; C heap in use after boot "
            "%d B, peak above it with 1 TLS connection %d B" % (ok, base, extra),
        )
    if "speed" in what:
        b = a.board or "rpi_pico_w"
        r = speed(b)
        (pf, pr), (tf, tr) = r[False], r[True]
        say(
            "speed",
            b,
            "micropython32tls",
            "first answer on a new connection TLS/plain %.1fx; "
            "answers/s over one keep-alive connection TLS/plain %.2f" % (tf / pf, tr / pr),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
