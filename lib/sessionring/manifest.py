# Freeze manifest of the sessionring library (MicroPython's manifestfile.py conventions), made
# of parts as aioble's is: this manifest only requires them, and a board that wants less
# requires the parts it uses (boards/esp32/manifest.py leaves the sealed store out):
#   sessionring-core    the server, cookies, tokens, login helpers: every part needs it
#   sessionring-ring    the session ring
#   sessionring-sealed  the sealed store (cookies sealed with Fernet; needs cryptolib)
#   sessionring-tls     HTTPS
# Each part's manifest (parts/<part>/manifest.py) names its modules, and tools/deploy.py makes
# the mip package files from them. A board manifest takes the whole library with
# add_library("sessionring", "<repo>/lib") and require("sessionring", library="sessionring").
# The microdot extension (microdot.py, for microdot apps) is in no part: it is installed on its
# own with mip from microdot.json (a build that freezes microdot too adds
# package("sessionring", files=["microdot.py"], base_path="<repo>/lib")). The version follows
# sessionring.__version__ (python tools/deploy.py --write-packages keeps them in step).
# ruff: noqa: F821 - metadata(), add_library() and require() are given by manifestfile.py
metadata(
    description="Web sessions for MicroPython boards: session ring, tokens, HTTP/1.1 server.",
    version="0.1.0",
    license="MIT",
)

add_library("sessionring-parts", "parts")
for part in ("core", "ring", "sealed", "tls"):
    require("sessionring-" + part, library="sessionring-parts")
