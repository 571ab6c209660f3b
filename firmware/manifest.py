# Freeze manifest of the device firmware: the admin app (package `admin`) and the parts of the
# library it uses. boot.py and main.py are not frozen: MicroPython runs them by name from the
# filesystem, so they (and board.json) still go to the board: python tools/deploy.py --frozen
# copies just those. The version follows sessionring.__version__.
#
# Options (a board manifest passes them to require("firmware", ...)): sealed=False leaves the
# sealed store out (a board with "sessions": "sealed" then logs that it has none and uses the
# ring), tls=False leaves HTTPS out (likewise: plain HTTP). The library's parts come in through
# require(), which opens a package scope of their own (each part calls metadata()).
# ruff: noqa: F821 - metadata(), options, add_library(), require(), package(): manifestfile.py
metadata(description="sessionring device admin firmware.", version="0.1.0", license="MIT")
options.defaults(sealed=True, tls=True)

add_library("sessionring-parts", "../lib/sessionring/parts")
require("sessionring-core", library="sessionring-parts")
require("sessionring-ring", library="sessionring-parts")
if options.sealed:
    require("sessionring-sealed", library="sessionring-parts")
if options.tls:
    require("sessionring-tls", library="sessionring-parts")
package("admin")
