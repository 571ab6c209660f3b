# Freeze manifest of sessionring-tls: HTTPS (needs the port's ssl module).
# lib/sessionring/manifest.py requires every part; a board manifest may require fewer.
# ruff: noqa: F821 - metadata(), add_library(), require(), package(): manifestfile.py
metadata(
    description="sessionring: HTTPS (needs the port's ssl module).", version="0.1.0", license="MIT"
)

add_library("sessionring-parts", "..")
require("sessionring-core", library="sessionring-parts")
package(
    "sessionring",
    files=("tls.py",),
    base_path="../../..",
)
