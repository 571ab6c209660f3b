# Freeze manifest of sessionring-sealed: the sealed store (needs cryptolib).
# lib/sessionring/manifest.py requires every part; a board manifest may require fewer.
# ruff: noqa: F821 - metadata(), add_library(), require(), package(): manifestfile.py
metadata(
    description="sessionring: the sealed store (needs cryptolib).", version="0.1.0", license="MIT"
)

add_library("sessionring-parts", "..")
require("sessionring-core", library="sessionring-parts")
package(
    "sessionring",
    files=(
        "fernet.py",
        "sealed.py",
        "sealed_deny.py",
        "sealed_keys.py",
        "sealed_view.py",
        "sealed_zip.py",
    ),
    base_path="../../..",
)
