"""`make bench`: every benchmark, each writing its own section of docs/benchmarks.md.

    python tools/bench [all|ring|sealed|http|heap|footprint|firmware|oldnew|soak|tls ...]
                       [--strict] [[--] ARGS]

A missed target is reported (MISS, here and in the section) and the exit status stays 0;
--strict (`make bench STRICT=1`) exits 1 on a MISS. A benchmark that cannot run is always an
error. ARGS go to each benchmark named: those after `--`, or from the first option on (e.g.
`python tools/bench http --seconds 5`, `python tools/bench tls -- heap cheap`).
"""

import subprocess
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent.parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

from bench.common import DOC, MISS_EXIT  # noqa: E402

MODULES = {
    "ring": "stores",
    "sealed": "stores",
    "http": "httpbench",
    "heap": "heap",
    "footprint": "footprint",
    "firmware": "firmware",
    "soak": "soak",
    "oldnew": "oldnew",
    "tls": "tls",
}
ALL = ("ring", "sealed", "http", "heap", "footprint", "firmware", "oldnew")  # not soak, tls


def run_one(name, extra=()):
    argv = [sys.executable, "-m", "bench." + MODULES[name], name] + list(extra)
    return subprocess.run(argv, cwd=str(TOOLS)).returncode


def main(argv):
    strict = "--strict" in argv
    argv = [a for a in argv if a != "--strict"]
    cut = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, extra = argv[:cut] or ["all"], argv[cut:]
    if extra[:1] == ["--"]:
        extra = extra[1:]
    names = list(ALL) if names == ["all"] else names
    for name in names:
        if name not in MODULES:
            sys.exit("unknown benchmark %r: choose from all, %s" % (name, ", ".join(MODULES)))
    missed, failed = [], []
    for name in names:
        print("== bench %s" % name, flush=True)
        rc = run_one(name, extra)
        (missed if rc == MISS_EXIT else failed if rc else []).append(name)
    if missed:
        print("bench: MISS: %s missed a target (MISS rows in %s)" % (", ".join(missed), DOC))
    if failed:
        print("bench: ERROR: %s did not run to the end (see above)" % ", ".join(failed))
    if not missed and not failed:
        print("bench: every target met")
    return 1 if failed or (strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
