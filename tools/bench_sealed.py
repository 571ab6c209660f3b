"""`python tools/bench.py sealed`: the sealed (Fernet cookie) session store against the session
ring's lookup, measured in the same run, on the MicroPython unix port and on CPython. Writes
the "sealed" section of docs/benchmarks.md."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from benchdoc import machine_line, write_section  # noqa: E402

COMMAND = "python tools/bench.py sealed"
SCRIPT = ROOT / "tools" / "bench_mp" / "sealed_ops.py"


def run(interp):
    if interp == "micropython":
        argv = [str(ROOT / ".venv" / "bin" / "micropython"), "-X", "heapsize=16M", str(SCRIPT)]
        env = dict(os.environ, MICROPYPATH=".frozen:" + str(ROOT / "lib"))
    else:
        argv = [sys.executable, str(SCRIPT)]
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([str(ROOT / "lib"), str(ROOT / "lib" / "hostshim")]),
        )
    out = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=300, check=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


INTRO = (
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


def report(mp, cp):
    head = (
        "| interpreter | store | open / ring get | create / ring get | re-seal / ring get "
        "| open (µs) | bytes allocated per open | token bytes |"
    )
    lines = ["## Sealed session store (`%s`)" % COMMAND, "", machine_line(), "", INTRO, ""]
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


def main():
    mp = run("micropython")
    cp = run("cpython")
    text = report(mp, cp)
    write_section("sealed", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
