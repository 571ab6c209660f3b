# Freeze manifest of the sessionring library (MicroPython's manifestfile.py conventions).
# A board manifest takes it with include("<repo>/lib/sessionring"); every module of the package
# is frozen as sessionring.<name>, except this file and the microdot extension (microdot.py, for
# microdot apps: installed on its own with mip from microdot.json; a build that freezes microdot
# too adds package("sessionring", files=["microdot.py"], base_path="<repo>/lib")). The version
# follows sessionring.__version__ (python tools/deploy.py --write-packages keeps them in step).
# ruff: noqa: F821 - metadata() and package() are given by manifestfile.py
import os

metadata(
    description="Web sessions for MicroPython boards: session ring, tokens, HTTP/1.1 server.",
    version="0.1.0",
    license="MIT",
)

_NOT_FROZEN = ("manifest.py", "microdot.py")

# manifestfile.py runs a manifest with its own folder as the current directory.
package(
    "sessionring",
    files=sorted(f for f in os.listdir(".") if f.endswith(".py") and f not in _NOT_FROZEN),
    base_path="..",
)
