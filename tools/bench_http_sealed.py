"""The sealed cookie store beside the ring in the HTTP benchmark: server (b) as
tools/bench_servers/sr_app.py (ring) and tools/bench_servers/sr_sealed_app.py (sealed), the
same authenticated GET. Authenticated requests per second and heap allocated per request as
ratios to the ring in the same run, and the bytes on the wire per request.

tools/bench_http.py calls run() and section() (its "http" section of docs/benchmarks.md gets
this table); standalone, `python tools/bench_http_sealed.py [--seconds N]` measures the ring
and the sealed server alone and prints the table (it writes nothing).
"""

import socket
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

MODES = (("ka1", 1, False), ("ka16", 16, False))  # keep-alive, 1 and 16 connections
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


def _one(bh, srv, seconds, alloc):
    if not srv.ok:
        return None
    res = bh.measure(srv, seconds, bh.auth(srv), "/", MODES, alloc=alloc)
    res["token"] = len(srv.info["token"])
    res["wire"] = wire(srv.port, srv.info["token"])
    return res


def run(tmp, seconds, bh):
    """{"mp": {"ring", "sealed"}, "cp": {...}}: both stores measured now, one after the other.
    tmp: the folder of .mpy files bench_http.build() made (with sr_sealed_app.mpy)."""
    out = {"mp": {}, "cp": {}}
    for key, module in (("ring", "sr_app"), ("sealed", "sr_sealed_app")):
        srv = bh.mp_server(tmp, module, bh.free_port())
        try:
            out["mp"][key] = _one(bh, srv, seconds, True)
        finally:
            srv.stop()
        srv = bh.cpy_server(module + ".py", bh.free_port())
        try:
            out["cp"][key] = _one(bh, srv, seconds, False)
        finally:
            srv.stop()
    print("sealed vs ring", out, flush=True)
    return out


def _ratio(r, base, key):
    if not r or not base or not base[key]["rps"]:
        return "n/a"
    s = "**%.2fx** (%.0f)" % (r[key]["rps"] / base[key]["rps"], r[key]["rps"])
    if r[key]["errors"] or r[key]["non2xx"]:
        s += " (%d errors, %d non-2xx)" % (r[key]["errors"], r[key]["non2xx"])
    return s


def section(res):
    """Markdown: the sealed store beside the ring."""
    mp, cp = res["mp"], res["cp"]
    ring, sealed = mp.get("ring"), mp.get("sealed")
    lines = [
        "",
        "### The sealed cookie store beside the ring (server (b))",
        "",
        "`tools/bench_servers/sr_sealed_app.py`: (b) with `SealedStore` in place of the ring, "
        "its session as the admin app's after a login (a 32-character CSRF token and the "
        "client address in its data), measured right after (b) with the ring in the same run. "
        "Ratios to the ring; no re-seal happens within a run (the cookie is younger than half "
        "the idle timeout), so every request opens the cookie and sends no Set-Cookie.",
        "",
        "| | ring | sealed |",
        "|---|---|---|",
    ]
    if ring and sealed:
        lines += [
            "| requests/s, MicroPython, keep-alive, 1 conn | %.0f | %s |"
            % (ring["ka1"]["rps"], _ratio(sealed, ring, "ka1")),
            "| requests/s, MicroPython, keep-alive, 16 conns | %.0f | %s |"
            % (ring["ka16"]["rps"], _ratio(sealed, ring, "ka16")),
        ]
        if cp.get("ring") and cp.get("sealed"):
            lines += [
                "| requests/s, CPython, keep-alive, 1 conn | %.0f | %s |"
                % (cp["ring"]["ka1"]["rps"], _ratio(cp["sealed"], cp["ring"], "ka1")),
                "| requests/s, CPython, keep-alive, 16 conns | %.0f | %s |"
                % (cp["ring"]["ka16"]["rps"], _ratio(cp["sealed"], cp["ring"], "ka16")),
            ]
        lines += [
            "| heap allocated per request, MicroPython | %.0f B | %.0f B (**%.1fx**) |"
            % (ring["alloc"], sealed["alloc"], sealed["alloc"] / max(1.0, ring["alloc"])),
            "| cookie value | %d B | %d B |" % (ring["token"], sealed["token"]),
            "| bytes on the wire per request (request + answer) | %d + %d | %d + %d |"
            % (ring["wire"] + sealed["wire"]),
        ]
    else:
        lines.append("| not measured: a server did not start | | |")
    return "\n".join(lines) + "\n"


def main():
    import argparse

    import bench_http as bh

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sr-bench-sealed-") as tmp:
        bh.build(tmp)
        res = run(tmp, args.seconds, bh)
    print(section(res))


if __name__ == "__main__":
    main()
