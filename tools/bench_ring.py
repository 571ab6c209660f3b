"""`make bench-ring`: the session ring on the MicroPython unix port, against a dict-of-objects
session store (the usual approach) measured in the same run. Writes the "ring" section of
docs/benchmarks.md."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from benchdoc import machine_line, write_section  # noqa: E402

COMMAND = "make bench-ring"


def run_micropython():
    exe = ROOT / ".venv" / "bin" / "micropython"
    env = dict(os.environ, MICROPYPATH=".frozen:" + str(ROOT / "lib"))
    out = subprocess.run(
        [str(exe), "-X", "heapsize=16M", str(ROOT / "tools" / "bench_mp" / "ring_ops.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
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
    lines = ["## Session ring (`%s`)" % COMMAND, "", machine_line(), "", INTRO, "", head]
    lines += ["|---|---|---|---|---|---|---|"] + rows
    lines += ["", ram_text, "", CREATE_LINE, "", "| target | measured | result |", "|---|---|---|"]
    lines += ["| %s | %s | %s |" % (t, m, "PASS" if ok else "MISS") for t, m, ok in checks]
    return "\n".join(lines), checks


def main():
    res = run_micropython()
    text, checks = report(res)
    write_section("ring", text)
    print(text)
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
