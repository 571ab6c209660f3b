"""`python tools/bench footprint` (`make footprint`, part of `make bench`): per board, the flash
taken by the files tools/deploy.py copies (bytes, 4 KB blocks), and the heap on the
board-faithful build (tools/faithful.py unix32: the figures a board is judged by) as HEAP below
states it; for esp32, what its heap holds after importing each part; on the qemu images
(Cortex-M0, Cortex-M3), the heap kept by importing sessionring._viper. Writes the "footprint"
section of docs/benchmarks.md.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import deploy
import faithful
import fwclient
from bench import common
from bench.common import ROOT, table
from fwclient import Client, Firmware

BLOCK = 4096
BOOT_TIMEOUT_S = 60
PASSWORD = "footprint-password"
TARGET_SERVES_KB = 40  # the esp32 profile serves login and dashboard from 40 KB or less
TARGET_FREE_KB = 64  # ... and has this much free after boot at its heap_kb budget
SPARE_KB = 32  # ... and within its budget with 32 KB to spare (host_tests/test_firmware_budget)

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


def boards():
    return sorted(p.parent.name for p in (ROOT / "boards").glob("*/board.json"))


LOOPBACK = {"firmware": {"http_host": "127.0.0.1"}}  # on this machine: loopback only


def limits(prof):
    """The sizes a board.json sets, or the library classes' defaults where it is silent:
    slots, data_bytes, max_conns, work_slots, and a work slot's request buffer and answer
    scratch in bytes."""
    deploy.board_problems({})  # firmware/ and lib/ on sys.path, as the firmware reads them
    import inspect

    from sessionring.http import Server
    from sessionring.ring import SessionRing

    ring = {k: p.default for k, p in inspect.signature(SessionRing).parameters.items()}
    ring.update(prof.get("store", {}))
    srv = prof.get("server", {})

    def server(k):
        return srv.get(k, getattr(Server, k))

    return {
        "slots": ring["slots"],
        "data_bytes": ring["data_bytes"],
        "max_conns": server("max_conns"),
        "work_slots": server("work_slots"),
        "buffer": max(server("buf_size"), server("max_head")),
        "out_size": server("out_size"),
    }


def flash(board):
    """Bytes per part and 4 KB blocks of the files deployed to `board`."""
    with tempfile.TemporaryDirectory() as tmp:
        items, prof = deploy.build(board, ROOT, tmp)
    parts = {"library": 0, "admin": 0, "boot.py + main.py": 0, "board.json": 0}
    for i in items:
        top = i.target.split("/")[0]
        part = {"lib": "library", "admin": "admin", "board.json": "board.json"}.get(top)
        parts[part or "boot.py + main.py"] += i.size
    nblocks = sum((i.size + BLOCK - 1) // BLOCK for i in items)
    total = sum(parts.values())
    return {"parts": parts, "total": total, "blocks": nblocks, "files": len(items), "prof": prof}


def boot(board, heap_kb, folder):
    """(free, alloc) after boot on the faithful build with `heap_kb` (a fresh data folder: a
    first boot), or (None, reason)."""
    folder = Path(folder)
    shutil.rmtree(folder / "data", ignore_errors=True)
    prof = json.loads((ROOT / "boards" / board / "board.json").read_text())
    (folder / "board.json").write_text(json.dumps(fwclient.merge(prof, LOOPBACK)))
    (folder / "probe.py").write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONRING_")}
    env.update(MICROPYPATH=".frozen", SESSIONRING_PORT="0", SESSIONRING_ADMIN_PASSWORD=PASSWORD)
    argv = [str(faithful.build("unix32")), "-X", "heapsize=%dK" % heap_kb, "probe.py"]
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


def serves(board, heap_kb, folder):
    """True when the faithful build with `heap_kb` served the login page, took a login and
    served the logged-in dashboard (a page, not a listening line)."""
    shutil.rmtree(Path(folder) / "data", ignore_errors=True)  # a first boot, every time
    heap = "%dK" % heap_kb
    fw = Firmware("micropython32", folder, LOOPBACK, PASSWORD, heap, False, board=board)
    try:
        fw.start()
        c = Client(fw.port)
        if c.login(PASSWORD).status != 303 or "sid" not in c.cookies:
            return False
        r = c.get("/")
        return r.status == 200 and "Free heap" in r.text
    except (OSError, http.client.HTTPException, AssertionError):  # AssertionError: no boot
        return False
    finally:
        fw.stop()


def smallest_serving_heap(board, folder, hi_kb):
    """Smallest heap (KB) in which the faithful build serves login and dashboard: bisection
    to 1 KB, then up until two heaps in a row serve (near the floor a heap that boots may
    still answer 503, and the floor is not quite monotonic)."""
    least = common.smallest(lambda kb: serves(board, kb, folder), range(8, hi_kb + 1))
    while least and not serves(board, least + 1, folder):
        least += 1
    return least


def parts(folder):
    """What the heap holds after importing each part, on the faithful build (bytes)."""
    code = common.import_probe(
        "asyncio",
        "sessionring.http, sessionring.ring, sessionring.auth, sessionring._viper",
        "admin.app, admin.start, admin.pages, admin.settings_page, admin.api",
    )
    env = dict(os.environ, MICROPYPATH=".frozen")
    k = common.probe(faithful.build("unix32"), code, env, str(folder))
    return dict(zip(("asyncio", "library", "admin"), k, strict=True)) if k else None


def viper_heap():
    """{target: bytes} the heap keeps after importing sessionring._viper (its viper functions
    are compiled at import; on the qemu images the machine code lands in the GC heap)."""
    out, code = {}, common.import_probe("sessionring._viper")
    for target in ("armv6m", "armv7m"):
        with faithful.QemuBoard(target) as b:
            out[target] = common.kept(b.run(code))
    env = dict(os.environ, MICROPYPATH=".frozen")
    out["unix32"] = common.probe(faithful.build("unix32"), code, env)
    return {t: k[0] if k else None for t, k in out.items()}


def measure():
    """Per board: (board, profile, flash, free, alloc, smallest serving heap, parts)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for board in boards():
            f, folder = flash(board), Path(tmp) / board
            folder.mkdir()
            prof = f["prof"]
            free, alloc = boot(board, prof["heap_kb"], folder)
            # the host profile's logins hash 200k PBKDF2 rounds: its floor is not a board's
            least = None
            if board != "unix":
                least = smallest_serving_heap(board, folder, prof["heap_kb"])
            held = parts(folder) if board == "esp32" else None
            rows.append((board, prof, f, free, alloc, least, held))
            print(board, f["total"], "B of flash; free", free or alloc, "serves from", least)
    return rows


def kb(n):
    return "%.1f KB" % (n / 1024)


FREE = "esp32 profile has %d KB free after boot at its %d KB budget"
SMALL = "esp32 profile serves login + dashboard from a %d KB heap or less" % TARGET_SERVES_KB
SPARE = "esp32 profile serves within its %d KB budget with %d KB to spare (at %d KB; the test "
SPARE += "host_tests/test_firmware_budget.py)"


def targets(rows):
    esp = [r for r in rows if r[0] == "esp32"]
    if not esp:
        return []
    _, prof, _, free, _, least, _ = esp[0]
    spare = prof["heap_kb"] - SPARE_KB
    got = "%s KB" % least if least else "not within its budget"
    has_free = free is not None and free >= TARGET_FREE_KB * 1024
    return [
        (FREE % (TARGET_FREE_KB, prof["heap_kb"]), kb(free) if free else "-", has_free),
        (SMALL, got, bool(least and least <= TARGET_SERVES_KB)),
        (SPARE % (prof["heap_kb"], SPARE_KB, spare), got, bool(least and least <= spare)),
    ]


FLASH_HEAD = "board | arch | library | admin app | boot.py + main.py | board.json | total | "
FLASH_HEAD += "4 KB blocks | share of flash_kb"
HEAP_HEAD = "board | heap budget | free after boot at the budget | serves login + dashboard from"
HEAP = (
    "`tools/faithful.py unix32` (`make faithful`): MicroPython v1.28.0 built as a 32-bit "
    "unix binary with the library and the admin app frozen in through "
    "`boards/unix/manifest.py`, as a board runs them (their code in the image, not in the "
    "heap). The firmware runs each board's profile with `-X heapsize` set as shown; free "
    "after boot is `gc.mem_free()` after `gc.collect()` once the admin page listens; "
    "'serves from' is the smallest heap in which it served GET /login, took a login and "
    "served the logged-in dashboard (a page, not the listening line; bisection to 1 KB, "
    "then up until two heaps in a row serve). That floor moves by a few KB between runs "
    "(the garbage collector scans the C stack conservatively)."
)


def markdown(rows, viper=None):
    flash_rows, heap_rows = [], []
    for board, prof, f, free, alloc, least, _ in rows:
        p = f["parts"]
        share = 100.0 * f["blocks"] * BLOCK / (prof["flash_kb"] * 1024)
        share = "%.1f %% of %d KB" % (share, prof["flash_kb"])
        sizes = [kb(v) for v in p.values()] + ["**%s**" % kb(f["total"])]
        flash_rows.append([board, prof["mpy_arch"]] + sizes + [f["blocks"], share])
        cell = "does not boot (%s)" % alloc
        if free is not None:
            used = 100.0 * free / (prof["heap_kb"] * 1024)
            cell = "**%s** (%.0f %%; %s used)" % (kb(free), used, kb(alloc))
        floor = "**%d KB**" % least if least else "- (host profile)" if board == "unix" else "-"
        heap_rows.append((board, "%d KB" % prof["heap_kb"], cell, floor))
    out = [
        "## Footprint",
        "",
        "Command: `make footprint` (`python tools/bench footprint`, part of `make bench`). "
        "Flash: the files `tools/deploy.py` copies to each board (.mpy compiled by mpy-cross "
        "for the board's architecture; boot.py, main.py and board.json as they are).",
        "",
        table(FLASH_HEAD, flash_rows),
        "",
        "### Heap on the board-faithful build (the figures a board is judged by)",
        "",
        HEAP,
        "",
        table(HEAP_HEAD, heap_rows),
    ]
    esp = [r for r in rows if r[0] == "esp32" and r[6] and r[3] is not None]
    if esp:
        _, prof, _, free, alloc, _, held = esp[0]
        lim = limits(prof)
        ring = lim["slots"] * (44 + lim["data_bytes"])
        bufs = lim["work_slots"] * (lim["buffer"] + lim["out_size"])
        own = max(0, alloc - ring - bufs - sum(held.values()))
        head = ["asyncio", "library (frozen: state only)", "admin app"]
        head += ["session ring (%d x (44 + %d) B)" % (lim["slots"], lim["data_bytes"])]
        head += ["%(work_slots)d work slots' buffers (%(buffer)d + %(out_size)d B each)" % lim]
        own_head = "the firmware's own objects (its %(max_conns)d connection records, ...)" % lim
        head += [own_head + " and what boot left", "in use"]
        cells = [held["asyncio"], held["library"], held["admin"], ring, bufs, own, alloc]
        what = "What the esp32 profile's heap holds after boot, at its budget:"
        out += ["", what, "", table(" | ".join(head), [[kb(n) for n in cells]])]
    if viper:
        out += [
            "",
            "Heap kept by importing `sessionring._viper` (its viper functions are compiled at "
            "import): %s on qemu's Cortex-M0 (`armv6m`, the RP2040's architecture: the Pico W "
            "estimate), %s on its Cortex-M3 (`armv7m`), %s on the 32-bit unix build (whose "
            "machine code is not in the GC heap). Command: `tools/faithful.py` builds them; "
            "`tools/bench/footprint.py` boots each under qemu-system-arm."
            % tuple(
                "%d B" % viper[t] if viper.get(t) is not None else "n/a"
                for t in ("armv6m", "armv7m", "unix32")
            ),
        ]
    rows = targets(rows)
    if rows:
        out += ["", "### Targets (faithful build)", "", common.verdict(rows)[0]]
    return "\n".join(out + ["", common.machine_line()])


def main(argv=()):
    rows = measure()
    viper = viper_heap()
    print("viper heap kept:", viper, flush=True)
    common.write_section("footprint", markdown(rows, viper))
    print("footprint: written to docs/benchmarks.md", flush=True)
    missed = [name for name, _, ok in targets(rows) if not ok]
    for name in missed:
        print("footprint: MISS: " + name, flush=True)
    return common.MISS_EXIT if missed else 0


if __name__ == "__main__":
    sys.exit(main())
