"""A virtual board: the MicroPython unix port with a folder as its flash, on a TCP socket.

mpremote reaches it like a board on a serial port, through pyserial's socket URL handler:

    python tools/vboard --dir .vboard --port 8266 &
    mpremote connect socket://127.0.0.1:8266 fs ls

The board itself is board.py running in the unix port (one process per boot); this bridge
listens on 127.0.0.1, relays bytes between one client and the board, turns Ctrl-C from the
client into SIGINT (as a UART interrupt character would), and starts the next process after a
soft reset. stdin and stdout are pipes that outlive the processes, so bytes sent while a board
reboots wait for the next one. The board's console output is also kept in a log that tests
can wait on, and can be echoed to a file.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))

from hosttools import find_tool  # noqa: E402

BOARD_SCRIPT = HERE / "board.py"

EXIT_RAW = 64  # board.py: soft reset into the raw REPL
EXIT_BOOT = 65  # board.py: soft reset, run boot.py and main.py
LOG_LIMIT = 1 << 20  # bytes of console output kept for wait_for()
MAX_FAILURES = 3  # unexpected exits in a row before the board is declared dead
DEFAULT_HEAP = "2M"
# Host settings that would make the firmware look outside the board's folder.
_HOST_ONLY_ENV = ("SESSIONRING_BOARD", "SESSIONRING_DATA", "MICROPYPATH")


def _die_with_parent():
    # Linux: the board process gets SIGKILL if the thread that started it (the bridge's
    # supervisor) dies, so a killed test run leaves no board serving on a port.
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


try:
    import ctypes

    _prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
except (ImportError, OSError, AttributeError):
    _prctl = None


class VirtualBoard:
    """One virtual board. Use as a context manager, or start() and stop()."""

    def __init__(self, folder, port=0, heap=None, flash_kb=None, env=None, echo=None):
        self.folder = Path(folder).resolve()
        self.port = port
        self.heap = heap
        self.flash_kb = flash_kb
        self.env = dict(env or {})
        self.echo = echo  # a binary file that gets a copy of the console output
        self.boots = 0  # processes started so far
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._log = bytearray()
        self._log_base = 0  # offset of _log[0] in the whole output
        self._last = 0  # last output byte, for newline cooking across chunks
        self._proc = None
        self._client = None
        self._stopping = False
        self._threads = []
        self._listener = None

    # ---- life cycle

    def start(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        self._stdin_r, self._stdin_w = os.pipe()
        self._out_r, self._out_w = os.pipe()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(2)
        self.port = self._listener.getsockname()[1]
        for target in (self._accept_loop, self._output_loop, self._supervise):
            t = threading.Thread(target=target, daemon=True, name="vboard-" + target.__name__)
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        with self._lock:
            self._stopping = True
            proc, client = self._proc, self._client
            self._client = None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for s in (client, self._listener):
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
        # Closing our write end of stdout ends the output thread once the pipe drains.
        os.close(self._out_w)
        for t in self._threads:
            t.join(5)
        for fd in (self._stdin_r, self._stdin_w, self._out_r):
            os.close(fd)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        return "socket://127.0.0.1:%d" % self.port

    # ---- console log for tests

    def mark(self):
        """The current end of the console output (an offset for wait_for)."""
        with self._lock:
            return self._log_base + len(self._log)

    def output(self, start=0):
        with self._lock:
            return bytes(self._log[max(0, start - self._log_base) :])

    def wait_for(self, pattern, timeout, start=0):
        """Wait until `pattern` (bytes or compiled bytes regex) appears in the output after
        offset `start`; returns the re.Match. Raises TimeoutError with the output's tail."""
        rx = pattern if hasattr(pattern, "search") else re.compile(re.escape(pattern))
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                m = rx.search(self._log, max(0, start - self._log_base))
                if m:
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = bytes(self._log[-2000:]).decode("utf-8", "replace")
                    raise TimeoutError(
                        "vboard: %r not seen in %.0f s; console tail:\n%s"
                        % (pattern, timeout, tail)
                    )
                self._changed.wait(left)

    # ---- the board process

    def _heap(self):
        if self.heap:
            return str(self.heap)
        try:
            kb = json.loads((self.folder / "board.json").read_text())["heap_kb"]
            return "%dK" % kb
        except (OSError, ValueError, KeyError, TypeError):
            return DEFAULT_HEAP

    def _spawn(self, mode):
        env = {k: v for k, v in os.environ.items() if k not in _HOST_ONLY_ENV}
        env.update(self.env)
        folder = str(self.folder)
        env["MICROPYPATH"] = os.pathsep.join([".frozen", folder, folder + "/lib"])
        env["VBOARD_ROOT"] = folder
        env["VBOARD_MODE"] = mode
        if self.flash_kb:
            env["VBOARD_FLASH_KB"] = str(self.flash_kb)
        else:
            env.pop("VBOARD_FLASH_KB", None)
        argv = [find_tool("micropython"), "-X", "heapsize=" + self._heap(), str(BOARD_SCRIPT)]
        return subprocess.Popen(
            argv,
            stdin=self._stdin_r,
            stdout=self._out_w,
            stderr=self._out_w,
            cwd=folder,
            env=env,
            close_fds=True,
            preexec_fn=_die_with_parent if _prctl is not None else None,
        )

    def _supervise(self):
        mode, failures = "boot", 0
        while True:
            with self._lock:
                if self._stopping:
                    return
                self._proc = proc = self._spawn(mode)
                self.boots += 1
            started = time.monotonic()
            status = proc.wait()
            with self._lock:
                if self._stopping:
                    return
            if status == EXIT_RAW:
                mode, failures = "raw", 0
            elif status == EXIT_BOOT:
                mode, failures = "boot", 0
            elif status == -signal.SIGINT:
                # Ctrl-C before the interpreter armed its handler: like Ctrl-C during boot.
                mode = "repl"
            else:
                failures = failures + 1 if time.monotonic() - started < 2 else 1
                if failures >= MAX_FAILURES:
                    self._say("the board keeps failing; not restarting it")
                    return
                self._say("board process ended with status %d; restarting" % status)
                mode = "repl"

    # ---- byte relays

    def _say(self, text):
        # A note from the bridge, in order with the board's output.
        os.write(self._out_w, b"\r\nvboard: " + text.encode() + b"\r\n")

    def _emit(self, data):
        # Cook lone "\n" into "\r\n" as a board's console does.
        cooked = re.sub(rb"(?<!\r)\n", b"\r\n", data)
        if data[0] == 10 and self._last == 13:
            cooked = cooked[1:]  # the "\r" came at the end of the previous chunk
        self._last = data[-1]
        with self._lock:
            self._log += cooked
            if len(self._log) > LOG_LIMIT:
                cut = len(self._log) - LOG_LIMIT
                del self._log[:cut]
                self._log_base += cut
            client = self._client
            self._changed.notify_all()
        if self.echo is not None:
            self.echo.write(cooked)
            self.echo.flush()
        if client is not None:
            try:
                client.sendall(cooked)
            except OSError:
                self._drop(client)

    def _output_loop(self):
        while True:
            try:
                data = os.read(self._out_r, 4096)
            except OSError:
                return
            if not data:
                return
            self._emit(data)

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stopping:
                    conn.close()
                    return
                old, self._client = self._client, conn
            if old is not None:  # the newest connection takes the port over
                self._close(old)
            threading.Thread(target=self._client_loop, args=(conn,), daemon=True).start()

    def _client_loop(self, conn):
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            if not data:
                self._drop(conn)
                return
            parts = data.split(b"\x03")
            for i, part in enumerate(parts):
                if i:
                    self._interrupt()
                if part:
                    os.write(self._stdin_w, part)

    def _interrupt(self):
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGINT)

    def _drop(self, conn):
        with self._lock:
            if self._client is conn:
                self._client = None
        self._close(conn)

    @staticmethod
    def _close(conn):
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        conn.close()


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Run a virtual board (MicroPython unix port) reachable by mpremote at "
        "socket://127.0.0.1:PORT; its folder is the board's flash."
    )
    ap.add_argument("--dir", default=".vboard", help="the board's folder (default .vboard)")
    ap.add_argument("--port", type=int, default=8266, help="TCP port on 127.0.0.1 (0: any)")
    ap.add_argument("--heap", help="heap size, e.g. 256K (default: board.json heap_kb, or 2M)")
    ap.add_argument("--flash-kb", type=int, help="report this much flash to os.statvfs")
    ap.add_argument("--quiet", action="store_true", help="do not echo the console here")
    args = ap.parse_args(argv)
    board = VirtualBoard(
        args.dir,
        port=args.port,
        heap=args.heap,
        flash_kb=args.flash_kb,
        echo=None if args.quiet else sys.stdout.buffer,
    )
    board.start()
    print("vboard: %s is the board's flash" % board.folder, flush=True)
    print("vboard: connect with  mpremote connect %s" % board.url, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    finally:
        board.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
