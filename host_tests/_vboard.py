"""Helpers for the tests that drive the virtual board (tools/vboard) with the real mpremote."""

import json
import os
import shutil
import subprocess
import sys

from vboard.bridge import VirtualBoard

from harness import ROOT

MPREMOTE_TIMEOUT_S = 60


def host_env(**extra):
    # The environment for the board: nothing of the host's sessionring settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONRING_")}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def mpremote(board, *args, check=True, timeout=MPREMOTE_TIMEOUT_S):
    """Run the mpremote command line against the board; returns the CompletedProcess."""
    argv = [sys.executable, "-m", "mpremote", "connect", board.url, *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, "mpremote %s failed:\n%s\n%s\n--- console\n%s" % (
            " ".join(args),
            proc.stdout,
            proc.stderr,
            board.output()[-3000:].decode("utf-8", "replace"),
        )
    return proc


def deploy(board_name, port, root=None, *more, timeout=120):
    """Run tools/deploy.py; returns the CompletedProcess (stdout has the per-file lines)."""
    argv = [sys.executable, str(ROOT / "tools" / "deploy.py"), "--board", board_name]
    argv += ["--port", port]
    if root is not None:
        argv += ["--root", str(root), "--build-dir", str(root / "build")]
    argv += list(more)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


def states(stdout):
    """{device path: state} from deploy's progress lines."""
    out = {}
    for line in stdout.splitlines():
        if line.startswith("[") and "/" in line.split("]")[0]:
            parts = line.split("]", 1)[1].split()
            out[parts[0]] = " ".join(parts[3:])
        elif line.startswith("[-] "):
            parts = line[4:].split()
            out[parts[0]] = " ".join(parts[1:])
    return out


__all__ = ["VirtualBoard", "deploy", "host_env", "mpremote", "states"]


def source_copy(dst, **firmware):
    """A copy of the project's deployable tree in dst (lib/sessionring, firmware, boards), its
    unix profile with fast logins and the given firmware keys, for deploy to take as its root."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "lib" / "sessionring", dst / "lib" / "sessionring", ignore=skip)
    shutil.copytree(ROOT / "firmware", dst / "firmware", ignore=skip)
    shutil.copytree(ROOT / "boards", dst / "boards", ignore=skip)
    p = dst / "boards" / "unix" / "board.json"
    prof = json.loads(p.read_text())
    prof["firmware"].update(dict(firmware, pbkdf2_iterations=1000))
    p.write_text(json.dumps(prof))
    return dst
