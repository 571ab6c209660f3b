"""The virtual board (tools/vboard) against the real mpremote command line.

A tiny firmware in a temporary folder stands in for the real one: these tests are about the
board (raw REPL, files, soft reset, Ctrl-C), not about sessionring.
"""

import re

import pytest
from _vboard import VirtualBoard, host_env, mpremote

BOOT = 'print("boot.py ran")\n'
MAIN = """\
import time
print("main.py running")
n = 0
while True:
    n += 1
    time.sleep_ms(5)
"""


@pytest.fixture
def board(tmp_path):
    folder = tmp_path / "board"
    folder.mkdir()
    (folder / "boot.py").write_text(BOOT)
    (folder / "main.py").write_text(MAIN)
    with VirtualBoard(folder, env=host_env()) as b:
        b.wait_for(b"main.py running", 20)
        yield b


def test_power_on_runs_boot_then_main(board):
    out = board.output()
    assert out.index(b"boot.py ran") < out.index(b"main.py running")
    assert board.url.startswith("socket://127.0.0.1:")


def test_exec_and_eval_interrupt_main_and_keep_globals(board):
    # mpremote interrupts main.py (Ctrl-C), soft-resets into the raw REPL (boot.py only) and
    # runs the code there; `resume` skips the soft reset, so the globals stay.
    start = board.mark()
    r = mpremote(board, "exec", "x = 6 * 7", "+", "eval", "x", "+", "resume")
    assert r.stdout.strip().splitlines()[-1] == "42"
    tail = board.output(start)
    assert b"KeyboardInterrupt" in tail
    assert b"soft reboot" in tail
    assert b"main.py running" not in tail  # a soft reset into the raw REPL skips main.py
    r = mpremote(board, "resume", "eval", "x")
    assert r.stdout.strip() == "42"


def test_exceptions_come_back_as_errors(board):
    r = mpremote(board, "exec", "import os; os.stat('/no/such/file')", check=False)
    assert r.returncode == 1
    assert "ENOENT" in r.stderr + r.stdout
    assert "board.py" not in r.stderr + r.stdout  # the board's own frames are not shown


def test_fs_commands_use_the_folder_as_root(board, tmp_path):
    local = tmp_path / "payload.bin"
    data = bytes(range(256)) * 8  # every byte value
    local.write_bytes(data)
    mpremote(board, "fs", "mkdir", ":lib", "+", "fs", "cp", str(local), ":lib/payload.bin")
    assert (board.folder / "lib" / "payload.bin").read_bytes() == data
    r = mpremote(board, "fs", "ls", ":lib")
    assert "payload.bin" in r.stdout
    back = tmp_path / "back.bin"
    mpremote(board, "fs", "cp", ":lib/payload.bin", str(back))
    assert back.read_bytes() == data
    # "/" is the board's folder, not the host's root; rename works under it
    r = mpremote(
        board,
        "exec",
        "import os; os.rename('/lib/payload.bin', '/lib/p2.bin'); print(sorted(os.listdir('/')))",
    )
    assert "['boot.py', 'lib', 'main.py']" in r.stdout
    assert (board.folder / "lib" / "p2.bin").exists()
    mpremote(board, "fs", "rm", ":lib/p2.bin")
    assert not (board.folder / "lib" / "p2.bin").exists()


def test_run_a_local_script(board, tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("import sys\nprint('hello from', sys.implementation.name, 6 * 7)\n")
    r = mpremote(board, "run", str(script))
    assert "hello from micropython 42" in r.stdout


def test_soft_reset_command(board):
    boots = board.boots
    start = board.mark()
    mpremote(board, "soft-reset")
    assert board.boots > boots
    tail = board.output(start)
    assert b"soft reboot" in tail and b"boot.py ran" in tail
    assert b"raw REPL; CTRL-B to exit" in tail


def test_friendly_repl_soft_reset_runs_main_again(board):
    # What deploy does after copying: leave the raw REPL, Ctrl-D at the friendly prompt.
    import socket

    start = board.mark()
    with socket.create_connection(("127.0.0.1", board.port), timeout=10) as s:
        s.sendall(b"\r\x03")  # interrupt main.py
        board.wait_for(b">>> ", 10, start)
        s.sendall(b"print(1 + 1)\r")
        board.wait_for(re.compile(rb"print\(1 \+ 1\)\r\n2\r\n>>> "), 10, start)
        mark = board.mark()
        s.sendall(b"\x04")
        board.wait_for(b"main.py running", 20, mark)
    tail = board.output(mark)
    assert tail.index(b"soft reboot") < tail.index(b"boot.py ran") < tail.index(b"main.py")


def test_flash_size_can_be_emulated(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "big.bin").write_bytes(b"x" * 20000)  # 5 blocks of 4 KB
    with VirtualBoard(folder, flash_kb=64, env=host_env()) as b:
        r = mpremote(b, "exec", "import os; s = os.statvfs('/'); print(s[0], s[2], s[3])")
    bsize, total, free = map(int, r.stdout.split())
    assert (bsize, total) == (4096, 16)
    assert free == 16 - 5 - 1  # the file, and the root folder itself


def test_stop_ends_the_board_process(tmp_path):
    b = VirtualBoard(tmp_path / "b", env=host_env()).start()
    b.wait_for(b">>> ", 20)  # no main.py: straight to the REPL
    proc = b._proc
    b.stop()
    assert proc.poll() is not None
