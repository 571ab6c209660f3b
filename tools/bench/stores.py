"""The session stores, per operation (`python tools/bench ring|sealed`):
  ring    (`make bench-ring`) the session ring on the MicroPython unix port, against a
          dict-of-objects session store (the usual approach) measured in the same run;
  sealed  the sealed (Fernet cookie) store against the ring's lookup, measured in the same
          run, on the MicroPython unix port and on CPython.
Each writes its section of docs/benchmarks.md; the per-operation work runs in mp/ops.py."""

import json
import subprocess
import sys

from bench.common import (
    ROOT,
    TOOLS,
    cpython_env,
    machine_line,
    mp_env,
    tool,
    verdict,
    write_section,
)

OPS = TOOLS / "bench" / "mp" / "ops.py"


def run(interp, which):
    if interp == "micropython":
        argv, env = [tool("micropython"), "-X", "heapsize=16M"], mp_env(ROOT / "lib")
    else:
        argv, env = [sys.executable], cpython_env()
    out = subprocess.run(
        argv + [str(OPS), which], env=env, capture_output=True, text=True, timeout=300, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


INTRO = (
    "Per operation on the MicroPython unix port. Baseline, same run: a dict of per-session "
    "objects keyed by token (`dict.get` + expiry check), the usual way to keep sessions. The "
    "ring checks a 128-bit secret in constant time on every lookup; the dict only hashes and "
    "compares strings, so it is faster per lookup but allocates an object graph per session "
    "and has no fixed memory bound."
)
RAM_LINE = (
    "RAM per session (1024 sessions, `gc.mem_free()` deltas): ring %.1f bytes per slot with a "
    "64-byte data area (%.1f with none: the fixed header), dict store %.1f bytes per session "
    "holding one data item: the ring uses %.2fx the dict store's RAM, all of it allocated once "
    "at start-up."
)
CREATE_LINE = (
    "create scans every slot (free slot, expired slots, per-user count and eviction candidate "
    "in one pass), so it is O(slots); it runs once per login."
)
BYTES = ("get_bytes", "touch_bytes")


def report(res):
    sizes = res["sizes"]
    rows = []
    for n in ("8", "64", "1024"):
        r, d = sizes[n]["ring"], sizes[n]["dict"]
        rows.append(
            "| %s | %.2f | %.2f | %.2f | %.1f | %.2f | %.2f |"
            % (
                n,
                r["get_us"] / d["get_us"],
                r["touch_us"] / d["touch_us"],
                r["get_us"],
                r["create_us"],
                r["get_bytes"] or 0,
                d["get_us"],
            )
        )
    scale = sizes["1024"]["ring"]["get_us"] / sizes["8"]["ring"]["get_us"]
    ram = res["ram"]
    overhead = ram["ring_per_slot"] - 64
    worst = max(sizes[n]["ring"][k] or 0 for n in sizes for k in BYTES)
    checks = [
        ("get at 1024 slots within 1.2x of get at 8", "%.2fx" % scale, scale <= 1.2),
        (
            "RAM overhead per slot beyond the data area <= 48 bytes",
            "%.1f bytes" % overhead,
            overhead <= 48,
        ),
        ("get and touch allocate nothing (mem_total per op)", "%.2f bytes" % worst, worst == 0),
    ]
    ram_text = RAM_LINE % (
        ram["ring_per_slot"],
        res["ram0"]["ring_per_slot"],
        ram["dict_per_session"],
        ram["ring_per_slot"] / ram["dict_per_session"],
    )
    head = "| slots | get / dict get | touch / dict touch | ring get (µs) | ring create (µs) "
    head += "| bytes allocated per get | dict get (µs) |"
    lines = ["## Session ring (`make bench-ring`)", "", machine_line(), "", INTRO, "", head]
    lines += ["|---|---|---|---|---|---|---|"] + rows
    table, status = verdict(checks)
    return "\n".join(lines + ["", ram_text, "", CREATE_LINE, "", table]), status


SEALED_INTRO = (
    "Per operation, one session holding what the admin firmware keeps (a 32-character CSRF "
    "token). Baseline, same run and interpreter: `SessionRing.get` of the same session "
    "(16 slots). *open* is `SealedStore.get` (base64url, HMAC-SHA256 checked before AES-CBC "
    "decryption, plaintext decoded); *create* seals a new session; *re-seal* is the extra "
    "cost of a request past half the idle timeout (`pending` after `touch`). Token sizes are "
    "the cookie value in bytes (the ring's token is always 27)."
)


def rows(name, res):
    base = res["ring_get_us"]
    out = []
    for key, label in (("p", "sealed"), ("z", "sealed, compress=True")):
        r = res.get(key)
        if r is None:
            out.append(
                "| %s | %s | cannot deflate here (inflates only) | | | | | |" % (name, label)
            )
            continue
        out.append(
            "| %s | %s | %.1fx | %.1fx | %.1fx | %.1f | %s | %d (%d empty) |"
            % (
                name,
                label,
                r["open_us"] / base,
                r["create_us"] / base,
                r["reseal_us"] / base,
                r["open_us"],
                "%.0f" % r["open_bytes"] if r["open_bytes"] is not None else "-",
                r["token_len"],
                r["empty_len"],
            )
        )
    return out


def sealed_report(mp, cp):
    head = (
        "| interpreter | store | open / ring get | create / ring get | re-seal / ring get "
        "| open (µs) | bytes allocated per open | token bytes |"
    )
    lines = ["## Sealed session store (`python tools/bench sealed`)", "", machine_line()]
    lines += ["", SEALED_INTRO, ""]
    lines += [head, "|---|---|---|---|---|---|---|---|"]
    lines += rows("MicroPython unix", mp) + rows("CPython", cp)
    lines += [
        "",
        "Ring get, the baseline: %.2f µs on the unix port, %.2f µs on CPython; it allocates "
        "nothing." % (mp["ring_get_us"], cp["ring_get_us"]),
        "",
        "RAM on the unix port (`gc.mem_free()` deltas): the sealed store, whatever the number "
        "of sessions, %d bytes (a 32-entry deny-list and its bookkeeping); a 16-slot ring with "
        "64-byte data areas %d bytes (%.0f per session). The sealed store instead sends its "
        "token with every request: %d bytes of cookie value against the ring's 27."
        % (
            mp["sealed_ram"],
            mp["ring_ram_16"],
            mp["ring_ram_16"] / 16,
            mp["p"]["token_len"],
        ),
    ]
    return "\n".join(lines)


def main(argv):
    if argv[0] == "sealed":
        text, status = sealed_report(run("micropython", "sealed"), run("cpython", "sealed")), 0
    else:
        text, status = report(run("micropython", "ring"))
    write_section(argv[0], text)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["ring"]))
