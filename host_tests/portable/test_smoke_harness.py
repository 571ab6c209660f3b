# The harness itself: both interpreter legs run, and each reports its own interpreter.
import sys


def test_interpreter_runs():
    assert sys.implementation.name in ("cpython", "micropython")


def test_lib_imports():
    import sessionring

    assert sessionring.__version__
