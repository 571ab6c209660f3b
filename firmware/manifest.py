# Freeze manifest of the device firmware: the admin app (package `admin`) and the library.
# boot.py and main.py are not frozen: MicroPython runs them by name from the filesystem, so
# they (and board.json) still go to the board: python tools/deploy.py --frozen copies just
# those. The version follows sessionring.__version__.
# ruff: noqa: F821 - metadata(), include() and package() are given by manifestfile.py
metadata(description="sessionring device admin firmware.", version="0.1.0", license="MIT")

include("../lib/sessionring")
package("admin")
