# `python tools/vboard --dir DIR --port N`: run a virtual board (see bridge.py).
import sys

from bridge import main

sys.exit(main())
