"""Paths and interpreter commands shared by the harness (conftest.py) and host tests.

Import from here, not from conftest: pytest loads several conftest.py files (one per folder)
and they would shadow each other as a module named `conftest`.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

from hosttools import ToolMissing, find_tool  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PORTABLE = ROOT / "host_tests" / "portable"
INTERPRETERS = ("cpython", "micropython")
MODULE_TIMEOUT_S = 300


def host_tool(name):
    """Path of a host command from .venv or PATH; the test fails clearly when it is missing."""
    try:
        return find_tool(name)
    except ToolMissing as e:
        pytest.fail(str(e))


def micropython_exe():
    return host_tool("micropython")


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
