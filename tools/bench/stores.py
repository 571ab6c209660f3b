"""The session stores, per operation (`python tools/bench ring|sealed`):
  ring    (`make bench-ring`) the session ring on the MicroPython unix port, against a
          dict-of-objects session store (the usual approach) measured in the same run;
  sealed  the sealed (Fernet cookie) store against the ring's lookup, measured in the same
          run, on the MicroPython unix port and on CPython.
Each writes its section of docs/benchmarks.md; the per-operation work runs in mp/ops.py."""

import json
import subprocess
import sys

from bench import common

OPS = common.TOOLS / "bench" / "mp" / "ops.py"


def run(interp, which):
    if interp == "micropython":
        argv, env = (
            [common.tool("micropython"), "-X", "heapsize=16M"],
            common.mp_env(common.ROOT / "lib"),
        )
    else:
        argv, env = [sys.executable], common.cpython_env()
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
RING_HEAD = "slots | get / dict get | touch / dict touch | ring get (µs) | ring create (µs) | "
RING_HEAD += "bytes allocated per get | dict get (µs)"


def report(res):
    sizes, ram = res["sizes"], res["ram"]
    rows = []
    for n in ("8", "64", "1024"):
        r, d = sizes[n]["ring"], sizes[n]["dict"]
        ratios = ["%.2f" % (r[k] / d[k]) for k in ("get_us", "touch_us")]
        us = ["%.2f" % r["get_us"], "%.1f" % r["create_us"], "%.2f" % (r["get_bytes"] or 0)]
        rows.append([n] + ratios + us + ["%.2f" % d["get_us"]])
    scale = sizes["1024"]["ring"]["get_us"] / sizes["8"]["ring"]["get_us"]
    overhead = ram["ring_per_slot"] - 64
    worst = max(sizes[n]["ring"][k] or 0 for n in sizes for k in BYTES)
    table, status = common.verdict(
        [
            ("get at 1024 slots within 1.2x of get at 8", "%.2fx" % scale, scale <= 1.2),
            (
                "RAM overhead per slot beyond the data area <= 48 bytes",
                "%.1f bytes" % overhead,
                overhead <= 48,
            ),
            (
                "get and touch allocate nothing (mem_total per op)",
                "%.2f bytes" % worst,
                worst == 0,
            ),
        ]
    )
    per = (ram["ring_per_slot"], res["ram0"]["ring_per_slot"], ram["dict_per_session"])
    ram_text = RAM_LINE % (per + (per[0] / per[2],))
    lines = ["## Session ring (`make bench-ring`)", "", common.machine_line(), "", INTRO, ""]
    lines += [common.table(RING_HEAD, rows), "", ram_text, "", CREATE_LINE, "", table]
    return "\n".join(lines), status


SEALED_INTRO = (
    "Per operation, one session holding what the admin firmware keeps (a 32-character CSRF "
    "token). Baseline, same run and interpreter: `SessionRing.get` of the same session "
    "(16 slots). *open* is `SealedStore.get` (base64url, HMAC-SHA256 checked before AES-CBC "
    "decryption, plaintext decoded); *create* seals a new session; *re-seal* is the extra "
    "cost of a request past half the idle timeout (`pending` after `touch`). Token sizes are "
    "the cookie value in bytes (the ring's token is always 27)."
)
SEALED_HEAD = "interpreter | store | open / ring get | create / ring get | re-seal / ring get | "
SEALED_HEAD += "open (µs) | bytes allocated per open | token bytes"
SEALED_RAM = (
    "RAM on the unix port (`gc.mem_free()` deltas): the sealed store, whatever the number "
    "of sessions, %d bytes (a 32-entry deny-list and its bookkeeping); a 16-slot ring with "
    "64-byte data areas %d bytes (%.0f per session). The sealed store instead sends its "
    "token with every request: %d bytes of cookie value against the ring's 27."
)


def rows(name, res):
    base = res["ring_get_us"]
    out = []
    for key, label in (("p", "sealed"), ("z", "sealed, compress=True")):
        r = res.get(key)
        if r is None:
            out.append((name, label, "cannot deflate here (inflates only)", "", "", "", "", ""))
            continue
        ratios = ["%.1fx" % (r[k] / base) for k in ("open_us", "create_us", "reseal_us")]
        b = "%.0f" % r["open_bytes"] if r["open_bytes"] is not None else "-"
        size = "%d (%d empty)" % (r["token_len"], r["empty_len"])
        out.append([name, label] + ratios + ["%.1f" % r["open_us"], b, size])
    return out


def sealed_report(mp, cp):
    ring = mp["ring_ram_16"]
    lines = ["## Sealed session store (`python tools/bench sealed`)", "", common.machine_line()]
    lines += ["", SEALED_INTRO, ""]
    lines.append(common.table(SEALED_HEAD, rows("MicroPython unix", mp) + rows("CPython", cp)))
    lines += [
        "",
        "Ring get, the baseline: %.2f µs on the unix port, %.2f µs on CPython; it allocates "
        "nothing." % (mp["ring_get_us"], cp["ring_get_us"]),
        "",
        SEALED_RAM % (mp["sealed_ram"], ring, ring / 16, mp["p"]["token_len"]),
    ]
    return "\n".join(lines)


def main(argv):
    if argv[0] == "sealed":
        text, status = sealed_report(run("micropython", "sealed"), run("cpython", "sealed")), 0
    else:
        text, status = report(run("micropython", "ring"))
    common.write_section(argv[0], text)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["ring"]))
