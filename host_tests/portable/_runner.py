# Runs the named test functions of one portable test module, on whichever interpreter runs
# this file (CPython, the MicroPython unix port, the 32-bit frozen build, or a qemu image, to
# which host_tests/harness.py sends it), and reports one line per test for
# host_tests/conftest.py to read. Usage: _runner.py MODULE TEST [TEST ...]
import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

if not IS_MICROPYTHON:
    import os
    import traceback

    _here = os.path.dirname(os.path.abspath(__file__))
    _root = os.path.dirname(os.path.dirname(_here))
    sys.path[:0] = [_here, os.path.join(_root, "lib"), os.path.join(_root, "lib", "hostshim")]


def _print_exc(e):
    if IS_MICROPYTHON:
        sys.print_exception(e, sys.stdout)
    else:
        traceback.print_exception(type(e), e, e.__traceback__, file=sys.stdout)


def main(argv):
    mod = __import__(argv[1])
    for name in argv[2:]:
        print("@@sr-begin", name)
        try:
            getattr(mod, name)()
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            _print_exc(e)
            print("@@sr-result", name, "fail")
        else:
            print("@@sr-result", name, "ok")
    # Where the library came from (the harness checks the frozen legs import it frozen).
    import sessionring

    print("@@sr-lib", sessionring.__file__)


if len(sys.argv) > 2:
    main(sys.argv)
