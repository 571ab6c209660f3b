"""`python tools/bench http [--seconds N --no-write]` (`make bench-http`): sessionring's server
against the interpreter's limit and against microdot, with wrk on 127.0.0.1; the servers are
SERVED below, with the sealed store beside the ring (STORES). Keep-alive and "Connection:
close", 1 and 16 connections, on the MicroPython unix port from .mpy files; heap allocated per
request from micropython.mem_total() (the 64-bit port's, host-only: the board-faithful heap
figures are bench heap's); CPython's figures beside microdot's session route (it needs PyJWT).
Ratios to (a) in the same run. Writes the "http" section of docs/benchmarks.md.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import fwclient
from bench import common
from bench.common import SERVERS, free_port, http_get, table, wrk

MODES = (("ka1", 1, False), ("ka16", 16, False), ("close1", 1, True), ("close16", 16, True))
RPS_HEAD = "keep-alive, 1 conn | keep-alive, 16 conns | close, 1 conn | close, 16 conns"


def mp_server(mpy_dir, module, port, heap=None, args=()):
    return common.serve(common.tool("micropython"), mpy_dir, module, port, heap, args)


def cpy_server(script, port, args=()):
    argv = [sys.executable, str(SERVERS / script), str(port)] + list(args)
    return common.Server(argv, common.cpython_env(), port)


def build(tmp):
    """Compile the library, microdot and the bench servers to .mpy in tmp."""
    lib = sorted((common.ROOT / "lib" / "sessionring").glob("*.py"))
    md = [common.microdot_dir() / f for f in common.MICRODOT_FILES]
    apps = [SERVERS / (f + ".py") for f in ("raw", "sr_app", "microdot_app")]
    for sub, files in (("sessionring", lib), ("microdot", md), ("", apps)):
        (Path(tmp) / sub).mkdir(exist_ok=True)
        for f in files:
            common.mpy_cross(f, Path(tmp) / sub / (f.stem + ".mpy"))


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


def fmt_rps(r, base=None):
    if not r or not r["rps"]:
        return "n/a"
    s = "%.0f" % r["rps"]
    if base and base["rps"]:
        s = "**%.2fx** (%s)" % (r["rps"] / base["rps"], s)
    if r["errors"] or r["non2xx"]:
        s += " (%d errors, %d non-2xx)" % (r["errors"], r["non2xx"])
    return s


SERVERS_LABELS = (
    ("a", "(a) raw asyncio"),
    ("b", "(b) sessionring, authenticated"),
    ("c", "(c) microdot, plain route"),
)


SERVED = """\
- (a) `tools/bench/servers/raw.py`: a minimal asyncio responder, no parsing: the interpreter's \
limit and the baseline of every ratio.
- (b) `tools/bench/servers/sr_app.py`: sessionring, an authenticated GET (session cookie -> ring \
lookup -> small body); a request without a valid session would get 401 and count as an error.
- (c) `tools/bench/servers/microdot_app.py`: microdot 2.x from PyPI, a plain route."""


def report(mp, cp, seconds):
    a, b, c = mp["a"], mp["b"], mp["c"]
    rps = [
        [label] + [fmt_rps(mp[k][m], None if k == "a" else a[m]) for m, _, _ in MODES]
        for k, label in SERVERS_LABELS
    ]
    alloc = [
        (label, "%.0f B (%.2fx)" % (mp[k]["alloc"], mp[k]["alloc"] / a["alloc"]))
        for k, label in SERVERS_LABELS
    ]
    lines = [
        "## HTTP server (`make bench-http`)",
        "",
        "Command: `make bench-http`, which runs `python tools/bench http` (wrk on 127.0.0.1, "
        "%d s per run; MicroPython servers run from .mpy files compiled by mpy-cross)." % seconds,
        common.machine_line(),
        "",
        SERVED,
        "",
        "### Requests per second on the MicroPython unix port (ratio to (a))",
        "",
        table("server | " + RPS_HEAD, rps),
        "",
        "### Heap allocated per request on the MicroPython unix port",
        "",
        "A 64-bit build: objects and frames take about twice what they take on a 32-bit board. "
        'The board-faithful heap figures (32-bit, frozen): the "heap" section.',
        "",
        table("server | heap allocated per request", alloc),
    ]
    if cp:
        base, md = cp["b"], cp.get("c")
        rows = [("sessionring, authenticated GET", fmt_rps(base["ka1"]), fmt_rps(base["ka16"]))]
        if md:
            ratios = (fmt_rps(md[k], base[k]) for k in ("ka1", "ka16"))
            rows.append(("microdot, session route (JWT cookie)",) + tuple(ratios))
        else:
            rows.append(("microdot, session route", "not measured: PyJWT is not installed", ""))
        lines += [
            "",
            "### Session lookups on CPython %s (ratio to sessionring)" % sys.version.split()[0],
            "",
            table("server | keep-alive, 1 conn | keep-alive, 16 conns", rows),
        ]
    t_ka1 = b["ka1"]["rps"] / a["ka1"]["rps"] if a["ka1"]["rps"] else 0
    t_md = b["ka16"]["rps"] / c["ka16"]["rps"] if c["ka16"]["rps"] else 0
    clean = all(not (b[m]["errors"] or b[m]["non2xx"]) for m, _, _ in MODES)
    rows = [
        ("(b) >= 0.5x (a) at 1 keep-alive connection", "%.2fx" % t_ka1, t_ka1 >= 0.5),
        (
            "(b) >= 3x microdot's plain route at 16 keep-alive connections",
            "%.2fx" % t_md,
            t_md >= 3,
        ),
        ("(b) <= 2 KB heap per authenticated request", "%.0f B" % b["alloc"], b["alloc"] <= 2048),
        (
            "(b) answers every request with 2xx and no socket error",
            "yes" if clean else "no",
            clean,
        ),
    ]
    targets, status = common.verdict(rows)
    return "\n".join(lines + ["", "### Targets", "", targets]) + "\n", status


REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: sid=%s\r\n\r\n"


def wire(port, token):
    # (request bytes, answer bytes) of one authenticated GET as wrk sends it (keep-alive)
    req = (REQUEST % (port, token)).encode()
    _, head, body = fwclient.exchange(port, req)
    return len(req), len(head) + 4 + len(body)  # 4: the blank line after the head


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


STORES = (
    "`tools/bench/servers/sr_app.py PORT 16 sealed`: (b) with `SealedStore` in place of the "
    "ring, its session as the admin app's after a login (a 32-character CSRF token and the "
    "client address in its data), measured right after (b) with the ring in the same run. "
    "Ratios to the ring; no re-seal happens within a run (the cookie is younger than half "
    "the idle timeout), so every request opens the cookie and sends no Set-Cookie."
)


def stores_section(res):
    """Markdown: the sealed store beside the ring."""
    ring, sealed = res["mp"].get("ring"), res["mp"].get("sealed")
    rows = []
    if not (ring and sealed):
        rows.append(("not measured: a server did not start", "", ""))
    else:
        for leg, name in (("mp", "MicroPython"), ("cp", "CPython")):
            r, z = res[leg].get("ring"), res[leg].get("sealed")
            for key, n in (("ka1", "1 conn"), ("ka16", "16 conns")):
                if r and z:
                    label = "requests/s, %s, keep-alive, %s" % (name, n)
                    rows.append((label, "%.0f" % r[key]["rps"], fmt_rps(z[key], r[key])))
        x = sealed["alloc"] / max(1.0, ring["alloc"])
        heap = ("%.0f B" % ring["alloc"], "%.0f B (**%.1fx**)" % (sealed["alloc"], x))
        rows += [
            ("heap allocated per request, MicroPython",) + heap,
            ("cookie value", "%d B" % ring["token"], "%d B" % sealed["token"]),
            ("bytes on the wire per request (request + answer)",)
            + tuple("%d + %d" % r["wire"] for r in (ring, sealed)),
        ]
    head = "### The sealed cookie store beside the ring (server (b))"
    return "\n%s\n\n%s\n\n%s\n" % (head, STORES, table(" | ring | sealed", rows))


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=3, help="length of each wrk run")
    ap.add_argument("--no-write", action="store_true", help="print, leave docs/ alone")
    args = ap.parse_args(argv[1:])
    t0 = time.monotonic()
    mp, cp = {}, {}
    with tempfile.TemporaryDirectory(prefix="sr-bench-") as tmp:
        build(tmp)
        for key, module in (("a", "raw"), ("b", "sr_app"), ("c", "microdot_app")):
            with mp_server(tmp, module, free_port()) as srv:
                if not srv.ok:
                    sys.exit("bench http: %s did not start: %s" % (module, srv.stop()))
                mp[key] = measure(srv, args.seconds, auth(srv))
                print(key, module, mp[key], flush=True)
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
    md, status = report(mp, cp, args.seconds)
    md += stores_section(sealed)
    md += "\nTook %.0f s.\n" % (time.monotonic() - t0)
    print(md)
    if not args.no_write:
        common.write_section("http", md)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
