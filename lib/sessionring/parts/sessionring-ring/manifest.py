# Freeze manifest of sessionring-ring: the session ring.
# lib/sessionring/manifest.py requires every part; a board manifest may require fewer.
# ruff: noqa: F821 - metadata(), add_library(), require(), package(): manifestfile.py
metadata(description="sessionring: the session ring.", version="0.1.0", license="MIT")

add_library("sessionring-parts", "..")
require("sessionring-core", library="sessionring-parts")
package(
    "sessionring",
    files=("ring.py", "ring_admin.py"),
    base_path="../../..",
)
