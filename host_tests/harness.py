"""Paths and interpreter commands shared by the harness (conftest.py) and host tests.

Import from here, not from conftest: pytest loads several conftest.py files (one per folder)
and they would shadow each other as a module named `conftest`.
"""

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTABLE = ROOT / "host_tests" / "portable"
INTERPRETERS = ("cpython", "micropython")
MODULE_TIMEOUT_S = 300


def micropython_exe():
    venv = ROOT / ".venv" / "bin" / "micropython"
    if venv.exists():
        return str(venv)
    found = shutil.which("micropython")
    if not found:
        pytest.fail("the MicroPython unix port is not installed: run tools/setup.sh")
    return found


def interpreter_command(interp, script, heap="16M"):
    """argv and environment to run `script` under `interp` with lib/ importable."""
    env = dict(os.environ)
    if interp == "micropython":
        # .frozen first, or the frozen asyncio disappears.
        env["MICROPYPATH"] = os.pathsep.join(
            [".frozen", str(ROOT / "lib"), str(PORTABLE), str(Path(script).parent)]
        )
        return [micropython_exe(), "-X", "heapsize=" + heap, str(script)], env
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "lib"), str(ROOT / "lib" / "hostshim")])
    return [sys.executable, str(script)], env
