"""Footprint of sessionring per board: flash taken by the deployed files, heap left after boot,
on the PyPI unix port (64-bit, host-only) and on the board-faithful build (32-bit, frozen).

    python tools/bench footprint            (make bench runs it; writes docs/benchmarks.md)

Flash: the files tools/deploy.py copies for each board (.mpy from mpy-cross for the board's
architecture, boot.py and main.py as source, board.json), in bytes and in 4 KB flash blocks.

Heap: the firmware booted on the MicroPython unix port with `-X heapsize` set to the board's
heap_kb budget and the board's own profile (slots, buffers, connection cap), from the same
.mpy layout a board gets (compiled for x64), exactly as boot.py then main.py start it; once the
admin page listens, gc.collect() and gc.mem_free() give the heap left for requests and
sessions. The unix port is a 64-bit build: pointers and object headers are twice the size of
the boards' 32-bit ones, so these figures are pessimistic for ESP32 and RP2040. The smallest
heap that still boots is found by bisection.

The board-faithful build (tools/faithful.py unix32: 32-bit, the project frozen in) gives the
figures a board is judged by: free heap after boot at the board's budget, and the smallest heap
that serves the login page, a login and the logged-in dashboard. On the qemu images
(Cortex-M0 and Cortex-M3) the heap kept by importing sessionring._viper is measured too.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import deploy
import faithful
from bench import common as benchdoc
from bench.common import ROOT
from fwclient import Client, Firmware
from hosttools import find_tool

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


def _boot(exe, folder, heap_kb, path):
    """(free, alloc) after the probe's boot with `heap_kb` on `exe` with MICROPYPATH `path`
    (a fresh data folder: a first boot), or (None, reason)."""
    shutil.rmtree(folder / "data", ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONRING_")}
    env.update(
        MICROPYPATH=os.pathsep.join(path),
        SESSIONRING_HOST="127.0.0.1",
        SESSIONRING_PORT="0",
        SESSIONRING_ADMIN_PASSWORD=PASSWORD,
    )
    argv = [str(exe), "-X", "heapsize=%dK" % heap_kb, "probe.py"]
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


def boot(folder, heap_kb):
    # the PyPI unix port, the .mpy files stage() wrote
    return _boot(find_tool("micropython"), folder, heap_kb, [".frozen", "", str(folder / "lib")])


# ---- the board-faithful build (tools/faithful.py unix32: 32-bit, the project frozen in)


def _profile(board):
    prof = json.loads((ROOT / "boards" / board / "board.json").read_text())
    prof.setdefault("firmware", {})["http_host"] = "127.0.0.1"  # on this machine: loopback only
    return prof


def serves(board, heap_kb, folder):
    """'ok' when the faithful build with `heap_kb` served the login page, took a login and
    served the logged-in dashboard (a page, not a listening line); else what went wrong."""
    shutil.rmtree(Path(folder) / "data", ignore_errors=True)  # a first boot, every time
    fw = Firmware("micropython32", folder, _profile(board), PASSWORD, "%dK" % heap_kb, False)
    try:
        fw.start()
    except AssertionError:
        return "no boot"
    try:
        c = Client(fw.port)
        r = c.login(PASSWORD)
        if r.status != 303 or "sid" not in c.cookies:
            return "POST /login: %d" % r.status
        r = c.get("/")
        return "ok" if r.status == 200 and "Free heap" in r.text else "GET /: %d" % r.status
    except (OSError, http.client.HTTPException, AssertionError) as e:
        return "connection: %s" % e
    finally:
        fw.stop()


def smallest_serving_heap(board, folder, hi_kb):
    """Smallest heap (KB) in which the faithful build serves login and dashboard: bisection
    to 1 KB, then up until two heaps in a row serve (near the floor a heap that boots may
    still answer 503, and the floor is not quite monotonic)."""
    least = benchdoc.smallest(lambda kb: serves(board, kb, folder) == "ok", range(8, hi_kb + 1))
    while least and serves(board, least + 1, folder) != "ok":
        least += 1
    return least


def faithful_boot(board, heap_kb, folder):
    """(free, alloc) after boot on the faithful build with `heap_kb`, or (None, reason)."""
    folder = Path(folder)
    folder.joinpath("board.json").write_text(json.dumps(_profile(board)))
    (folder / "probe.py").write_text(PROBE)
    return _boot(faithful.build("unix32"), folder, heap_kb, [".frozen"])


def viper_heap():
    """{target: bytes} the heap keeps after importing sessionring._viper (its viper functions
    are compiled at import; on the qemu images the machine code lands in the GC heap)."""
    out, code = {}, benchdoc.import_probe("sessionring._viper")
    for target in ("armv6m", "armv7m"):
        with faithful.QemuBoard(target) as b:
            out[target] = benchdoc.kept(b.run(code))
    env = dict(os.environ, MICROPYPATH=".frozen")
    out["unix32"] = benchdoc.probe(faithful.build("unix32"), code, env)
    return {t: k[0] if k else None for t, k in out.items()}


def measure_faithful():
    boards = sorted(p.parent.name for p in (ROOT / "boards").glob("*/board.json"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for board in boards:
            prof = json.loads((ROOT / "boards" / board / "board.json").read_text())
            folder = Path(tmp) / board
            folder.mkdir()
            free, alloc = faithful_boot(board, prof["heap_kb"], folder)
            # the host profile's logins hash 200k PBKDF2 rounds: its floor is not a board's
            least = (
                None if board == "unix" else smallest_serving_heap(board, folder, prof["heap_kb"])
            )
            parts = faithful_parts(board, folder) if board == "esp32" else None
            rows.append((board, prof, free, alloc, least, parts))
            print(
                "%s (faithful): heap %d KB -> free %s; serves login + dashboard from %s KB"
                % (board, prof["heap_kb"], free if free is not None else alloc, least),
                flush=True,
            )
    return rows


def faithful_parts(board, folder):
    """What the heap holds after importing each part, on the faithful build (bytes)."""
    code = benchdoc.import_probe(
        "asyncio",
        "sessionring.http, sessionring.ring, sessionring.auth, sessionring._viper",
        "admin.app, admin.start, admin.pages, admin.settings_page, admin.api",
    )
    env = dict(os.environ, MICROPYPATH=".frozen")
    k = benchdoc.probe(faithful.build("unix32"), code, env, str(folder))
    return dict(zip(("asyncio", "library", "admin"), k, strict=True)) if k else None


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
            hi = max(prof["heap_kb"], 64) * 4  # to 4 KB: the smallest heap that boots
            boots = lambda kb, d=folder: boot(d, kb)[0] is not None
            least = benchdoc.smallest(boots, range(8, hi + 1, 4))
        rows.append((board, prof, f, free, alloc, boot_s, least))
        print(
            "%s: flash %d B in %d files (%d blocks); heap %d KB -> free %s; boots from %s KB"
            % (board, f["total"], f["files"], f["blocks"], prof["heap_kb"], free or alloc, least),
            flush=True,
        )
    return rows


def kb(n):
    return "%.1f KB" % (n / 1024)


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


def markdown(rows, frows=(), viper=None):
    out = [
        "## Footprint",
        "",
        "Command: `python tools/bench footprint` (part of `make bench`). Flash: the files "
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
        "| board | heap budget (`-X heapsize`) | slots x data bytes | work slots x buffer "
        "| free after boot | used | boots from |",
        "|---|---|---|---|---|---|---|",
    ]
    for board, prof, _, free, alloc, _, least in rows:
        lim = limits(prof)
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
                lim["slots"],
                lim["data_bytes"],
                lim["work_slots"],
                lim["buffer"],
                cells,
                "%d KB" % least if least else "-",
            )
        )
    out += [
        "",
        "**Host-only**: the table above is the PyPI unix port, a 64-bit build that loads the "
        ".mpy code into its heap: words, pointers and GC blocks are twice the size of those on "
        "the 32-bit ESP32 and RP2040, so its heap figures overstate what the boards use (flash "
        "figures are exact: the .mpy bytes are the same). 'boots from' is the smallest "
        "`-X heapsize` with which the firmware reached the listening line (bisection to 4 KB).",
    ]
    out += faithful_markdown(frows, viper)
    out += ["", benchdoc.machine_line()]
    return "\n".join(out)


TARGET_SERVES_KB = 40  # the esp32 profile serves login and dashboard from 40 KB or less
TARGET_FREE_KB = 64  # ... and has this much free after boot at its heap_kb budget
SPARE_KB = 32  # ... and within its budget with 32 KB to spare (host_tests/test_firmware_budget)


def targets(frows):
    esp = [r for r in frows if r[0] == "esp32"]
    if not esp:
        return []
    _, prof, free, _, least, _ = esp[0]
    spare = prof["heap_kb"] - SPARE_KB
    return [
        (
            "esp32 profile has %d KB free after boot at its %d KB budget"
            % (TARGET_FREE_KB, prof["heap_kb"]),
            kb(free) if free is not None else "does not boot",
            bool(free is not None and free >= TARGET_FREE_KB * 1024),
        ),
        (
            "esp32 profile serves login + dashboard from a %d KB heap or less" % TARGET_SERVES_KB,
            "%s KB" % least if least else "not within its budget",
            bool(least and least <= TARGET_SERVES_KB),
        ),
        (
            "esp32 profile serves within its %d KB budget with %d KB to spare (at %d KB; the "
            "test host_tests/test_firmware_budget.py)" % (prof["heap_kb"], SPARE_KB, spare),
            "%s KB" % least if least else "no",
            bool(least and least <= spare),
        ),
    ]


def faithful_markdown(frows, viper):
    out = [
        "",
        "### Heap on the board-faithful build (the figures a board is judged by)",
        "",
        "`tools/faithful.py unix32` (`make faithful`): MicroPython v1.28.0 built as a 32-bit "
        "unix binary with the library and the admin app frozen in through "
        "`boards/unix/manifest.py`, as a board runs them (their code in the image, not in the "
        "heap). The firmware runs each board's profile with `-X heapsize` set as shown; "
        "'serves from' is the smallest heap in which it served GET /login, took a login and "
        "served the logged-in dashboard (a page, not the listening line; bisection to 1 KB, "
        "then up until two heaps in a row serve). That floor moves by a few KB between runs "
        "(the garbage collector scans the C stack conservatively). Command: `make footprint` "
        "(`python tools/bench footprint`, part of `make bench`).",
        "",
        "| board | heap budget | free after boot at the budget | serves login + dashboard from |",
        "|---|---|---|---|",
    ]
    for board, prof, free, alloc, least, _ in frows:
        budget = prof["heap_kb"] * 1024
        cell = (
            "does not boot (%s)" % alloc
            if free is None
            else "**%s** (%.0f %%; %s used)" % (kb(free), 100.0 * free / budget, kb(alloc))
        )
        out.append(
            "| %s | %d KB | %s | %s |"
            % (
                board,
                prof["heap_kb"],
                cell,
                "**%d KB**" % least if least else "- (host profile)" if board == "unix" else "-",
            )
        )
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
    rows = targets(frows)
    if rows:
        out += ["", "### Targets (faithful build)", "", "| target | measured | |", "|---|---|---|"]
        for name, got, ok in rows:
            out.append("| %s | %s | %s |" % (name, got, "PASS" if ok else "MISS"))
    esp = [r for r in frows if r[0] == "esp32"]
    if esp and esp[0][5] and not all(ok for _, _, ok in rows):
        parts = esp[0][5]
        prof, alloc = esp[0][1], esp[0][3]
        lim = limits(prof)
        conn = lim["work_slots"] * (lim["buffer"] + lim["out_size"])
        ring = lim["slots"] * (44 + lim["data_bytes"])
        out += [
            "",
            "What the esp32 profile's heap holds after boot (%s in use at its budget): asyncio's "
            "module state %s; the library's (frozen: module globals, classes, tables and the "
            "viper functions, not their bytecode) %s; the admin app's %s; the session ring "
            "(%d slots x (44 + %d) B) %s; the %d work slots' buffers (%d + %d B each), %s; the "
            "other %s is the firmware's own objects (settings, account, the server, its %d "
            "connection records, Requests) and what boot left. A request then needs room to "
            "parse it and to build its answer. To serve from %d KB it would need about %d KB "
            "less: e.g. smaller or fewer work slots (the board's server section) or less module "
            "state kept by the library and the app."
            % (
                kb(alloc),
                kb(parts["asyncio"]),
                kb(parts["library"]),
                kb(parts["admin"]),
                lim["slots"],
                lim["data_bytes"],
                kb(ring),
                lim["work_slots"],
                lim["buffer"],
                lim["out_size"],
                kb(conn),
                kb(max(0, alloc - ring - conn - sum(parts.values()))),
                lim["max_conns"],
                TARGET_SERVES_KB,
                (esp[0][4] or 0) - TARGET_SERVES_KB,
            ),
        ]
    return out


def main(argv=()):
    rows = measure()
    frows = measure_faithful()
    viper = viper_heap()
    print("viper heap kept:", viper, flush=True)
    benchdoc.write_section("footprint", markdown(rows, frows, viper))
    print("footprint: written to docs/benchmarks.md", flush=True)
    missed = [name for name, _, ok in targets(frows) if not ok]
    for name in missed:
        print("footprint: MISS: " + name, flush=True)
    return benchdoc.MISS_EXIT if missed else 0


if __name__ == "__main__":
    sys.exit(main())
