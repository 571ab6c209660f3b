# The MicroPython unix port with sessionring frozen in (for a self-contained host binary):
#   make -C ports/unix FROZEN_MANIFEST=<repo>/boards/unix/manifest.py
# ruff: noqa: F821 - include() is given by manifestfile.py
include("$(PORT_DIR)/variants/manifest.py")  # the standard variant's frozen modules
include("$(MPY_DIR)/extmod/asyncio")
include("../../firmware")  # the admin app and, through it, the library
