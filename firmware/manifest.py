# Freeze manifest of the device firmware: the admin app (package `admin`) and the library.
# boot.py and main.py are not frozen: MicroPython runs them by name from the filesystem, so
# they (and board.json) still go to the board: python tools/deploy.py --frozen copies just
# those. The version follows sessionring.__version__.
#
# The library comes in through require(), not include(): only require() opens a package
# scope of its own, and lib/sessionring/manifest.py calls metadata() too (an include() of it
# would be a second metadata() call in this scope, which manifestfile.py refuses).
# ruff: noqa: F821 - metadata(), add_library(), require() and package() are given by manifestfile.py
metadata(description="sessionring device admin firmware.", version="0.1.0", license="MIT")

add_library("sessionring", "../lib")
require("sessionring", library="sessionring")
package("admin")
