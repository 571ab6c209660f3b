# A MicroPython for the Raspberry Pi Pico W with sessionring frozen in. Build it from a
# MicroPython checkout (docs/deploy.md, "Freeze into a custom MicroPython"):
#   make -C ports/rp2 BOARD=RPI_PICO_W FROZEN_MANIFEST=<repo>/boards/rpi_pico_w/manifest.py
# then flash the .uf2 and run: python tools/deploy.py --board rpi_pico_w --port PORT --frozen
# ruff: noqa: F821 - include(), add_library() and require() are given by manifestfile.py
# Everything the stock RPI_PICO_W image freezes: the port's modules and asyncio,
# bundle-networking (network helpers, mip) and aioble (Bluetooth).
include("$(PORT_DIR)/boards/RPI_PICO_W/manifest.py")
# The admin app and, through it, the library (each in a package scope of its own).
add_library("sessionring-firmware", "../../firmware")
require("firmware", library="sessionring-firmware")
