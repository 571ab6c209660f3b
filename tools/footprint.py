"""Footprint of sessionring per board: flash taken by the deployed files, heap left after boot.

    python tools/footprint.py            (make bench runs it; writes docs/benchmarks.md)

Flash: the files tools/deploy.py copies for each board (.mpy from mpy-cross for the board's
architecture, boot.py and main.py as source, board.json), in bytes and in 4 KB flash blocks.

Heap: the firmware booted on the MicroPython unix port with `-X heapsize` set to the board's
heap_kb budget and the board's own profile (slots, buffers, connection cap), from the same
.mpy layout a board gets (compiled for x64), exactly as boot.py then main.py start it; once the
admin page listens, gc.collect() and gc.mem_free() give the heap left for requests and
sessions. The unix port is a 64-bit build: pointers and object headers are twice the size of
the boards' 32-bit ones, so these figures are pessimistic for ESP32 and RP2040. The smallest
heap that still boots is found by bisection.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "vboard"))

import benchdoc  # noqa: E402
import deploy  # noqa: E402
from bridge import micropython_exe  # noqa: E402

BLOCK = 4096
BOOT_TIMEOUT_S = 60
PASSWORD = "footprint-password"

# boot.py then main.py, with a log hook that measures once the admin page listens
PROBE = """
import gc
from admin import start

def log(msg):
    print(msg)
    if msg.startswith("sessionring: admin page at"):
        gc.collect()
        print("footprint: free=%d alloc=%d" % (gc.mem_free(), gc.mem_alloc()))
        raise SystemExit(0)

start.boot(log)
start.run(log)
"""


def flash(board):
    """Bytes per part and 4 KB blocks of the files deployed to `board`."""
    with tempfile.TemporaryDirectory() as tmp:
        items, prof = deploy.build(board, ROOT, tmp)
    parts = {"library": 0, "admin": 0, "boot.py + main.py": 0, "board.json": 0}
    for i in items:
        if i.target.startswith("lib/"):
            parts["library"] += i.size
        elif i.target.startswith("admin/"):
            parts["admin"] += i.size
        elif i.target == "board.json":
            parts["board.json"] += i.size
        else:
            parts["boot.py + main.py"] += i.size
    total = sum(parts.values())
    nblocks = sum((i.size + BLOCK - 1) // BLOCK for i in items)
    return {"parts": parts, "total": total, "blocks": nblocks, "files": len(items), "prof": prof}


def stage(board, folder):
    """A board's filesystem in `folder`: x64 .mpy (the unix port loads those) and `board`'s
    profile as /board.json."""
    items, _ = deploy.build("unix", ROOT, folder / ".build")
    for i in items:
        out = folder / i.target
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(i.data)
    shutil.copyfile(ROOT / "boards" / board / "board.json", folder / "board.json")
    (folder / "probe.py").write_text(PROBE)


def boot(folder, heap_kb):
    """(free, alloc) after boot with `heap_kb`, or (None, reason)."""
    data = folder / "data"
    shutil.rmtree(data, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONRING_")}
    env.update(
        MICROPYPATH=os.pathsep.join([".frozen", "", str(folder / "lib")]),
        SESSIONRING_HOST="127.0.0.1",
        SESSIONRING_PORT="0",
        SESSIONRING_ADMIN_PASSWORD=PASSWORD,
    )
    argv = [micropython_exe(), "-X", "heapsize=%dK" % heap_kb, "probe.py"]
    try:
        proc = subprocess.run(
            argv, cwd=str(folder), env=env, capture_output=True, text=True, timeout=BOOT_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return None, "timed out"
    m = re.search(r"footprint: free=(\d+) alloc=(\d+)", proc.stdout)
    if m:
        return int(m.group(1)), int(m.group(2))
    text = proc.stdout + proc.stderr
    return None, "MemoryError" if "MemoryError" in text else text.strip()[-200:]


def smallest_heap(folder, hi_kb):
    """Smallest heap (KB, to 4 KB) that boots, searching up from 8 KB to hi_kb."""
    lo = 8
    if boot(folder, hi_kb)[0] is None:
        return None
    while hi_kb - lo > 4:
        mid = (lo + hi_kb) // 2
        if boot(folder, mid)[0] is None:
            lo = mid
        else:
            hi_kb = mid
    return hi_kb


def measure():
    boards = sorted(p.parent.name for p in (ROOT / "boards").glob("*/board.json"))
    rows = []
    for board in boards:
        f = flash(board)
        prof = f["prof"]
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            stage(board, folder)
            t0 = time.monotonic()
            free, alloc = boot(folder, prof["heap_kb"])
            boot_s = time.monotonic() - t0
            least = smallest_heap(folder, max(prof["heap_kb"], 64) * 4)
        rows.append((board, prof, f, free, alloc, boot_s, least))
        print(
            "%s: flash %d B in %d files (%d blocks); heap %d KB -> free %s; boots from %s KB"
            % (board, f["total"], f["files"], f["blocks"], prof["heap_kb"], free or alloc, least),
            flush=True,
        )
    return rows


def kb(n):
    return "%.1f KB" % (n / 1024)


def markdown(rows):
    out = [
        "## Footprint",
        "",
        "Command: `python tools/footprint.py` (part of `make bench`). Flash: the files "
        "`tools/deploy.py` copies to each board (.mpy compiled by mpy-cross for the board's "
        "architecture; boot.py, main.py and board.json as they are). Heap: the firmware booted "
        "on the MicroPython unix port with `-X heapsize` set to the board's `heap_kb` and the "
        "board's profile, measured with `gc.mem_free()` after `gc.collect()` once the admin page "
        "listens.",
        "",
        "| board | arch | library | admin app | boot.py + main.py | board.json | total "
        "| 4 KB blocks | share of flash_kb |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for board, prof, f, *_ in rows:
        p = f["parts"]
        out.append(
            "| %s | %s | %s | %s | %s | %s | **%s** | %d | %.1f %% of %d KB |"
            % (
                board,
                prof["mpy_arch"],
                kb(p["library"]),
                kb(p["admin"]),
                kb(p["boot.py + main.py"]),
                kb(p["board.json"]),
                kb(f["total"]),
                f["blocks"],
                100.0 * f["blocks"] * BLOCK / (prof["flash_kb"] * 1024),
                prof["flash_kb"],
            )
        )
    out += [
        "",
        "| board | heap budget (`-X heapsize`) | slots x data bytes | conns x buffer "
        "| free after boot | used | boots from |",
        "|---|---|---|---|---|---|---|",
    ]
    for board, prof, _, free, alloc, _, least in rows:
        budget = prof["heap_kb"] * 1024
        if free is None:
            cells = "does not boot (%s) | - " % alloc
        else:
            cells = "**%s** (%.0f %%) | %s " % (kb(free), 100.0 * free / budget, kb(alloc))
        out.append(
            "| %s | %d KB | %d x %d | %d x %d | %s| %s |"
            % (
                board,
                prof["heap_kb"],
                prof["slots"],
                prof["data_bytes"],
                prof["max_conns"],
                prof["buf_size"],
                cells,
                "%d KB" % least if least else "-",
            )
        )
    out += [
        "",
        "The unix port is a 64-bit build: words, pointers and GC blocks are twice the size of "
        "those on the 32-bit ESP32 and RP2040, so the heap figures overstate what the boards "
        "use (flash figures are exact: the .mpy bytes are the same). 'boots from' is "
        "the smallest `-X heapsize` with which the firmware reached the listening line "
        "(bisection to 4 KB).",
        "",
        benchdoc.machine_line(),
    ]
    return "\n".join(out)


def main():
    rows = measure()
    benchdoc.write_section("footprint", markdown(rows))
    print("footprint: written to docs/benchmarks.md", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
