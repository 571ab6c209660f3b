"""HTTP benchmark: sessionring's server against the interpreter's limit and against microdot.

Everything runs in one go on this machine, on 127.0.0.1, with wrk as the client:
  (a) tools/bench_servers/raw.py: a minimal asyncio responder (no parsing): the baseline;
  (b) tools/bench_servers/sr_app.py: sessionring serving an authenticated GET
      (session cookie -> ring lookup -> small body);
  (c) tools/bench_servers/microdot_app.py: microdot 2.x, a plain route (MicroPython), and its
      cookie session route (CPython only: it needs PyJWT).
(b) is also measured with the sealed cookie store (tools/bench_http_sealed.py).
(a), (b) and (c) run on the MicroPython unix port from .mpy files compiled by mpy-cross, with
keep-alive and with "Connection: close", at 1 and 16 connections. Heap allocated per request
comes from micropython.mem_total() before and after a run; the smallest -X heapsize at which a
server answers 16 concurrent keep-alive clients with no error is found by bisection. (b)'s
smallest heap is also found on the board-faithful build (tools/faithful.py unix32: 32-bit,
the library frozen in), the figure a board is judged by; the PyPI port's 64-bit figures are
host-only.
Figures are ratios to (a) in the same run. Writes the "http" section of docs/benchmarks.md.

Usage: python tools/bench_http.py [--seconds N] [--no-write]
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchdoc  # noqa: E402
import faithful  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
SERVERS = ROOT / "tools" / "bench_servers"
HEAP_STEPS_K = [12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 72, 80, 96, 112, 128, 144, 160, 192, 256]
TARGETS = {
    "ka1": 0.5,  # (b) >= 0.5 x (a) at 1 keep-alive connection
    "vs_microdot": 3.0,  # (b) >= 3 x microdot's plain route at 16 keep-alive connections
    "alloc": 2048,  # (b) allocates <= 2 KB of heap per authenticated request
    "heap": 64,  # (b) serves 16 keep-alive clients within -X heapsize=64K (64-bit, host-only)
    "heap32": 48,  # the same on the board-faithful build (32-bit, frozen): within 48 KB
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def http_get(port, path, headers=""):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(
            (
                "GET %s HTTP/1.1\r\nHost: b\r\n%sConnection: close\r\n\r\n" % (path, headers)
            ).encode()
        )
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    return data.split(b"\r\n\r\n", 1)[1]


class Server:
    """One server process under test."""

    def __init__(self, argv, env, port):
        self.port = port
        self.proc = subprocess.Popen(
            argv, env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.info = {}
        self.ok = wait_port(port, self.proc)
        # the apps print "key value" lines (token, cookie) before serving
        if self.ok:
            while True:
                line = self.proc.stdout.readline().strip()
                if not line:
                    break
                k, _, v = line.partition(" ")
                self.info[k] = v
                if k == "ready":
                    break

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            _, err = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            err = ""
        return err


def mp_server(mpy_dir, module, port, heap=None, args=()):
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([".frozen", str(mpy_dir)])
    argv = [str(BIN / "micropython")]
    if heap:
        argv += ["-X", "heapsize=%dK" % heap]
    argv += ["-m", module, str(port)] + list(args)
    return Server(argv, env, port)


def faithful_server(app_dir, module, port, heap=None, args=()):
    """A bench server on the board-faithful build (32-bit, library frozen in): only the app's
    own .mpy comes from app_dir."""
    exe = faithful.build("unix32")
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([".frozen", str(app_dir)])
    argv = [str(exe)]
    if heap:
        argv += ["-X", "heapsize=%dK" % heap]
    argv += ["-m", module, str(port)] + list(args)
    return Server(argv, env, port)


def cpy_server(script, port):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "lib"), str(ROOT / "lib" / "hostshim")])
    return Server([str(BIN / "python"), str(SERVERS / script), str(port)], env, port)


def wrk(port, conns, seconds, close=False, headers=(), path="/"):
    argv = ["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d", "%ds" % seconds]
    for h in headers:
        argv += ["-H", h]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append("http://127.0.0.1:%d%s" % (port, path))
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    errs = 0
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if e:
        errs += sum(int(x) for x in e.groups())
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(m.group(1)) if m else 0.0,
        "requests": int(n.group(1)) if n else 0,
        "errors": errs,
        "non2xx": int(bad.group(1)) if bad else 0,
    }


def build(tmp):
    """Compile the library, microdot and the bench servers to .mpy in tmp."""
    out = Path(tmp)

    def mpy(src, dst):
        # -march=host: the unix port runs viper/native code compiled for this machine
        cmd = [str(BIN / "mpy-cross"), "-march=host", "-o", str(dst), str(src)]
        subprocess.run(cmd, check=True)

    (out / "sessionring").mkdir()
    for f in sorted((ROOT / "lib" / "sessionring").glob("*.py")):
        mpy(f, out / "sessionring" / (f.stem + ".mpy"))
    find = "import microdot, os; print(os.path.dirname(microdot.__file__))"
    run = subprocess.run([str(BIN / "python"), "-c", find], capture_output=True, text=True)
    md = Path(run.stdout.strip())
    (out / "microdot").mkdir()
    for name in ("__init__", "microdot"):
        mpy(md / (name + ".py"), out / "microdot" / (name + ".mpy"))
    for f in ("raw", "sr_app", "microdot_app", "sr_sealed_app"):
        mpy(SERVERS / (f + ".py"), out / (f + ".mpy"))


MODES = (("ka1", 1, False), ("ka16", 16, False), ("close1", 1, True), ("close16", 16, True))


def measure(srv, seconds, headers=(), path="/", modes=MODES, alloc=True):
    """Throughput in every mode, then heap allocated per request (keep-alive, 1 connection)."""
    res = {}
    for name, conns, close in modes:
        res[name] = wrk(srv.port, conns, seconds, close, headers, path)
    if alloc:
        a = int(http_get(srv.port, "/_mem"))
        w = wrk(srv.port, 1, max(1, seconds // 2), False, headers, path)
        b = int(http_get(srv.port, "/_mem"))
        res["alloc"] = (b - a) / max(1, w["requests"] + 1)
    res["alive"] = srv.alive()
    return res


def auth(srv):
    # the session cookie of the process (sr_app makes its session at start-up)
    return ("Cookie: sid=" + srv.info["token"],) if "token" in srv.info else ()


def smallest_heap(mpy_dir, module, args=(), path="/", start=None):
    """Smallest heap (KB, from HEAP_STEPS_K) serving 16 keep-alive clients without error."""
    start = start or mp_server

    def passes(k):
        srv = start(mpy_dir, module, free_port(), heap=k, args=args)
        try:
            if not srv.ok:
                return False
            w = wrk(srv.port, 16, 2, False, auth(srv), path)
            return w["requests"] > 0 and not w["errors"] and not w["non2xx"] and srv.alive()
        finally:
            srv.stop()

    lo, hi = 0, len(HEAP_STEPS_K) - 1
    if not passes(HEAP_STEPS_K[hi]):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if passes(HEAP_STEPS_K[mid]):
            hi = mid
        else:
            lo = mid + 1
    return HEAP_STEPS_K[lo]


def heap_breakdown(mpy_dir, start=None, exe=None):
    """Where (b)'s heap goes: module code, one connection slot, one open connection (bytes)."""
    start = start or mp_server
    env = dict(os.environ, MICROPYPATH=os.pathsep.join([".frozen", str(mpy_dir)]))
    code = (
        "import gc\ngc.collect()\na=gc.mem_alloc()\nimport asyncio\ngc.collect()\n"
        "b=gc.mem_alloc()\nimport sessionring.http, sessionring.ring\ngc.collect()\n"
        "print(b-a, gc.mem_alloc()-b)"
    )
    out = subprocess.run(
        [str(exe or BIN / "micropython"), "-c", code], env=env, capture_output=True, text=True
    ).stdout.split()
    res = {"asyncio": int(out[0]), "modules": int(out[1])}
    base = {}
    for slots in (1, 16):
        srv = start(mpy_dir, "sr_app", free_port(), args=(str(slots),))
        try:
            if not srv.ok:
                return None
            cookie = "Cookie: sid=%s\r\n" % srv.info["token"]
            base[slots] = int(http_get(srv.port, "/_heap", cookie))
            if slots == 16:
                socks = []
                for _ in range(15):  # 15 keep-alive connections, one request each
                    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
                    s.sendall(("GET / HTTP/1.1\r\nHost: b\r\n%s\r\n" % cookie).encode())
                    s.recv(1000)
                    socks.append(s)
                res["connection"] = (int(http_get(srv.port, "/_heap", cookie)) - base[16]) / 15
                for s in socks:
                    s.close()
        finally:
            srv.stop()
    res["slot"] = (base[16] - base[1]) / 15
    res["idle"] = base[16]
    return res


def fmt_rps(r, base=None):
    if not r or not r["rps"]:
        return "n/a"
    s = "%.0f" % r["rps"]
    if base and base["rps"]:
        s = "**%.2fx** (%s)" % (r["rps"] / base["rps"], s)
    if r["errors"] or r["non2xx"]:
        s += " (%d errors, %d non-2xx)" % (r["errors"], r["non2xx"])
    return s


def report(mp, cp, heaps, seconds):
    a, b, c = mp["a"], mp["b"], mp["c"]
    lines = [
        "## HTTP server (`make bench-http`)",
        "",
        "Command: `make bench-http`, which runs `python tools/bench_http.py` (wrk on 127.0.0.1, "
        "%d s per run; MicroPython servers run from .mpy files compiled by mpy-cross)." % seconds,
        benchdoc.machine_line(),
        "",
        "- (a) `tools/bench_servers/raw.py`: a minimal asyncio responder, no parsing: "
        "the interpreter's limit and the baseline of every ratio.",
        "- (b) `tools/bench_servers/sr_app.py`: sessionring, an authenticated GET "
        "(session cookie -> ring lookup -> small body); a request without a valid session "
        "would get 401 and count as an error.",
        "- (c) `tools/bench_servers/microdot_app.py`: microdot 2.x from PyPI, a plain route.",
        "",
        "### Requests per second on the MicroPython unix port (ratio to (a))",
        "",
        "| server | keep-alive, 1 conn | keep-alive, 16 conns | close, 1 conn | close, 16 conns |",
        "|---|---|---|---|---|",
    ]
    for key, label in (
        ("a", "(a) raw asyncio"),
        ("b", "(b) sessionring, authenticated"),
        ("c", "(c) microdot, plain route"),
    ):
        r = mp[key]
        cells = [fmt_rps(r[m], None if key == "a" else a[m]) for m, _, _ in MODES]
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    lines += [
        "",
        "### Memory on the MicroPython unix port (a 64-bit build: objects and frames take"
        " about twice what they take on a 32-bit board; buffers do not)",
        "",
        "| server | heap allocated per request | smallest `-X heapsize`, 16 keep-alive clients |",
        "|---|---|---|",
    ]
    for key, label in (
        ("a", "(a) raw asyncio"),
        ("b", "(b) sessionring, authenticated"),
        ("c", "(c) microdot, plain route"),
    ):
        h = heaps.get(key)
        lines.append(
            "| %s | %.0f B (%.2fx) | %s |"
            % (
                label,
                mp[key]["alloc"],
                mp[key]["alloc"] / a["alloc"],
                ("%d KB" % h) if h else "more than %d KB" % HEAP_STEPS_K[-1],
            )
        )
    h32 = heaps.get("b32")
    lines += [
        "",
        "### Memory on the board-faithful build (32-bit, library frozen in)",
        "",
        "`tools/faithful.py unix32`: MicroPython v1.28.0 as a 32-bit unix binary with the "
        "library frozen (as on a board: its code stays in the image, not the heap); only "
        "sr_app.py comes from a .mpy. The figures above are the 64-bit PyPI port's: host-only.",
        "",
        "| server | smallest heap, 16 keep-alive authenticated clients |",
        "|---|---|",
        "| (b) sessionring, authenticated, 16 slots | %s |"
        % (("%d KB" % h32) if h32 else "more than %d KB" % HEAP_STEPS_K[-1]),
    ]
    bd32 = mp.get("breakdown32")
    if bd32:
        lines += [
            "",
            "Where it goes on the faithful build: asyncio %.1f KB, sessionring's modules "
            "(frozen: globals and objects only) %.1f KB, each connection slot %.1f KB, each open "
            "keep-alive connection %.1f KB more, %.1f KB in use with 16 slots before any "
            "connection; 16 open connections then hold about %.1f KB and the rest of the "
            "smallest heap is room for per-request garbage between collections."
            % (
                bd32["asyncio"] / 1024,
                bd32["modules"] / 1024,
                bd32["slot"] / 1024,
                bd32["connection"] / 1024,
                bd32["idle"] / 1024,
                bd32["idle"] / 1024 + 16 * bd32["connection"] / 1024,
            ),
        ]
        if not (h32 and h32 <= TARGETS["heap32"]):
            lines += [
                "",
                "Within %d KB is out of reach with 16 slots of 2 KB request buffers: the "
                "buffers alone take 32 KB and, with 16 connections open, the heap holds "
                "%.1f KB before any request. It would take smaller buffers (a 1 KB buffer "
                "and a MAX_HEAD of 1 KB save 16 KB at 16 slots), fewer "
                "preallocated slots than connections, or less per-connection state in "
                "asyncio's streams and tasks."
                % (TARGETS["heap32"], bd32["idle"] / 1024 + 16 * bd32["connection"] / 1024),
            ]
    bd = mp.get("breakdown")
    if bd:
        lines += [
            "",
            "Where (b)'s heap goes (`gc.mem_alloc()` after a collection): asyncio %.1f KB; "
            "sessionring's modules loaded from .mpy %.1f KB; each of the %d preallocated "
            "connection slots %.1f KB (its %d-byte request buffer, its Request and session view); "
            "each open keep-alive connection %.1f KB more (asyncio task and stream, coroutine "
            "frames); %.1f KB in use with 16 slots before any connection. The rest of the "
            "smallest heap is room for per-request garbage between collections."
            % (
                bd["asyncio"] / 1024,
                bd["modules"] / 1024,
                16,
                bd["slot"] / 1024,
                2048,
                bd["connection"] / 1024,
                bd["idle"] / 1024,
            ),
        ]
    if cp:
        lines += [
            "",
            "### Session lookups on CPython %s (ratio to sessionring)" % sys.version.split()[0],
            "",
            "| server | keep-alive, 1 conn | keep-alive, 16 conns |",
            "|---|---|---|",
        ]
        base = cp["b"]
        lines.append(
            "| sessionring, authenticated GET | %s | %s |"
            % (fmt_rps(base["ka1"]), fmt_rps(base["ka16"]))
        )
        if "c" in cp:
            lines.append(
                "| microdot, session route (JWT cookie) | %s | %s |"
                % (fmt_rps(cp["c"]["ka1"], base["ka1"]), fmt_rps(cp["c"]["ka16"], base["ka16"]))
            )
        else:
            lines.append("| microdot, session route | not measured: PyJWT is not installed | |")
    # targets
    t_ka1 = b["ka1"]["rps"] / a["ka1"]["rps"] if a["ka1"]["rps"] else 0
    t_md = b["ka16"]["rps"] / c["ka16"]["rps"] if c["ka16"]["rps"] else 0
    hb = heaps.get("b")
    h32 = heaps.get("b32")
    clean = all(not (b[m]["errors"] or b[m]["non2xx"]) for m, _, _ in MODES)
    rows = [
        ("(b) >= 0.5x (a) at 1 keep-alive connection", "%.2fx" % t_ka1, t_ka1 >= TARGETS["ka1"]),
        (
            "(b) >= 3x microdot's plain route at 16 keep-alive connections",
            "%.2fx" % t_md,
            t_md >= TARGETS["vs_microdot"],
        ),
        (
            "(b) <= 2 KB heap per authenticated request",
            "%.0f B" % b["alloc"],
            b["alloc"] <= TARGETS["alloc"],
        ),
        (
            "(b) serves 16 keep-alive clients within `-X heapsize=64K` (64-bit port, host-only)",
            ("%d KB" % hb) if hb else "no",
            bool(hb and hb <= TARGETS["heap"]),
        ),
        (
            "(b) serves 16 keep-alive authenticated clients within 48 KB (faithful build)",
            ("%d KB" % h32) if h32 else "no",
            bool(h32 and h32 <= TARGETS["heap32"]),
        ),
        (
            "(b) answers every benchmark request with 2xx and no socket error",
            "yes" if clean else "no",
            clean,
        ),
    ]
    lines += ["", "### Targets", "", "| target | measured | |", "|---|---|---|"]
    for name, got, ok in rows:
        lines.append("| %s | %s | %s |" % (name, got, "PASS" if ok else "MISS"))
    return "\n".join(lines) + "\n", rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    ap.add_argument("--no-write", action="store_true", help="print, leave docs/ alone")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench_http: wrk is not installed (tools/setup.sh installs it)")
    t0 = time.monotonic()
    mp, cp, heaps = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="sr-bench-") as tmp:
        build(tmp)
        for key, module in (("a", "raw"), ("b", "sr_app"), ("c", "microdot_app")):
            srv = mp_server(tmp, module, free_port())
            try:
                if not srv.ok:
                    sys.exit("bench_http: %s did not start: %s" % (module, srv.stop()))
                mp[key] = measure(srv, args.seconds, auth(srv))
                print(key, module, {k: v for k, v in mp[key].items()}, flush=True)
            finally:
                srv.stop()
        for key, module in (("a", "raw"), ("b", "sr_app"), ("c", "microdot_app")):
            heaps[key] = smallest_heap(tmp, module)
            print(key, "smallest heap", heaps[key], "KB", flush=True)
        mp["breakdown"] = heap_breakdown(tmp)
        print("breakdown", mp["breakdown"], flush=True)
        # the board-faithful build: only the app's .mpy, from the build's own mpy-cross
        fdir = Path(tmp) / "faithful"
        fdir.mkdir()
        exe = faithful.build("unix32")
        mpyc = faithful.OUT / "mpy-cross" / "mpy-cross"
        src, dst = SERVERS / "sr_app.py", fdir / "sr_app.mpy"
        subprocess.run([str(mpyc), "-o", str(dst), str(src)], check=True)
        heaps["b32"] = smallest_heap(fdir, "sr_app", start=faithful_server)
        print("b faithful smallest heap", heaps["b32"], "KB", flush=True)
        mp["breakdown32"] = heap_breakdown(fdir, start=faithful_server, exe=exe)
        print("breakdown faithful", mp["breakdown32"], flush=True)
        import bench_http_sealed  # (b) with the sealed store, beside the ring

        sealed = bench_http_sealed.run(tmp, args.seconds, sys.modules[__name__])
    # CPython: sessionring's authenticated GET next to microdot's session route
    ka = MODES[:2]
    srv = cpy_server("sr_app.py", free_port())
    try:
        if srv.ok:
            cp["b"] = measure(srv, args.seconds, auth(srv), "/", ka, alloc=False)
    finally:
        srv.stop()
    srv = cpy_server("microdot_app.py", free_port())
    try:
        if srv.ok and "cookie" in srv.info:
            cp["c"] = measure(
                srv, args.seconds, ("Cookie: " + srv.info["cookie"],), "/s", ka, alloc=False
            )
    finally:
        srv.stop()
    print("cpython", cp, flush=True)
    md, rows = report(mp, cp, heaps, args.seconds)
    md += bench_http_sealed.section(sealed)
    md += "\nTook %.0f s.\n" % (time.monotonic() - t0)
    print(md)
    if not args.no_write:
        benchdoc.write_section("http", md)
    # like the other benchmarks: a missed target makes `make bench` say so
    return 0 if all(ok for _, _, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
