# The virtual board: bridge.py (host side, CPython) and board.py (runs in the unix port).
