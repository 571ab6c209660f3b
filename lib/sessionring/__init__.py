# sessionring: web sessions for MicroPython boards. Modules are imported on use:
#   from sessionring.ring import SessionRing
__version__ = "0.1.0"
