"""ruff lint and format checks over the whole tree (settings in pyproject.toml)."""

import os
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


def test_stubs_type_check():
    # lib/stubs: the public API's type stubs for editors (never copied to a board), checked
    # with mypy --strict, then against the library itself with mypy's stubtest
    proc = subprocess.run(
        [
            host_tool("mypy"),
            "--strict",
            "--cache-dir",
            str(ROOT / "build" / "mypy"),
            "sessionring",
        ],
        cwd=ROOT / "lib" / "stubs",
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    env = dict(os.environ)
    env["MYPYPATH"] = str(ROOT / "lib" / "stubs")
    env["PYTHONPATH"] = "%s:%s" % (ROOT / "lib", ROOT / "lib" / "hostshim")
    proc = subprocess.run(
        [
            host_tool("python"),
            "-m",
            "mypy.stubtest",
            "sessionring",
            "--ignore-missing-stub",
            "--mypy-config-file",
            str(ROOT / "pyproject.toml"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success" in proc.stdout
