"""Write one section of docs/benchmarks.md, leaving the others as they are.

Each benchmark owns the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`.
"""

import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
HEAD = """# Benchmarks

Produced by `make bench` (or the narrower target named in each section). Figures are ratios
to a baseline measured in the same run on the same machine; absolute numbers are given for
context only and vary between machines.
"""


def machine_line():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mp = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "micropython"), "-c", "import sys; print(sys.version)"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        mp = "?"
    return "Machine: %s, %d cores; MicroPython %s; CPython %s." % (
        cpu,
        os.cpu_count() or 0,
        mp,
        platform.python_version(),
    )


def write_section(name, markdown):
    text = DOC.read_text() if DOC.exists() else HEAD
    begin, end = "<!-- bench:%s -->" % name, "<!-- /bench:%s -->" % name
    block = "%s\n%s\n%s" % (begin, markdown.strip(), end)
    if begin in text and end in text:
        pre, rest = text.split(begin, 1)
        post = rest.split(end, 1)[1]
        text = pre + block + post
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(exist_ok=True)
    tmp = DOC.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, DOC)
