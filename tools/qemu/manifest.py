# Freeze manifest of the qemu test images (tools/faithful.py armv7m / armv6m): the library
# alone. The admin firmware is not frozen: qemu's port has no network and no writable
# filesystem, so only the portable tests that need neither run there.
# ruff: noqa: F821 - add_library() and require() are given by manifestfile.py
add_library("sessionring", "../../lib")
require("sessionring", library="sessionring")
