"""ruff lint and format checks over the whole tree (settings in pyproject.toml)."""

import subprocess

from harness import ROOT


def _ruff():
    exe = ROOT / ".venv" / "bin" / "ruff"
    return str(exe) if exe.exists() else "ruff"


def test_ruff_check():
    proc = subprocess.run([_ruff(), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format():
    proc = subprocess.run(
        [_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
