"""HTTP benchmark: sessionring's server against the interpreter's limit and against microdot.

Everything runs in one go on this machine, on 127.0.0.1, with wrk as the client:
  (a) tools/bench/servers/raw.py: a minimal asyncio responder (no parsing): the baseline;
  (b) tools/bench/servers/sr_app.py: sessionring serving an authenticated GET
      (session cookie -> ring lookup -> small body);
  (c) tools/bench/servers/microdot_app.py: microdot 2.x, a plain route (MicroPython), and its
      cookie session route (CPython only: it needs PyJWT).
(b) is also measured with the sealed cookie store (servers/sr_app.py PORT 16 sealed).
(a), (b) and (c) run on the MicroPython unix port from .mpy files compiled by mpy-cross, with
keep-alive and with "Connection: close", at 1 and 16 connections. Heap allocated per request
comes from micropython.mem_total() before and after a run; the smallest -X heapsize at which a
server answers 16 concurrent keep-alive clients with no error is found by bisection. These are
the 64-bit PyPI port's figures, host-only: the board-faithful ones (32-bit, frozen, beside
microdot) are the "heap" section's (bench/heap.py).
Figures are ratios to (a) in the same run. Writes the "http" section of docs/benchmarks.md.

Usage: python tools/bench http [-- --seconds N --no-write]
"""

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

from bench import common
from bench.common import HEAP_STEPS_K, SERVERS, free_port, http_get, wrk

TARGETS = {
    "ka1": 0.5,  # (b) >= 0.5 x (a) at 1 keep-alive connection
    "vs_microdot": 3.0,  # (b) >= 3 x microdot's plain route at 16 keep-alive connections
    "alloc": 2048,  # (b) allocates <= 2 KB of heap per authenticated request
    "heap": 64,  # (b) serves 16 keep-alive clients within -X heapsize=64K (64-bit, host-only)
}
MODES = (("ka1", 1, False), ("ka16", 16, False), ("close1", 1, True), ("close16", 16, True))


def mp_server(mpy_dir, module, port, heap=None, args=()):
    return common.serve(common.tool("micropython"), mpy_dir, module, port, heap, args)


def cpy_server(script, port, args=()):
    argv = [sys.executable, str(SERVERS / script), str(port)] + list(args)
    return common.Server(argv, common.cpython_env(), port)


def build(tmp):
    """Compile the library, microdot and the bench servers to .mpy in tmp."""
    out = Path(tmp)
    (out / "sessionring").mkdir()
    for f in sorted((common.ROOT / "lib" / "sessionring").glob("*.py")):
        common.mpy_cross(f, out / "sessionring" / (f.stem + ".mpy"))
    (out / "microdot").mkdir()
    for name in common.MICRODOT_FILES:
        common.mpy_cross(
            common.microdot_dir() / name, out / "microdot" / name.replace(".py", ".mpy")
        )
    for f in ("raw", "sr_app", "microdot_app"):
        common.mpy_cross(SERVERS / (f + ".py"), out / (f + ".mpy"))


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


def smallest_heap(mpy_dir, module, path="/"):
    """Smallest heap (KB) serving 16 keep-alive clients without error."""

    def passes(k):
        with mp_server(mpy_dir, module, free_port(), heap=k) as srv:
            if not srv.ok:
                return False
            w = wrk(srv.port, 16, 2, False, auth(srv), path)
            return w["requests"] > 0 and not w["errors"] and not w["non2xx"] and srv.alive()

    return common.smallest(passes)


def heap_breakdown(mpy_dir):
    """Where (b)'s heap goes: module code, one connection slot, one open connection (bytes)."""
    code = common.import_probe("asyncio", "sessionring.http, sessionring.ring")
    k = common.probe(common.tool("micropython"), code, common.mp_env(mpy_dir))
    res = {"asyncio": k[0], "modules": k[1]}
    base = {}
    for slots in (1, 16):
        srv = mp_server(mpy_dir, "sr_app", free_port(), args=(str(slots),))
        try:
            if not srv.ok:
                return None
            cookie = "Cookie: sid=%s\r\n" % srv.info["token"]
            hdr = [("Cookie", "sid=" + srv.info["token"])]
            base[slots] = int(http_get(srv.port, "/_heap", hdr))
            if slots == 16:
                socks = []
                for _ in range(15):  # 15 keep-alive connections, one request each
                    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
                    s.sendall(("GET / HTTP/1.1\r\nHost: b\r\n%s\r\n" % cookie).encode())
                    s.recv(1000)
                    socks.append(s)
                res["connection"] = (int(http_get(srv.port, "/_heap", hdr)) - base[16]) / 15
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
        "Command: `make bench-http`, which runs `python tools/bench http` (wrk on 127.0.0.1, "
        "%d s per run; MicroPython servers run from .mpy files compiled by mpy-cross)." % seconds,
        common.machine_line(),
        "",
        "- (a) `tools/bench/servers/raw.py`: a minimal asyncio responder, no parsing: "
        "the interpreter's limit and the baseline of every ratio.",
        "- (b) `tools/bench/servers/sr_app.py`: sessionring, an authenticated GET "
        "(session cookie -> ring lookup -> small body); a request without a valid session "
        "would get 401 and count as an error.",
        "- (c) `tools/bench/servers/microdot_app.py`: microdot 2.x from PyPI, a plain route.",
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
    lines += ["", 'The board-faithful (32-bit, frozen) heap figures: the "heap" section.']
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
            "(b) answers every benchmark request with 2xx and no socket error",
            "yes" if clean else "no",
            clean,
        ),
    ]
    table, status = common.verdict(rows)
    return "\n".join(lines + ["", "### Targets", "", table]) + "\n", status


REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: sid=%s\r\n\r\n"


def wire(port, token):
    # (request bytes, answer bytes) of one authenticated GET as wrk sends it (keep-alive)
    req = (REQUEST % (port, token)).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(req)
        data = b""
        while b"hello admin\n" not in data:
            d = s.recv(65536)
            if not d:
                break
            data += d
    return len(req), len(data)


def stores(tmp, seconds):
    """(b) with each store, one after the other: {"mp": {"ring", "sealed"}, "cp": {...}}."""
    out = {"mp": {}, "cp": {}}
    for store in ("ring", "sealed"):
        a = ("16", store)
        for leg, srv in (
            ("mp", lambda a=a: mp_server(tmp, "sr_app", free_port(), args=a)),
            ("cp", lambda a=a: cpy_server("sr_app.py", free_port(), args=a)),
        ):
            with srv() as srv:
                if srv.ok:
                    r = measure(srv, seconds, auth(srv), "/", MODES[:2], alloc=leg == "mp")
                    r["token"] = len(srv.info["token"])
                    r["wire"] = wire(srv.port, srv.info["token"])
                    out[leg][store] = r
    print("sealed vs ring", out, flush=True)
    return out


def _ratio(r, base, key):
    s = "**%.2fx** (%.0f)" % (r[key]["rps"] / max(1.0, base[key]["rps"]), r[key]["rps"])
    if r[key]["errors"] or r[key]["non2xx"]:
        s += " (%d errors, %d non-2xx)" % (r[key]["errors"], r[key]["non2xx"])
    return s


def stores_section(res):
    """Markdown: the sealed store beside the ring."""
    ring, sealed = res["mp"].get("ring"), res["mp"].get("sealed")
    lines = [
        "",
        "### The sealed cookie store beside the ring (server (b))",
        "",
        "`tools/bench/servers/sr_app.py PORT 16 sealed`: (b) with `SealedStore` in place of the "
        "ring, its session as the admin app's after a login (a 32-character CSRF token and the "
        "client address in its data), measured right after (b) with the ring in the same run. "
        "Ratios to the ring; no re-seal happens within a run (the cookie is younger than half "
        "the idle timeout), so every request opens the cookie and sends no Set-Cookie.",
        "",
        "| | ring | sealed |",
        "|---|---|---|",
    ]
    if not (ring and sealed):
        return "\n".join(lines + ["| not measured: a server did not start | | |"]) + "\n"
    for leg, name in (("mp", "MicroPython"), ("cp", "CPython")):
        r, z = res[leg].get("ring"), res[leg].get("sealed")
        for key, n in (("ka1", "1 conn"), ("ka16", "16 conns")):
            if r and z:
                lines.append(
                    "| requests/s, %s, keep-alive, %s | %.0f | %s |"
                    % (name, n, r[key]["rps"], _ratio(z, r, key))
                )
    lines += [
        "| heap allocated per request, MicroPython | %.0f B | %.0f B (**%.1fx**) |"
        % (ring["alloc"], sealed["alloc"], sealed["alloc"] / max(1.0, ring["alloc"])),
        "| cookie value | %d B | %d B |" % (ring["token"], sealed["token"]),
        "| bytes on the wire per request (request + answer) | %d + %d | %d + %d |"
        % (ring["wire"] + sealed["wire"]),
    ]
    return "\n".join(lines) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    ap.add_argument("--no-write", action="store_true", help="print, leave docs/ alone")
    args = ap.parse_args(argv[1:])
    t0 = time.monotonic()
    mp, cp, heaps = {}, {}, {}
    with tempfile.TemporaryDirectory(prefix="sr-bench-") as tmp:
        build(tmp)
        for key, module in (("a", "raw"), ("b", "sr_app"), ("c", "microdot_app")):
            with mp_server(tmp, module, free_port()) as srv:
                if not srv.ok:
                    sys.exit("bench http: %s did not start: %s" % (module, srv.stop()))
                mp[key] = measure(srv, args.seconds, auth(srv))
                print(key, module, mp[key], flush=True)
        for key, module in (("a", "raw"), ("b", "sr_app"), ("c", "microdot_app")):
            heaps[key] = smallest_heap(tmp, module)
            print(key, "smallest heap", heaps[key], "KB", flush=True)
        mp["breakdown"] = heap_breakdown(tmp)
        print("breakdown", mp["breakdown"], flush=True)
        sealed = stores(tmp, args.seconds)
    # CPython: sessionring's authenticated GET next to microdot's session route
    ka = MODES[:2]
    with cpy_server("sr_app.py", free_port()) as srv:
        if srv.ok:
            cp["b"] = measure(srv, args.seconds, auth(srv), "/", ka, alloc=False)
    with cpy_server("microdot_app.py", free_port()) as srv:
        if srv.ok and "cookie" in srv.info:
            cookie = ("Cookie: " + srv.info["cookie"],)
            cp["c"] = measure(srv, args.seconds, cookie, "/s", ka, alloc=False)
    print("cpython", cp, flush=True)
    md, status = report(mp, cp, heaps, args.seconds)
    md += stores_section(sealed)
    md += "\nTook %.0f s.\n" % (time.monotonic() - t0)
    print(md)
    if not args.no_write:
        common.write_section("http", md)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
