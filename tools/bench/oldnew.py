"""`python tools/bench oldnew`: the server's speed against an older tree of the library, in the
same run, and where a request's time goes.

The library of --old (a git revision; default: the last tree with a buffer per connection) is
taken from git into a temporary folder beside today's; both are compiled by mpy-cross with the
same bench app (servers/sr_app.py: an authenticated GET through the ring) and run on the
MicroPython unix port. For each round, the raw responder (servers/raw.py), the old server and
the new one are measured one after the other with wrk, in an order that alternates from round
to round (A B A B), at 1 and 16 keep-alive connections; a figure is the median over the rounds
of a server's rate as a ratio to the raw responder of the same round. Then the new server's
stages, one keep-alive connection: the 404 path (parse, no route), GET / without a session (a
handler and a Response), GET / with the session (the lookup too), each as microseconds per
request beyond the raw responder's. Check `uptime` first: other work on the machine slows the
raw responder more than the servers. Writes the "oldnew" section of docs/benchmarks.md.

Usage: python tools/bench oldnew [-- --old REV --rounds 3 --seconds 3 --instructions N
                                      --no-write]
--instructions N also counts the machine instructions per request of both trees under valgrind
(callgrind), N requests each: a figure that machine load does not change.
"""

import argparse
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from bench import common
from bench.common import SERVERS, free_port, wrk

OLD = "dc855e4"  # the tree before work slots: a 2 KB buffer and a task frame per connection
MODES = (("ka1", 1), ("ka16", 16))


def _compile(lib, out):
    """lib/sessionring of one tree and the bench servers, as .mpy files in out."""
    (out / "sessionring").mkdir(parents=True)
    for f in sorted(Path(lib).glob("*.py")):
        common.mpy_cross(f, out / "sessionring" / (f.stem + ".mpy"))
    for name in ("sr_app", "raw"):
        common.mpy_cross(SERVERS / (name + ".py"), out / (name + ".mpy"))


def _old_lib(rev, dest):
    """The library of git revision rev, unpacked into dest/lib/sessionring."""
    tar = subprocess.run(
        ["git", "archive", rev, "lib/sessionring"],
        cwd=str(common.ROOT),
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        t.extractall(dest)
    return Path(dest) / "lib" / "sessionring"


def _run(app_dir, module, conns, seconds, headers=(), path="/", args=()):
    exe = common.tool("micropython")
    with common.serve(exe, app_dir, module, free_port(), args=args) as srv:
        if not srv.ok:
            raise SystemExit("%s did not start: %s" % (module, srv.stop()))
        hdr = ("Cookie: sid=" + srv.info["token"],) if "token" in srv.info else ()
        r = wrk(srv.port, conns, seconds, False, list(hdr) + list(headers), path)
        if r["errors"] or not srv.alive():
            raise SystemExit("%s failed under load: %r" % (module, r))
        return r["rps"], (r["non2xx"] == 0)


NAMES = ("old", "new", "new16")  # new16: the new tree with a work slot per connection


def measure(old_dir, new_dir, rounds, seconds):
    ratios = {(k, m): [] for k in NAMES for m, _ in MODES}
    raw_rps = {m: [] for m, _ in MODES}
    for i in range(rounds):
        for mode, conns in MODES:
            order = [("old", old_dir), ("new", new_dir), ("new16", new_dir)]
            if i % 2:
                order.reverse()
            raw, _ = _run(new_dir, "raw", conns, seconds)
            raw_rps[mode].append(raw)
            for name, d in order:
                args = (16, "ring", 16) if name == "new16" else ()
                rps, ok = _run(d, "sr_app", conns, seconds, args=args)
                if not ok:
                    raise SystemExit("%s answered non-2xx: not authenticated" % name)
                ratios[(name, mode)].append(rps / raw)
            got = ", ".join("%s %.2fx" % (n, ratios[(n, mode)][-1]) for n, _ in order)
            print("round %d %s: raw %.0f/s, %s" % (i + 1, mode, raw, got), flush=True)
    stages = {"raw": _run(new_dir, "raw", 1, seconds)[0]}
    for name, path in (("404", "/nope"), ("no session", "/")):
        stages[name] = _run_nocookie(new_dir, path, seconds)
    stages["session"] = _run(new_dir, "sr_app", 1, seconds)[0]
    return ratios, raw_rps, stages


def _run_nocookie(app_dir, path, seconds):
    with common.serve(common.tool("micropython"), app_dir, "sr_app", free_port()) as srv:
        return wrk(srv.port, 1, seconds, False, (), path)["rps"]


def instructions(app_dir, n):
    """Machine instructions per authenticated GET on one keep-alive connection, counted by
    valgrind's callgrind (the same count on a busy machine as on a quiet one): the server's
    total for n + 100 requests less its total for 100, over n."""

    def total(k):
        out = Path(app_dir) / ("callgrind.%d" % k)
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=%s" % out]
        argv += [str(common.tool("micropython")), "-m", "sr_app", str(free_port())]
        with common.Server(argv, common.mp_env(app_dir), int(argv[-1]), seconds=300) as srv:
            if not srv.ok:
                raise SystemExit("sr_app did not start under valgrind: %s" % srv.stop())
            c = socket.create_connection(("127.0.0.1", srv.port), timeout=60)
            req = b"GET / HTTP/1.1\r\nHost: h\r\nCookie: sid=%s\r\n\r\n"
            req %= srv.info["token"].encode()
            for _ in range(k):
                c.sendall(req)
                got = b""
                while not got.endswith(b"hello admin\n"):
                    d = c.recv(4096)
                    if not d:
                        raise SystemExit("the server closed the connection")
                    got += d
            c.close()
            srv.proc.terminate()  # (callgrind writes its counts at a clean exit)
            srv.proc.wait(120)
        text = out.read_text()
        m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        return int(m.group(1))

    return (total(n + 100) - total(100)) / n


def report(ratios, raw_rps, stages, old, rounds, seconds, instr=None):
    med = {k: statistics.median(v) for k, v in ratios.items()}
    lines = [
        "## Against an older tree, and where the time goes (`python tools/bench oldnew`)",
        "",
        common.machine_line(),
        "Load average before the run: %.2f (1 min). MicroPython unix port (64-bit, PyPI), "
        "wrk, %d s per run, %d rounds alternating old and new, medians of ratios to the raw "
        "responder measured in the same round. Old: the library at `%s`; new: this tree."
        % (LOAD0, seconds, rounds, old),
        "",
        "| keep-alive connections | raw responder (median) | old / raw | new / raw | new / old "
        "| new, 16 work slots / raw |",
        "|---|---|---|---|---|---|",
    ]
    for mode, conns in MODES:
        lines.append(
            "| %d | %.0f req/s | %.2fx | %.2fx | %.2fx | %.2fx |"
            % (
                conns,
                statistics.median(raw_rps[mode]),
                med[("old", mode)],
                med[("new", mode)],
                med[("new", mode)] / med[("old", mode)],
                med[("new16", mode)],
            )
        )
    us = {k: 1e6 / v for k, v in stages.items() if v}
    lines += [
        "",
        "Where the time of an authenticated GET goes (new server, one keep-alive connection, one "
        "run each; microseconds per request beyond the raw responder's %.1f us):" % us["raw"],
        "",
        "| path | us per request | beyond raw | of which this stage |",
        "|---|---|---|---|",
    ]
    prev = us["raw"]
    for name, what in (
        ("404", "accept nothing, read, parse the head, no route, answer 404"),
        ("no session", "+ route, a handler returning a Response (401), no token"),
        ("session", "+ the cookie found, the ring lookup, the handler's bytes"),
    ):
        row = (name, what, us[name], us[name] - us["raw"], us[name] - prev)
        lines.append("| %s (%s) | %.1f | %.1f | %.1f |" % row)
        prev = us[name]
    if instr:
        lines += [
            "",
            "Machine instructions per authenticated GET (one keep-alive connection, valgrind's "
            "callgrind, %d requests; a count, not a time: the same on a busy machine): old %.0f, "
            "new %.0f (new / old %.2f)." % (instr[2], instr[0], instr[1], instr[1] / instr[0]),
        ]
    rows = [
        (
            "speed does not drop: new >= old at %d keep-alive connection(s)" % conns,
            "%.2fx vs %.2fx" % (med[("new", mode)], med[("old", mode)]),
            med[("new", mode)] >= med[("old", mode)] * 0.97,
        )
        for mode, conns in MODES
    ]
    table, rc = common.verdict(rows)
    lines += ["", "(within 3 %: the spread between runs on this machine)", "", table]
    print("load average after: %.2f" % os.getloadavg()[0])
    return "\n".join(lines), rc


LOAD0 = 0.0


def main(argv):
    global LOAD0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", default=OLD, help="git revision of the older tree")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--instructions", type=int, default=0, help="also count instructions for N requests"
    )
    a = ap.parse_args(argv[1:])
    LOAD0 = os.getloadavg()[0]
    print("load average: %.2f (check it: figures from a busy machine are not valid)" % LOAD0)
    with tempfile.TemporaryDirectory() as tmp:
        old_lib = _old_lib(a.old, Path(tmp) / "src")
        _compile(old_lib, Path(tmp) / "old")
        _compile(common.ROOT / "lib" / "sessionring", Path(tmp) / "new")
        old, new = Path(tmp) / "old", Path(tmp) / "new"
        ratios, raw_rps, stages = measure(old, new, a.rounds, a.seconds)
        instr = None
        if a.instructions:
            n = a.instructions
            instr = (instructions(old, n), instructions(new, n), n)
            print("instructions per request: old %.0f, new %.0f" % instr[:2], flush=True)
    md, rc = report(ratios, raw_rps, stages, a.old, a.rounds, a.seconds, instr)
    print(md)
    if not a.no_write:
        common.write_section("oldnew", md)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))  # [section name, args...]
