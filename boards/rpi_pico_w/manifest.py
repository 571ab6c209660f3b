# A MicroPython for the Raspberry Pi Pico W with sessionring frozen in. Build it from a
# MicroPython checkout (docs/deploy.md, "Freeze into a custom MicroPython"):
#   make -C ports/rp2 BOARD=RPI_PICO_W FROZEN_MANIFEST=<repo>/boards/rpi_pico_w/manifest.py
# then flash the .uf2 and run: python tools/deploy.py --board rpi_pico_w --port PORT --frozen
# ruff: noqa: F821 - include() and require() are given by manifestfile.py
include("$(PORT_DIR)/boards/manifest.py")  # the port's frozen modules (asyncio and more)
require("bundle-networking")  # as in the stock Pico W image (network helpers, mip)
include("../../firmware")  # the admin app and, through it, the library
