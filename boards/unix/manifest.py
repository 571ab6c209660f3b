# The MicroPython unix port with sessionring frozen in: the board-faithful host binary that the
# test suite and the benchmarks run (python tools/faithful.py unix32; docs/deploy.md). By hand:
#   make -C ports/unix MICROPY_FORCE_32BIT=1 FROZEN_MANIFEST=<repo>/boards/unix/manifest.py
# ruff: noqa: F821 - include(), add_library() and require() are given by manifestfile.py
include("$(PORT_DIR)/variants/manifest.py")  # the standard variant's frozen modules
include("$(MPY_DIR)/extmod/asyncio")
# The admin app and, through it, the library (each in a package scope of its own).
add_library("sessionring-firmware", "../../firmware")
require("firmware", library="sessionring-firmware")
