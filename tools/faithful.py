#!/usr/bin/env python3
"""Board-faithful MicroPython builds with sessionring frozen in (`make faithful`).

    python tools/faithful.py [unix32|armv7m|armv6m|all ...] [--micropy-dir DIR] [--path]

Targets, each built into build/faithful/<target>/ and rebuilt only when its inputs change
(lib/, firmware/, boards/, tools/qemu/, the make flags, the MicroPython source):

  unix32  the unix port as a 32-bit binary (MICROPY_FORCE_32BIT=1) with the library and the
          admin app frozen through boards/unix/manifest.py: build/faithful/unix32/micropython
  armv7m  ports/qemu, BOARD=MPS2_AN385 (Cortex-M3), the library frozen in (tools/qemu/)
  armv6m  ports/qemu on the micro:bit machine (Cortex-M0, the RP2040's architecture) with the
          native emitter on (tools/qemu/armv6m/), the library frozen in
  unix32tls   unix32 with TLS from Mbed TLS v3.6.2 instead of axtls, mbedtls allocating from
              the GC heap as on rp2 (the Pico W): build/faithful/unix32tls/micropython
  unix32tlsc  the same with mbedtls allocating from the C heap, as on ESP32 (whose mbedtls takes
              the IDF heap): build/faithful/unix32tlsc/micropython

The MicroPython source is MICROPY_DIR (or --micropy-dir): a checkout of v1.28.0 with the
submodules lib/axtls and lib/micropython-lib (and lib/mbedtls for the TLS targets). Without
it, the tarball ../shared/vendor/micropython-1.28.0.tar.xz (beside the repository) is unpacked
into build/, and for the TLS targets ../shared/vendor/mbedtls-3.6.2.tar.xz into its lib/mbedtls.
Nothing is downloaded. --path prints the built file of each target (one a line).
Debian packages: gcc-multilib (unix32), gcc-arm-none-eabi and libnewlib-arm-none-eabi
(qemu), qemu-system-arm to run them.
"""

import argparse
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
OUT = BUILD / "faithful"
VERSION = "1.28.0"
TARBALL = ROOT.parent / "shared" / "vendor" / ("micropython-%s.tar.xz" % VERSION)
QEMU_DIR = ROOT / "tools" / "qemu"
MBEDTLS_VERSION = "3.6.2"
MBEDTLS_TARBALL = ROOT.parent / "shared" / "vendor" / ("mbedtls-%s.tar.xz" % MBEDTLS_VERSION)

# The unix port without the parts whose submodules a host build does not need.
UNIX_FLAGS = (
    "MICROPY_FORCE_32BIT=1",
    "MICROPY_PY_BTREE=0",
    "MICROPY_PY_FFI=0",
    "MICROPY_SSL_MBEDTLS=0",
    "MICROPY_SSL_AXTLS=1",
)
# qemu's micro:bit machine with the RAM and flash of a bigger nRF51 (as MicroPython's own
# MICROBIT board runs it), so that the tests fit beside the frozen library.
QEMU_MACHINES = {
    "armv7m": ["-machine", "mps2-an385"],
    "armv6m": [
        "-machine",
        "microbit",
        "-global",
        "nrf51-soc.flash-size=1048576",
        "-global",
        "nrf51-soc.sram-size=262144",
    ],
}
# The unix port with Mbed TLS: the TLS module of the boards (ESP32, rp2), which axtls is not
# (axtls offers only RSA key exchange with CBC suites).
UNIX_TLS_FLAGS = tuple(f for f in UNIX_FLAGS if "_SSL_" not in f) + (
    "MICROPY_SSL_MBEDTLS=1",
    "MICROPY_SSL_AXTLS=0",
)
# mbedtls allocating from the GC heap, as rp2 configures it: the port's configuration with the
# "bare metal" memory hooks (m_tracked_calloc/free) and the platform's own entropy, which is
# what ports/unix/mbedtls/mbedtls_config_port.h does for its coverage variant.
MBEDTLS_GC_HEAP_CONFIG = """\
// tools/faithful.py unix32tls: mbedtls allocates from the GC heap (MICROPY_TRACKED_ALLOC).
#ifndef SESSIONRING_MBEDTLS_CONFIG_H
#define SESSIONRING_MBEDTLS_CONFIG_H
#define MBEDTLS_CIPHER_MODE_CTR
#define MBEDTLS_TIMING_C
#define MICROPY_MBEDTLS_CONFIG_BARE_METAL (1)
#include "extmod/mbedtls/mbedtls_config_common.h"
#undef MBEDTLS_ENTROPY_HARDWARE_ALT
#undef MBEDTLS_NO_PLATFORM_ENTROPY
#endif
"""
TLS_TARGETS = ("unix32tls", "unix32tlsc")
TARGETS = ("unix32", "armv7m", "armv6m") + TLS_TARGETS
UNIX_TARGETS = ("unix32",) + TLS_TARGETS
# The qemu images' GC heap: 192 KB, about a Pico W's (the micro:bit machine has 256 KB of RAM
# here). Tests written for a host's heap and speed say so (HOST_ONLY, host_tests/harness.py).
QEMU_HEAP = {"armv6m": 192 * 1024, "armv7m": 192 * 1024}


class BuildError(RuntimeError):
    pass


def log(msg):
    print("faithful: " + msg, file=sys.stderr, flush=True)


# ---- the MicroPython source


def source_version(src):
    """'1.28.0' from a MicroPython tree's py/mpconfig.h."""
    text = (Path(src) / "py" / "mpconfig.h").read_text()
    parts = [
        re.search(r"#define MICROPY_VERSION_%s \(?(\d+)" % k, text).group(1)
        for k in ("MAJOR", "MINOR", "MICRO")
    ]
    return ".".join(parts)


def check_source(src):
    src = Path(src).resolve()
    if not (src / "py" / "mpconfig.h").is_file():
        raise BuildError("%s is not a MicroPython source tree (no py/mpconfig.h)" % src)
    got = source_version(src)
    if got != VERSION:
        raise BuildError(
            "%s is MicroPython %s; these builds are made from v%s" % (src, got, VERSION)
        )
    for sub in ("lib/axtls", "lib/micropython-lib"):
        d = src / sub
        if not d.is_dir() or not any(d.iterdir()):
            raise BuildError(
                "%s is empty: run `git -C %s submodule update --init lib/axtls "
                "lib/micropython-lib`" % (d, src)
            )
    return src


def source_dir(micropy_dir=None):
    """The MicroPython tree to build from: MICROPY_DIR, else the vendored tarball unpacked
    into build/ (once)."""
    micropy_dir = micropy_dir or os.environ.get("MICROPY_DIR")
    if micropy_dir:
        return check_source(micropy_dir)
    dest = BUILD / ("micropython-%s" % VERSION)
    stamp = BUILD / (".micropython-%s.unpacked" % VERSION)
    if not stamp.exists():
        if not TARBALL.is_file():
            raise BuildError(
                "no MicroPython source: set MICROPY_DIR to a v%s checkout (docs/deploy.md), "
                "or put micropython-%s.tar.xz in %s" % (VERSION, VERSION, TARBALL.parent)
            )
        log("unpacking %s into build/" % TARBALL.name)
        if dest.exists():
            shutil.rmtree(dest)
        BUILD.mkdir(parents=True, exist_ok=True)
        with tarfile.open(TARBALL) as tf:
            try:
                tf.extractall(BUILD, filter="tar")
            except TypeError:  # a Python without extraction filters (before 3.10.12)
                tf.extractall(BUILD)
        stamp.write_text(TARBALL.name + "\n")
    return check_source(dest)


def mbedtls_source(src):
    """Fill the tree's lib/mbedtls (an empty submodule directory in the vendored tarball) from
    ../shared/vendor/mbedtls-3.6.2.tar.xz, once; a checkout of one's own needs
    `git submodule update --init lib/mbedtls`."""
    d = Path(src) / "lib" / "mbedtls"
    if (d / "library" / "ssl_tls.c").is_file():
        return d
    if Path(src) != (BUILD / ("micropython-%s" % VERSION)).resolve():
        raise BuildError(
            "%s is empty: run `git -C %s submodule update --init lib/mbedtls`" % (d, src)
        )
    if not MBEDTLS_TARBALL.is_file():
        raise BuildError(
            "no Mbed TLS source: put %s in %s" % (MBEDTLS_TARBALL.name, TARBALL.parent)
        )
    log("unpacking %s into %s" % (MBEDTLS_TARBALL.name, d.relative_to(ROOT)))
    tmp = BUILD / ("mbedtls-unpack.%d" % os.getpid())
    if tmp.exists():
        shutil.rmtree(tmp)
    with tarfile.open(MBEDTLS_TARBALL) as tf:
        try:
            tf.extractall(tmp, filter="tar")
        except TypeError:  # a Python without extraction filters (before 3.10.12)
            tf.extractall(tmp)
    if d.exists():
        shutil.rmtree(d)
    os.replace(tmp / ("mbedtls-%s" % MBEDTLS_VERSION), d)
    shutil.rmtree(tmp)
    return d


# ---- inputs and cache


def _input_files():
    for top in ("lib", "firmware", "boards", "tools/qemu"):
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                yield p


def config_hash(target, src, make_args):
    """What make itself does not track: the source tree and the flags (a change of either
    rebuilds from clean)."""
    text = "%s\n%s\n%s\n%s\n" % (target, src, source_version(src), " ".join(make_args))
    if target == "unix32tls":
        text += MBEDTLS_GC_HEAP_CONFIG
    return hashlib.sha256(text.encode()).hexdigest()


def inputs_hash():
    """The project files a build freezes or is configured by."""
    h = hashlib.sha256()
    for p in _input_files():
        h.update(p.relative_to(ROOT).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _make(args, what):
    jobs = "-j%d" % max(1, min(2, os.cpu_count() or 1))
    cmd = ["make", jobs] + list(args)
    log("building %s" % what)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-6000:]
        raise BuildError("%s failed (%s):\n%s" % (what, " ".join(cmd), tail))


def artifact(target):
    name = "micropython" if target in UNIX_TARGETS else "firmware.elf"
    return OUT / target / name


def make_args(target, src):
    mpy_cross = OUT / "mpy-cross" / "mpy-cross"
    common = [
        "MICROPY_MPYCROSS=%s" % mpy_cross,
        "MICROPY_MPYCROSS_DEPENDENCY=%s" % mpy_cross,
        "BUILD=%s" % (OUT / target),
    ]
    if target in UNIX_TARGETS:
        flags = list(UNIX_FLAGS if target == "unix32" else UNIX_TLS_FLAGS)
        if target == "unix32tls":
            flags += [
                'MBEDTLS_CONFIG_FILE=\\"%s\\"' % (OUT / "mbedtls_config_gc_heap.h"),
                "CFLAGS_EXTRA=-DMICROPY_TRACKED_ALLOC=1",
            ]
        return (
            ["-C", str(src / "ports" / "unix")]
            + flags
            + common
            + ["FROZEN_MANIFEST=%s" % (ROOT / "boards" / "unix" / "manifest.py")]
        )
    manifest = "FROZEN_MANIFEST=%s" % (QEMU_DIR / "manifest.py")
    common.append("MICROPY_HEAP_SIZE=%d" % QEMU_HEAP.get(target, 0))
    if target == "armv7m":
        board = ["BOARD=MPS2_AN385"]
    elif target == "armv6m":
        board = ["BOARD=MICROBIT", "BOARD_DIR=%s" % (QEMU_DIR / "armv6m")]
    else:
        raise BuildError("unknown target %r (one of %s)" % (target, ", ".join(TARGETS)))
    return ["-C", str(src / "ports" / "qemu")] + board + common + [manifest]


def build(target, micropy_dir=None):
    """Path of the target's built file, building it first when its inputs changed."""
    src = source_dir(micropy_dir)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(OUT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time (parallel test runs)
        args = make_args(target, src)
        config, inputs = config_hash(target, src, args), inputs_hash()
        stamp = OUT / target / "inputs.sha256"
        out = artifact(target)
        old = stamp.read_text().split() if stamp.exists() else []
        if out.exists() and old == [config, inputs]:
            return out
        if old[:1] != [config] and (OUT / target).exists():
            shutil.rmtree(OUT / target)  # another source or other flags: from clean
        mpy_cross = OUT / "mpy-cross" / "mpy-cross"
        made_from = OUT / "mpy-cross" / "source"
        if not mpy_cross.exists() or made_from.read_text().strip() != str(src):
            if (OUT / "mpy-cross").exists():
                shutil.rmtree(OUT / "mpy-cross")
            _make(["-C", str(src / "mpy-cross"), "BUILD=%s" % (OUT / "mpy-cross")], "mpy-cross")
            made_from.write_text(str(src) + "\n")
        if stamp.exists():
            stamp.unlink()
        if target in TLS_TARGETS:
            mbedtls_source(src)
            conf = OUT / "mbedtls_config_gc_heap.h"
            if not conf.exists() or conf.read_text() != MBEDTLS_GC_HEAP_CONFIG:
                conf.write_text(MBEDTLS_GC_HEAP_CONFIG)
        _make(args, target)
        if not out.exists():
            raise BuildError("%s: make succeeded but %s is missing" % (target, out))
        stamp.write_text("%s\n%s\n" % (config, inputs))
        return out


def firmware_main():
    """firmware/main.py copied to a folder without admin/ beside it (build/faithful/fs/), for
    the frozen build to run: the unix port puts a script's folder first on sys.path."""
    fs = OUT / "fs"
    fs.mkdir(parents=True, exist_ok=True)
    dest = fs / "main.py"
    src = (ROOT / "firmware" / "main.py").read_bytes()
    if not dest.exists() or dest.read_bytes() != src:
        tmp = fs / ("main.py.%d" % os.getpid())
        tmp.write_bytes(src)
        os.replace(tmp, dest)
    return dest


def qemu_command(target, elf):
    """argv that boots a qemu build with its console on a pty (for pyboard's execpty:)."""
    return (
        ["qemu-system-arm"]
        + QEMU_MACHINES[target]
        + ["-nographic", "-monitor", "null", "-semihosting", "-serial", "pty", "-kernel", str(elf)]
    )


def _pyboard(src):
    tools = str(Path(src) / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    import pyboard  # MicroPython's tools/pyboard.py (needs pyserial)

    return pyboard


class QemuBoard:
    """A qemu image booted on a pty and driven over its raw REPL with MicroPython's
    tools/pyboard.py (`execpty:`), as a board over a serial line.

        with QemuBoard("armv6m") as b:
            out = b.run("print(1)")        # stdout; raises QemuError with stderr on an error
    """

    def __init__(self, target, elf=None, micropy_dir=None):
        self.target = target
        self.src = source_dir(micropy_dir)
        self.elf = Path(elf) if elf else build(target, micropy_dir)
        self.pyb = None

    def __enter__(self):
        pyboard = _pyboard(self.src)
        self._error = pyboard.PyboardError
        if not shutil.which("qemu-system-arm"):
            raise BuildError("qemu-system-arm is not installed (Debian: qemu-system-arm)")
        try:
            self.pyb = pyboard.Pyboard("execpty:" + " ".join(qemu_command(self.target, self.elf)))
            self.pyb.enter_raw_repl()
        except (SystemExit, Exception) as e:  # pyboard exits when qemu gives it no pty
            self.__exit__(None, None, None)
            raise QemuError("%s: qemu did not start: %r" % (self.target, e)) from None
        return self

    def run_raw(self, script, timeout=60, data_consumer=None):
        """(stdout, stderr) of one script; a timeout raises QemuError."""
        try:
            out, err = self.pyb.exec_raw(script, timeout=timeout, data_consumer=data_consumer)
        except self._error as e:
            raise QemuError("%s: %s" % (self.target, e)) from None
        return out.decode(errors="replace"), err.decode(errors="replace")

    def run(self, script, timeout=60):
        out, err = self.run_raw(script, timeout)
        if err:
            raise QemuError("%s: %s%s" % (self.target, out, err))
        return out

    def __exit__(self, *exc):
        if self.pyb is not None:
            proc = getattr(self.pyb.serial, "subp", None)
            try:
                self.pyb.exit_raw_repl()
            except Exception:  # noqa: BLE001 - the process is ended below whatever state it is in
                pass
            self.pyb.close()
            ser = getattr(self.pyb.serial, "serial", None)
            if ser is not None:
                ser.close()
            if proc is not None:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            self.pyb = None


class QemuError(RuntimeError):
    pass


_HELP_TAIL = "Plus any modules on the filesystem"


def image_modules(target, micropy_dir=None):
    """The top-level module names a qemu image has (builtin and frozen), from its own
    help('modules'); cached beside the build until it is made again."""
    elf = build(target, micropy_dir)
    stamp = (OUT / target / "inputs.sha256").read_text()
    cache = OUT / target / "modules.txt"
    if cache.exists():
        lines = cache.read_text().splitlines()
        if lines and lines[0] == stamp.split()[-1]:
            return set(lines[1:])
    with QemuBoard(target, elf=elf, micropy_dir=micropy_dir) as b:
        out = b.run("help('modules')")
    if _HELP_TAIL not in out:
        raise QemuError("%s: unexpected help('modules') output: %r" % (target, out[-300:]))
    names = {tok.split("/")[0] for tok in out.split(_HELP_TAIL)[0].split()}
    names.discard("__main__")
    cache.write_text("\n".join([stamp.split()[-1]] + sorted(names)) + "\n")
    return names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("targets", nargs="*", default=["unix32"], help=", ".join(TARGETS) + ", all")
    ap.add_argument("--micropy-dir", default=None, help="MicroPython v1.28.0 checkout")
    ap.add_argument("--path", action="store_true", help="print the built file of each target")
    args = ap.parse_args(argv)
    targets = list(TARGETS) if "all" in args.targets else args.targets
    try:
        for t in targets:
            out = build(t, args.micropy_dir)
            print(out if args.path else "%s: %s" % (t, out.relative_to(ROOT)))
    except BuildError as e:
        sys.exit("faithful: %s" % e)


if __name__ == "__main__":
    main()
