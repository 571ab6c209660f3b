"""Firmware benchmark: the admin firmware's own pages, as `make run` starts it, logged in.

    python tools/bench firmware [--seconds N] [--py micropython|micropython32]...
                                [--route NAME]... [--no-write] [--sessions sealed [--requests N]]

With wrk on 127.0.0.1, on the PyPI MicroPython unix port and on the board-faithful build
(tools/faithful.py unix32), the ROUTES below against the raw asyncio responder run next to them
(ABOUT states the method, as the "firmware" section of docs/benchmarks.md does), and the sealed
store's GET /api/status. --route: only these routes, printed as JSON, docs/ left alone.
--sessions sealed: only the sealed store's heap per GET /api/status, from N keep-alive requests
on one connection, no wrk, printed as JSON with a PASS/MISS line against its target.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import faithful
from bench import common
from bench.common import free_port, wrk
from fwclient import Client, Firmware

RAW = common.SERVERS / "raw.py"
PASSWORD = "bench-firmware-password"

# name, method, path, logged in, expected status, label
ROUTES = (
    ("status", "GET", "/api/status", True, 200, "GET /api/status (JSON)"),
    ("dashboard", "GET", "/", True, 200, "GET / (dashboard)"),
    ("sessions", "GET", "/sessions", True, 200, "GET /sessions"),
    ("login", "GET", "/login", False, 200, "GET /login (anonymous form)"),
    ("404", "GET", "/nosuch", True, 404, "GET /nosuch (404)"),
    ("csrf", "POST", "/login", False, 403, "POST /login, bad CSRF (403)"),
)
INTERPRETERS = (
    ("micropython", "PyPI unix port (64-bit, from .py)"),
    ("micropython32", "faithful build (32-bit, frozen)"),
)
TARGETS = {
    "status_ka1": 0.5,  # /api/status >= 0.5x raw at 1 keep-alive connection
    "dashboard_ka1": 0.25,  # the dashboard >= 0.25x raw at 1 keep-alive connection
    "status_alloc": 1536,  # heap per /api/status request <= 1.5 KB (faithful build)
    "dashboard_alloc": 3072,  # heap per dashboard request <= 3 KB (faithful build)
    "sealed_alloc": 2560,  # heap per sealed /api/status request <= 2.5 KB (faithful build)
}
ROUNDS = 3  # 1-connection runs (the targets' figures): raw and firmware alternate this often
POST_BODY = "username=admin&password=wrong&csrf=bad"


def log_in(port):
    """The session cookie of a form login, as a browser does it."""
    c = Client(port)
    r = c.login(PASSWORD)
    if r.status != 303 or "sid" not in c.cookies:
        raise RuntimeError("POST /login: %d, no session cookie" % r.status)
    return "sid=" + c.cookies["sid"]


def allocated(a, b, requests):
    # Bytes per request between two mem_total() readings. A 32-bit build returns the counter as
    # a 31-bit small int, which wraps every 2 GB allocated: a delta is taken modulo 2**31.
    d = b - a
    if d < 0:
        d += 1 << 31
    return d / max(1, requests + 1)


def mem_total(port):
    r = Client(port).get("/_mem")
    if r.status != 200:
        raise RuntimeError("GET /_mem: %d (no SESSIONRING_BENCH at boot?)" % r.status)
    return int(r.body)


def firmware(py, folder, sessions=None, **profile):
    """The firmware as `make run` starts it, with the /_mem route (SESSIONRING_BENCH); profile:
    changes to the unix board's sections (server=..., store=...)."""
    env = {"SESSIONRING_BENCH": "1", "SESSIONRING_SESSIONS": sessions}
    fw = Firmware(py, folder, profile, PASSWORD, fast=False, env=env)
    try:
        return fw.start()
    except AssertionError as e:
        raise RuntimeError("the firmware did not start: %s" % e) from None


def raw_server(py, tmp):
    d = Path(tmp) / ("raw-" + py)
    d.mkdir(exist_ok=True)
    exe = faithful.build("unix32") if py == "micropython32" else common.tool("micropython")
    common.mpy_cross(RAW, d / "raw.mpy", py == "micropython32")  # after the build: its mpy-cross
    return common.serve(exe, d, "raw", free_port())


def post_script(tmp):
    path = Path(tmp) / "post.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.body = "%s"\n'
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n' % POST_BODY
    )
    return path


def wrk_run(port, conns, seconds, route, cookie, script):
    name, method, path, logged_in = route[:4]
    headers = ("Cookie: " + cookie,) if logged_in else ()
    return wrk(port, conns, seconds, False, headers, path, script if method == "POST" else None)


def check_route(port, route, cookie):
    # One request first: the route answers what it should (else the figures mean nothing).
    name, method, path, logged_in, want = route[:5]
    hs = {"Cookie": cookie} if logged_in else {}
    body = None
    if method == "POST":
        hs["Content-Type"] = "application/x-www-form-urlencoded"
        body = POST_BODY
    status = Client(port).request(method, path, body, hs, origin=False).status
    if status != want:
        raise RuntimeError("%s %s answered %d, not %d" % (method, path, status, want))


def paired(raw, srv, conns, seconds, route, cookie, script, rounds=1):
    """Firmware runs alternating with raw runs on the same interpreter, raw first (the machine
    is shared: a baseline taken minutes apart would not compare). The firmware's figures
    (requests summed, requests per second the median of the rounds), with "base": the raw
    responder's median requests per second."""
    bases, rps, out = [], [], None
    for _ in range(rounds):
        bases.append(wrk(raw.port, conns, seconds)["rps"])
        r = wrk_run(srv.port, conns, seconds, route, cookie, script)
        rps.append(r["rps"])
        if out is None:
            out = r
        else:
            for k in ("requests", "errors", "non2xx"):
                out[k] += r[k]
    out["rps"] = sorted(rps)[rounds // 2]
    out["base"] = sorted(bases)[rounds // 2]
    # answers that were not the route's expected kind (wrk counts non-2xx/3xx only)
    bad = out["non2xx"] if route[4] < 400 else out["requests"] - out["non2xx"]
    out["wrong"] = out["errors"] + bad
    return out


def measure_firmware(py, folder, seconds, script, raw, res):
    cap16 = {"server": {"max_conns": 16, "max_per_client": 0}}
    for capname, prof in (("cap", {}), ("cap16", cap16)):
        srv = firmware(py, folder, **prof)
        try:
            cookie = log_in(srv.port)
            for route in ROUTES:
                name = route[0]
                check_route(srv.port, route, cookie)
                row = res.setdefault(name, {})
                if capname == "cap":
                    row["ka1"] = one_conn(raw, srv, seconds, route, cookie, script)
                row["ka16_" + capname] = paired(raw, srv, 16, seconds, route, cookie, script)
                print(py, capname, name, row, flush=True)
            if not srv.alive():
                raise RuntimeError("the firmware died:\n" + srv.output[-2000:])
        finally:
            srv.stop()


def one_conn(raw, srv, seconds, route, cookie, script):
    # The 1-connection figures (ROUNDS alternations with raw) and the heap per request.
    a = mem_total(srv.port)
    r = paired(raw, srv, 1, seconds, route, cookie, script, ROUNDS)
    r["alloc"] = allocated(a, mem_total(srv.port), r["requests"])
    return r


def measure_sealed(py, folder, seconds, raw, res):
    srv = firmware(py, folder, sessions="sealed")
    try:
        cookie = log_in(srv.port)
        check_route(srv.port, ROUTES[0], cookie)
        res["sealed"] = {"ka1": one_conn(raw, srv, seconds, ROUTES[0], cookie, None)}
        print(py, "sealed status", res["sealed"], flush=True)
    finally:
        srv.stop()


def sealed_alloc(py, requests):
    """Heap per sealed GET /api/status: the firmware with SESSIONRING_SESSIONS=sealed, logged
    in through the form, then `requests` keep-alive requests on one connection between two
    readings of GET /_mem (on that same connection; the second reading is counted as a request).
    Load does not change the figure: it counts bytes, not time."""
    with tempfile.TemporaryDirectory(prefix="sr-bench-fw-") as tmp:
        srv = firmware(py, tmp, sessions="sealed")
        try:
            c, hs = Client(srv.port, keep=True), {"Cookie": log_in(srv.port)}
            for _ in range(3):  # warm up: first-use imports and buffers are not per request
                c.get("/api/status", headers=hs)
            a = int(c.get("/_mem").body)
            statuses = {c.get("/api/status", headers=hs).status for _ in range(requests)}
            b = int(c.get("/_mem").body)
            c.close()
            if statuses != {200}:
                raise RuntimeError("GET /api/status answered %s" % statuses)
            return {"py": py, "requests": requests, "alloc": allocated(a, b, requests)}
        finally:
            srv.stop()


def raw_alloc(raw, seconds):
    # the raw responder's own heap per request: what asyncio's streams cost on this interpreter
    a = mem_total(raw.port)
    r = wrk(raw.port, 1, seconds)
    b = mem_total(raw.port)
    return allocated(a, b, r["requests"])


def run_all(pys, seconds):
    results = {}
    with tempfile.TemporaryDirectory(prefix="sr-bench-fw-") as tmp:
        script = post_script(tmp)
        for py in pys:
            folder = Path(tmp) / ("fw-" + py)
            res = {}
            raw = raw_server(py, tmp)
            try:
                if not raw.ok:
                    raise RuntimeError("raw.py did not start:\n" + raw.stop())
                res["raw_alloc"] = raw_alloc(raw, seconds)
                measure_firmware(py, folder, seconds, script, raw, res)
                measure_sealed(py, folder, seconds, raw, res)
            finally:
                raw.stop()
            results[py] = res
    return results


def ratio(r):
    if not r or not r.get("rps") or not r.get("base"):
        return "n/a"
    s = "**%.2fx** (%.0f / %.0f)" % (r["rps"] / r["base"], r["rps"], r["base"])
    if r.get("errors"):
        s += " (%d socket errors)" % r["errors"]
    if r.get("wrong", 0) > r.get("errors", 0):
        s += " (%d other statuses)" % (r["wrong"] - r["errors"])
    return s


def target_rows(results):
    rows = []
    for py, label in INTERPRETERS:
        for key, what in (("status", "/api/status"), ("dashboard", "the dashboard")):
            if py not in results:
                continue
            r, want = results[py][key]["ka1"], TARGETS[key + "_ka1"]
            got = r["rps"] / r["base"] if r["base"] else 0
            name = "%s >= %.2gx raw at 1 keep-alive connection, %s" % (what, want, label)
            rows.append((name, "%.2fx" % got, got >= want))
    for key, what in (("status", "/api/status"), ("dashboard", "the dashboard")):
        if "micropython32" in results:
            got, want = results["micropython32"][key]["ka1"]["alloc"], TARGETS[key + "_alloc"]
            name = "heap per request of %s <= %.1f KB, faithful build" % (what, want / 1024)
            rows.append((name, "%.0f B" % got, got <= want))
    return rows


ABOUT = (
    "The firmware as `make run` starts it (tools/run.py, the unix board profile, a fresh data "
    "folder), logged in through the login form. Every firmware run comes right after a run "
    "of the baseline, `tools/bench/servers/raw.py`, on the same interpreter and with as many "
    "connections: each cell is the ratio to that run (firmware / raw requests per second); at "
    "1 connection they alternate %d times and the medians are compared. "
    "Heap per request: `micropython.mem_total()` before and after the 1-connection run "
    "(GET /_mem, a route that exists only when SESSIONRING_BENCH is set at boot). At 16 "
    "connections with the profile's cap (max_conns 8, 7 per client) wrk's extra connections "
    "take the slots of idle ones, which are closed (wrk counts those as socket errors); the "
    "cap-16 column has max_conns 16 and no per-client share (all of wrk's connections come "
    "from one address); other statuses there are 503s from connections that waited too "
    "long for a slot." % ROUNDS
)
HEAD = "route | 1 conn | 16 conns, cap 8 | 16 conns, cap 16 | heap per request"


def report(results, seconds):
    lines = [
        "## Admin firmware (`python tools/bench firmware`)",
        "",
        "Command: `make bench` (or `python tools/bench firmware`): wrk on 127.0.0.1, %d s per "
        "run, keep-alive." % seconds,
        common.machine_line(),
        "",
        ABOUT,
    ]
    for py, label in INTERPRETERS:
        res = results.get(py)
        if not res:
            continue
        rows = [("raw asyncio responder (baseline)",) + ("1.00x",) * 3]
        rows[0] += ("%.0f B" % res["raw_alloc"],)
        for route in ROUTES:
            r = res[route[0]]
            cells = [ratio(r[k]) for k in ("ka1", "ka16_cap", "ka16_cap16")]
            rows.append([route[5]] + cells + ["%.0f B" % r["ka1"]["alloc"]])
        if "sealed" in res:
            r = res["sealed"]["ka1"]
            rows.append(("GET /api/status, sealed store", ratio(r), "", "", "%.0f B" % r["alloc"]))
        lines += ["", "### %s: requests per second (ratio to raw), heap per request" % label]
        lines += ["", common.table(HEAD, rows)]
    rows = target_rows(results)
    lines += ["", "### Targets", "", common.verdict(rows)[0]]
    return "\n".join(lines) + "\n", rows


def main(argv):
    global ROUTES
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=2, help="length of each wrk run")
    ap.add_argument("--py", action="append", help="micropython, micropython32 (default: both)")
    ap.add_argument("--route", action="append", help="only these routes (a quick look)")
    ap.add_argument("--no-write", action="store_true", help="print, leave docs/ alone")
    ap.add_argument("--sessions", choices=("sealed",), help="only the sealed store's heap")
    ap.add_argument("--requests", type=int, default=200, help="requests for --sessions")
    args = ap.parse_args(argv[1:])
    if args.sessions:
        rc = 0
        for py in args.py or ["micropython32"]:
            r = sealed_alloc(py, args.requests)
            ok = r["alloc"] <= TARGETS["sealed_alloc"] or py != "micropython32"
            print(json.dumps(r))
            print(
                "%s: heap per sealed GET /api/status %.0f B (target <= %d B on the faithful"
                " build)%s" % (py, r["alloc"], TARGETS["sealed_alloc"], "" if ok else ": MISS"),
                flush=True,
            )
            rc = rc or (0 if ok else common.MISS_EXIT)
        return rc
    t0 = time.monotonic()
    pys = args.py or [py for py, _ in INTERPRETERS]
    if args.route:  # a partial run never replaces the section
        ROUTES = tuple(r for r in ROUTES if r[0] in args.route)
        return print(json.dumps(run_all(pys, args.seconds), indent=1))
    md, rows = report(run_all(pys, args.seconds), args.seconds)
    md += "\nTook %.0f s.\n" % (time.monotonic() - t0)
    print(md)
    if not args.no_write:
        common.write_section("firmware", md)
    return common.verdict(rows)[1]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
