"""`make bench`: every benchmark, each writing its own section of docs/benchmarks.md.

python tools/bench.py all | ring | http | footprint | sealed | firmware
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = {
    "ring": "bench_ring.py",
    "http": "bench_http.py",
    "footprint": "footprint.py",
    "sealed": "bench_sealed.py",
    "firmware": "bench_firmware.py",
}


def main(argv):
    which = argv[1] if len(argv) > 1 else "all"
    names = list(SCRIPTS) if which == "all" else [which]
    failed = []
    for name in names:
        if name not in SCRIPTS:
            sys.exit("unknown benchmark %r: choose from all, %s" % (name, ", ".join(SCRIPTS)))
        script = ROOT / "tools" / SCRIPTS[name]
        print("== bench %s" % name, flush=True)
        if subprocess.run([sys.executable, str(script)], cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        print("benchmarks with a missed target or an error: %s" % ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
