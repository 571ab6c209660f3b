# Runs after boot.py: start the device admin page (admin/start.py). On the host this is what
# `make run` (tools/run.py) starts.
import sys

from admin import start

try:
    start.run()
except KeyboardInterrupt:
    pass
except Exception as e:  # noqa: BLE001 - say why, then leave the board at the REPL
    print("sessionring: stopped:", repr(e))
    if hasattr(sys, "print_exception"):
        sys.print_exception(e)
    else:
        raise
