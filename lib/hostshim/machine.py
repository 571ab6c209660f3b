# CPython stand-in for MicroPython's `machine` (host only): enough for the firmware to start.
import os as _os


def unique_id():
    return b"\x00host\x00"


def freq():
    return 0


def reset():
    raise SystemExit("machine.reset()")


def soft_reset():
    raise SystemExit("machine.soft_reset()")


class Pin:
    OUT = 1
    IN = 0

    def __init__(self, id, mode=-1, value=None):
        self.id = id
        self._v = value or 0

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = 1 if v else 0

    def on(self):
        self._v = 1

    def off(self):
        self._v = 0

    def toggle(self):
        self._v ^= 1


def urandom(n):
    return _os.urandom(n)
