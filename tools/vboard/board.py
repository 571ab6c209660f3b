# The virtual board's console: runs inside the MicroPython unix port, one process per boot.
#
# The host bridge (bridge.py) starts it with the board's folder as the current directory and
# VBOARD_ROOT set to it; this script mounts that folder as "/" so the board sees the same
# paths as on flash (/boot.py, /main.py, /lib, /board.json), then behaves like a board's
# REPL on stdin/stdout:
#   VBOARD_MODE=boot  run boot.py, then main.py, then the friendly REPL (power-on, Ctrl-D)
#   VBOARD_MODE=raw   run boot.py, then the raw REPL (Ctrl-D in the raw REPL, as mpremote does)
#   VBOARD_MODE=repl  straight to the friendly REPL (after Ctrl-C during start-up)
# A soft reset ends this process with a status that tells the bridge how to start the next
# one. Ctrl-C never arrives as a byte: the bridge turns it into SIGINT, which MicroPython
# raises as KeyboardInterrupt wherever the board is (main.py, a raw REPL command, a read).
# VBOARD_FLASH_KB, when set, makes os.statvfs("/") report a flash of that size, less what the
# folder's files take, so tools can be tested against a nearly full board.
import io
import os
import sys

_EXIT_RAW = 64  # soft reset, next boot enters the raw REPL
_EXIT_BOOT = 65  # soft reset, next boot runs boot.py and main.py
_WINDOW = 2048  # raw-paste flow-control window (no 0x0a byte in its encoding)
_BLOCK = 4096  # emulated flash block size

_read = sys.stdin.buffer.read
_write = sys.stdout.buffer.write


def _w(s):
    _write(s if isinstance(s, (bytes, bytearray)) else s.encode())


class _Reset(Exception):
    # args[0]: the exit status for the bridge
    pass


def _blocks(vfs, path):
    n = 1
    for e in vfs.ilistdir(path):
        p = path + "/" + e[0]
        if e[1] == 0x4000:
            n += _blocks(vfs, p)
        else:
            n += (vfs.stat(p)[6] + _BLOCK - 1) // _BLOCK
    return n


class _Board:
    # The board's folder as a VFS, forwarding to os.VfsPosix(root) (__getattr__: open, stat,
    # ilistdir, mkdir, remove, rmdir, chdir, getcwd). Not a subclass: the unix port's import
    # machinery calls a native VFS's import_stat on a subclass instance as if it were the
    # native object, and imports fail. rename() goes through a root-less VfsPosix with full
    # host paths: with a root, the unix port resolves both of rename's paths into one buffer.
    # statvfs() reports the emulated flash when VBOARD_FLASH_KB is set.
    def __init__(self, root):
        self._v = os.VfsPosix(root)

    def __getattr__(self, name):
        return getattr(self._v, name)

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def rename(self, old, new):
        _host.rename(_host_path(old), _host_path(new))

    def statvfs(self, path):
        if not _flash_bytes:
            return self._v.statvfs(path)
        total = _flash_bytes // _BLOCK
        free = max(0, total - _blocks(self, ""))
        return (_BLOCK, _BLOCK, total, free, free, 0, 0, 0, 0, 255)


_ROOT = os.getenv("VBOARD_ROOT") or "."
_flash_bytes = int(os.getenv("VBOARD_FLASH_KB") or 0) * 1024
_host = os.VfsPosix()


def _host_path(p):
    if not p.startswith("/"):
        p = os.getcwd().rstrip("/") + "/" + p
    return _ROOT + p


def _mount():
    os.umount("/")
    os.mount(_Board(_ROOT), "/")
    os.chdir("/")
    # The search path of a board: current directory, frozen modules, /lib (mip's folder).
    sys.path[:] = ["", ".frozen", "/lib"]


def _banner():
    ver = sys.version.split("; ", 1)[-1]
    return '%s; vboard (%s)\r\nType "help()" for more information.\r\n' % (
        ver,
        sys.implementation._machine,
    )


_g = {"__name__": "__main__"}
_SELF = '  File "%s"' % sys.argv[0]


def _print_exc(e):
    # As a board prints it: without this script's own frames.
    buf = io.StringIO()
    sys.print_exception(e, buf)
    for line in buf.getvalue().split("\n"):
        if line and not line.startswith(_SELF):
            _w(line + "\r\n")


def _run(src, name, mode):
    # Compile and run like pyexec: False when an exception ended it (printed); a SystemExit
    # is a soft reset.
    try:
        exec(compile(src, name, mode), _g)
        return True
    except SystemExit:
        pass
    except BaseException as e:  # noqa: B036 - a board prints every exception, KeyboardInterrupt too
        _print_exc(e)
        return False
    raise _Reset(_EXIT_BOOT)


def _run_file(name):
    try:
        with open(name) as f:
            src = f.read()
    except OSError:
        return True
    return _run(src, name, "exec")


# ---- friendly REPL


def _readline():
    # A line as text, or the code of a control key pressed on an empty line.
    line = ""
    while True:
        c = _read(1)
        if not c:
            raise _Reset(0)
        o = c[0]
        if o == 13:
            _w("\r\n")
            return line
        if o in (1, 2, 4, 5):
            if not line:
                return o
        elif o in (8, 127):
            if line:
                line = line[:-1]
                _w("\x08 \x08")
        elif o >= 32 or o == 9:
            line += chr(o)
            _w(c)


def _paste():
    _w("\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
    buf = bytearray()
    while True:
        c = _read(1)
        if not c:
            raise _Reset(0)
        if c == b"\x04":
            _w("\r\n")
            _run(bytes(buf).decode(), "<stdin>", "exec")
            return
        buf += c
        _w("\r\n=== " if c == b"\r" else c)


def _friendly():
    _w(_banner())
    block = []
    while True:
        _w("... " if block else ">>> ")
        try:
            line = _readline()
            if line == 1:
                return "raw"
            if line == 2:
                _w("\r\n" + _banner())
                block = []
            elif line == 4:
                _w("\r\n")
                raise _Reset(_EXIT_BOOT)
            elif line == 5:
                _paste()
            elif block or line.rstrip().endswith(":"):
                if block and not line.strip():
                    src, block = "\n".join(block), []
                    _run(src, "<stdin>", "single")
                else:
                    block.append(line)
            elif line.strip():
                _run(line, "<stdin>", "single")
        except KeyboardInterrupt:
            _w("\r\n")
            block = []


# ---- raw REPL (the protocol mpremote speaks)


def _raw_exec(src):
    # After "OK" (or the raw-paste end): stdout, 0x04, the exception if any, 0x04.
    try:
        exec(compile(bytes(src).decode(), "<stdin>", "exec"), _g)
        _w(b"\x04\x04")
        return
    except SystemExit:
        _w(b"\x04\x04")
    except BaseException as e:  # noqa: B036
        _w(b"\x04")
        _print_exc(e)
        _w(b"\x04")
        return
    raise _Reset(_EXIT_RAW)


def _raw_paste():
    # Flow control: the host may send _WINDOW bytes, and _WINDOW more after each 0x01.
    _w(b"R\x01" + bytes((_WINDOW & 0xFF, _WINDOW >> 8)) + b"\x01")
    src = bytearray()
    remain = _WINDOW
    try:
        while True:
            c = _read(1)
            if not c:
                raise _Reset(0)
            if c == b"\x04":
                _w(b"\x04")
                break
            src += c
            remain -= 1
            if not remain:
                _w(b"\x01")
                remain = _WINDOW
    except KeyboardInterrupt as e:
        _w(b"\x04\x04")
        _print_exc(e)
        _w(b"\x04")
        return
    _raw_exec(src)


def _raw():
    _w("raw REPL; CTRL-B to exit\r\n")
    line = bytearray()
    _w(">")
    while True:
        try:
            c = _read(1)
            if not c:
                raise _Reset(0)
            o = c[0]
            if o == 1:
                if len(line) == 2 and line[0] == 5:
                    if line[1] == 65:
                        _raw_paste()
                    else:
                        _w(b"R\x00")
                else:
                    _w("raw REPL; CTRL-B to exit\r\n")
                line = bytearray()
                _w(">")
            elif o == 2:
                _w("\r\n")
                return "friendly"
            elif o == 4:
                _w("OK")
                if not line:
                    _w("\r\n")
                    raise _Reset(_EXIT_RAW)
                src, line = line, bytearray()
                _raw_exec(src)
                _w(">")
            else:
                line += c
        except KeyboardInterrupt:
            line = bytearray()


def main():
    status = 0
    try:
        _mount()
        mode = os.getenv("VBOARD_MODE") or "boot"
        if mode != "repl":
            if _run_file("boot.py") and mode == "boot":
                _run_file("main.py")
        while True:
            mode = _raw() if mode == "raw" else _friendly()
    except _Reset as r:
        status = r.args[0]
        if status:
            _w("MPY: soft reboot\r\n")
    sys.exit(status)


main()
