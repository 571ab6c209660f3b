# A MicroPython for ESP32 with sessionring frozen in (the library and the admin app as bytecode
# in flash: no .mpy files to copy, less heap used at import). Build it from a MicroPython
# checkout (docs/deploy.md, "Freeze into a custom MicroPython"):
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=<repo>/boards/esp32/manifest.py
# then flash it and run: python tools/deploy.py --board esp32 --port PORT --frozen
# ruff: noqa: F821 - include(), add_library() and require() are given by manifestfile.py
# What the stock ESP32_GENERIC image freezes (it has no manifest of its own): asyncio,
# bundle-networking, onewire, dht, neopixel, umqtt, upysh...
include("$(PORT_DIR)/boards/manifest.py")
# The admin app and, through it, the parts of the library this board uses: its profile keeps
# sessions in the ring, so the sealed store is left out (sealed=True puts it in: about 20 KB of
# flash). HTTPS stays in: "https": true in its firmware section turns it on.
add_library("sessionring-firmware", "../../firmware")
require("firmware", library="sessionring-firmware", sealed=False)
