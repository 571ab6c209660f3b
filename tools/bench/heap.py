"""`python tools/bench heap [--idle N --store ring|sealed --no-write]`: sessionring beside
microdot 2.7.0, both frozen into one board-faithful binary (build/faithful/unix32-bench), each
app on its framework's public API (servers/microdot_app.py, servers/sr_app.py): the smallest
heap that serves 16 clients, and the heap held per idle keep-alive connection. ABOUT below
states the method, as the "heap" section of docs/benchmarks.md does.
"""

import argparse
import select
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import common
from fwclient import read_answer

CLIENTS, GETS = 16, 5
TARGET_IDLE_B = 300  # heap held per idle keep-alive connection (issue 15)
TARGET_HEAP_KB = 48  # and at most 48 KB for the 16 clients, no more than microdot
FROZEN = {"microdot_app": "microdot/microdot.py", "sr_app": "sessionring/http.py"}
GET = "GET %s HTTP/1.1\r\nHost: b\r\nCookie: sid=%s\r\n\r\n"


def _closed(s):
    r, _, _ = select.select([s], [], [], 0)
    try:
        return bool(r) and s.recv(1, socket.MSG_PEEK) == b""
    except ConnectionResetError:
        return True


def clients(port, path, tokens, gets=GETS):
    """16 clients, all connected at once, each sending `gets` authenticated GETs (all 16 sent
    before any answer is read). A client reconnects when the server closed its connection
    (microdot 2.7.0 answers and closes). The number of 200 answers."""
    socks, ok = [None] * len(tokens), 0

    def connect(i):
        socks[i] = socket.create_connection(("127.0.0.1", port), timeout=20)

    def send(i):
        socks[i].sendall((GET % (path, tokens[i])).encode())

    try:
        for i in range(len(tokens)):
            connect(i)
        for _ in range(gets):
            for i in range(len(tokens)):
                if _closed(socks[i]):
                    socks[i].close()
                    connect(i)
                send(i)
            for i in range(len(tokens)):
                st = read_answer(socks[i])[0]  # None: the server closed first
                if st is None:  # closed after the check: once more, alone
                    socks[i].close()
                    connect(i)
                    send(i)
                    st = read_answer(socks[i])[0]
                ok += st == 200
    except OSError:
        pass
    finally:
        for s in socks:
            if s is not None:
                s.close()
    return ok


def _args(module, args):
    return (CLIENTS + 1, args.store) if module == "sr_app" else ()


def smallest_heap(exe, app_dir, module, path, args):
    def passes(kb):
        srv = common.serve(exe, app_dir, module, common.free_port(), kb, _args(module, args))
        with srv:
            if not srv.ok:
                return False
            toks = srv.info["tokens"].split(",")
            return clients(srv.port, path, toks) == CLIENTS * GETS and srv.alive()

    return common.smallest(passes)


def idle(exe, app_dir, module, path, n, args):
    """(bytes per idle keep-alive connection, connections still open, frozen file)."""
    srv = common.serve(exe, app_dir, module, common.free_port(), None, _args(module, args))
    with srv:
        if not srv.ok:
            sys.exit("bench heap: %s did not start: %s" % (module, srv.stop()))
        toks = srv.info["tokens"].split(",")
        common.http_get(srv.port, path, [("Cookie", "sid=" + toks[0])])  # all a request loads
        base = int(common.http_get(srv.port, "/_heap"))
        socks = []
        for i in range(n):
            socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=20))
            socks[-1].sendall((GET % (path, toks[i % 16])).encode())
            read_answer(socks[-1])
        held = int(common.http_get(srv.port, "/_heap")) - base
        still = sum(not _closed(s) for s in socks)
        for s in socks:
            s.close()
        return held / n, still, srv.info.get("frozen", "?")


def measure(args):
    exe = common.bench_build()
    res = {}
    with tempfile.TemporaryDirectory(prefix="sr-bench-heap-") as tmp:
        for key, module, path in (("m", "microdot_app", "/a"), ("s", "sr_app", "/")):
            common.mpy_cross(
                common.SERVERS / (module + ".py"), Path(tmp) / (module + ".mpy"), True
            )
            per, still, frozen = idle(exe, tmp, module, path, args.idle, args)
            if frozen != FROZEN[module]:
                sys.exit("bench heap: %s imported %s, not the frozen module" % (module, frozen))
            res[key] = {
                "heap": smallest_heap(exe, tmp, module, path, args),
                "idle": per,
                "open": still,
                "frozen": frozen,
            }
            print(key, module, res[key], flush=True)
    return res


ABOUT = (
    "The board-faithful build with microdot 2.7.0's core frozen in beside the project "
    "(build/faithful/unix32-bench: MicroPython v1.28.0, 32-bit); each app imports its "
    "framework from the image (checked: %s, %s), only the app itself is a .mpy. (m) "
    "microdot: a route that checks a cookie against a dict of 16 tokens, no JWT; (s) "
    "sessionring's Server, %s. %d clients with their own sessions, all connected at "
    "once, %d authenticated GETs each; idle: %d keep-alive connections left open after one "
    "request each, the heap in use after a collection against the figure before, divided "
    "by %d."
)


HEAD = "app | smallest heap, 16 clients x 5 GETs | heap held per idle connection | idle "
HEAD += "connections still open"


def report(res, args):
    m, s = res["m"], res["s"]
    kb = lambda h: ("%d KB" % h) if h else "more than %d KB" % common.HEAP_STEPS_K[-1]  # noqa: E731
    store = "16 sessions in a ring" if args.store == "ring" else "the sealed store"
    rows = [
        (
            label,
            kb(res[k]["heap"]),
            "%.0f B" % res[k]["idle"],
            "%d of %d" % (res[k]["open"], args.idle),
        )
        for k, label in (("m", "(m) microdot 2.7.0, token dict"), ("s", "(s) sessionring"))
    ]
    lines = [
        "## sessionring beside microdot, both frozen (`python tools/bench heap`)",
        "",
        common.machine_line(),
        "",
        ABOUT % (m["frozen"], s["frozen"], store, CLIENTS, GETS, args.idle, args.idle),
        "",
        common.table(HEAD, rows),
    ]
    if not m["open"]:
        lines += [
            "",
            "microdot 2.7.0 closes every connection after its answer (no keep-alive), "
            "so its clients reconnect for each GET and it holds nothing for an idle client.",
        ]
    sh, mh = s["heap"], m["heap"]
    table, status = common.verdict(
        [
            (
                "(s) serves the 16 clients from no more heap than (m)",
                "%s vs %s" % (kb(sh), kb(mh)),
                bool(sh and mh and sh <= mh),
            ),
            ("(s) within %d KB" % TARGET_HEAP_KB, kb(sh), bool(sh and sh <= TARGET_HEAP_KB)),
            (
                "(s) holds at most %d B per idle keep-alive connection" % TARGET_IDLE_B,
                "%.0f B" % s["idle"],
                s["idle"] <= TARGET_IDLE_B and s["open"] == args.idle,
            ),
        ]
    )
    return "\n".join(lines + ["", table]), status


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle", type=int, default=16, help="idle connections to open")
    ap.add_argument("--store", choices=("ring", "sealed"), default="ring")
    ap.add_argument("--no-write", action="store_true", help="print, leave docs/ alone")
    args = ap.parse_args(argv[1:])
    try:
        res = measure(args)
    except (common.faithful.BuildError, subprocess.CalledProcessError) as e:
        sys.exit("bench heap: %s" % e)
    text, status = report(res, args)
    print(text)
    if not args.no_write:
        common.write_section("heap", text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))  # [section name, args...]
