"""ruff lint and format checks over the whole tree (settings in pyproject.toml)."""

import subprocess

from harness import ROOT, host_tool


def test_ruff_check():
    proc = subprocess.run(
        [host_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format():
    proc = subprocess.run(
        [host_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
