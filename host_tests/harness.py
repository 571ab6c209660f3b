"""Paths, interpreter legs and interpreter commands shared by the harness (conftest.py) and host
tests.

Import from here, not from conftest: pytest loads several conftest.py files (one per folder)
and they would shadow each other as a module named `conftest`.

The legs of every portable test:
  cpython        CPython with lib/hostshim, the library from lib/
  micropython    the MicroPython unix port from PyPI (64-bit), the library from lib/
  micropython32  the board-faithful build: MicroPython v1.28.0 as a 32-bit unix binary with the
                 library and the admin app frozen in (tools/faithful.py unix32); nothing of
                 lib/ or firmware/ is on its path
  micropython32tls   micropython32 with TLS from Mbed TLS allocating from the GC heap, as on the
                     Pico W (tools/faithful.py unix32tls); used by the TLS tests, not by every
  micropython32tlsc  portable module; and with mbedtls on the C heap, as on ESP32 (unix32tlsc)
  armv6m         ports/qemu on a Cortex-M0 (the RP2040's architecture), native emitter on,
  armv7m         and on a Cortex-M3; the library frozen in, the test module sent over the
                 REPL. Only modules whose imports the images have run there (found from
                 the imports and the images' own module list: no network, asyncio or
                 firmware), and not the tests a module names in HOST_ONLY (a host's heap
                 or speed).
"""

import ast
import functools
import os
import sys
from pathlib import Path

import faithful  # tools/, on the path from conftest.py
import pytest
from hosttools import ToolMissing, find_tool

ROOT = Path(__file__).resolve().parent.parent
PORTABLE = ROOT / "host_tests" / "portable"
HOST_INTERPRETERS = ("cpython", "micropython", "micropython32")  # run any script, any module
QEMU_LEGS = ("armv6m", "armv7m")
INTERPRETERS = HOST_INTERPRETERS + QEMU_LEGS
# The TLS legs: the frozen 32-bit build with Mbed TLS (the boards' TLS), by build target.
TLS_LEGS = {"micropython32tls": "unix32tls", "micropython32tlsc": "unix32tlsc"}
FROZEN_LEGS = ("micropython32",) + tuple(TLS_LEGS) + QEMU_LEGS
MODULE_TIMEOUT_S = 300


def host_tool(name):
    """Path of a host command from .venv or PATH; the test fails clearly when it is missing."""
    try:
        return find_tool(name)
    except ToolMissing as e:
        pytest.fail(str(e))


def micropython_exe():
    return host_tool("micropython")


@functools.lru_cache(maxsize=None)
def _built(target):
    try:
        return str(faithful.build(target)), None
    except (faithful.BuildError, OSError) as e:
        return None, "%s: %s" % (target, e)


def faithful_build(target):
    """Path of a board-faithful build (tools/faithful.py), built once per run when its inputs
    changed. A build that cannot be made fails the test: no leg is ever skipped."""
    path, err = _built(target)
    if err:
        pytest.fail("faithful build failed: " + err, pytrace=False)
    return path


def micropython32_exe():
    return faithful_build("unix32")


def interpreter_command(interp, script, heap="16M"):
    """argv and environment to run `script` under `interp` (one of HOST_INTERPRETERS) with the
    library importable: from lib/ (cpython, micropython) or frozen (micropython32)."""
    env = dict(os.environ)
    here = str(Path(script).parent)
    if interp == "micropython":
        # .frozen first, or the frozen asyncio disappears.
        env["MICROPYPATH"] = os.pathsep.join([".frozen", str(ROOT / "lib"), str(PORTABLE), here])
        return [micropython_exe(), "-X", "heapsize=" + heap, str(script)], env
    if interp == "micropython32" or interp in TLS_LEGS:
        # Only the frozen modules and the test helpers: never lib/ or firmware/. (The port
        # also puts the script's own folder first, so a script must not sit beside admin/.)
        env["MICROPYPATH"] = os.pathsep.join([".frozen", str(PORTABLE), here])
        exe = faithful_build(TLS_LEGS.get(interp, "unix32"))
        return [exe, "-X", "heapsize=" + heap, str(script)], env
    if interp != "cpython":
        raise ValueError("no command for interpreter %r" % interp)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "lib"), str(ROOT / "lib" / "hostshim")])
    return [sys.executable, str(script)], env


# ---- which modules the qemu legs run, and what is sent to them


def _walk_module_level(tree):
    # every node but the bodies of functions: what runs when the module is imported
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                todo.append(child)


def _imports(path, package=None, module_level=False):
    """Absolute names of the modules a source file imports (relative imports resolved); with
    module_level, only those its import runs (not the ones inside functions)."""
    tree = ast.parse(Path(path).read_text(), str(path))
    names = set()
    for node in _walk_module_level(tree) if module_level else ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = package + ("." + base if base else "")
            names.add(base)
            # `from sessionring import cookie` imports the module sessionring.cookie
            names.update(base + "." + a.name for a in node.names)
    return names


def _source_of(name):
    """(path, package) of a module of this repository, or None for anything else."""
    parts = name.split(".")
    if parts[0] in ("sessionring",):
        base = ROOT / "lib"
    elif parts[0] == "admin":
        base = ROOT / "firmware"
    elif len(parts) == 1 and (PORTABLE / (name + ".py")).is_file():
        return PORTABLE / (name + ".py"), None
    else:
        return None
    p = base.joinpath(*parts)
    if (p / "__init__.py").is_file():
        return p / "__init__.py", name
    if p.with_suffix(".py").is_file():
        return p.with_suffix(".py"), ".".join(parts[:-1])
    return None


def import_closure(path):
    """Every module name a portable test module needs: all its own imports and its helpers'
    (their functions run), and, through the library, what each module's import runs (an
    import inside a library function is only followed when a test calls it, so it is not
    counted: such a test fails on a leg that lacks the module, it is not left out)."""
    done, todo, seen = set(), [(Path(path), None)], set()
    while todo:
        p, pkg = todo.pop()
        if p in done:
            continue
        done.add(p)
        for name in _imports(p, pkg, module_level=p.parent != PORTABLE):
            seen.add(name)
            seen.add(name.split(".")[0])
            src = _source_of(name)
            if src:
                todo.append(src)
    return seen


def host_only(path):
    """Names in a portable module's HOST_ONLY tuple: tests that need a host's heap or speed
    (100k tokens, 1024-slot rings), which the qemu legs do not collect."""
    for node in ast.parse(Path(path).read_text()).body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "HOST_ONLY" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


@functools.lru_cache(maxsize=None)
def qemu_modules():
    """Top-level modules both qemu images have (builtin and frozen: the library, not the admin
    app), asked of the images themselves (tools/faithful.py image_modules, cached)."""
    have = None
    for target in QEMU_LEGS:
        names = faithful.image_modules(target)
        have = names if have is None else have & names
    return frozenset(have)


def qemu_eligible(path):
    """True when a portable module can run on the qemu images: every module it imports,
    followed through the library and the test helpers, is one the images have (no socket,
    no asyncio, no admin app there) or a helper the harness sends (host_tests/portable/_*)."""
    have = qemu_modules()
    for name in import_closure(path):
        top = name.split(".")[0]
        if top not in have and not (PORTABLE / (top + ".py")).is_file():
            return False
    return True


def helper_modules(path):
    """The test-helper modules (host_tests/portable/_*.py) a module needs, dependencies first."""
    order = []

    def visit(p):
        for name in sorted(_imports(p)):
            if name.startswith("_") and "." not in name and (PORTABLE / (name + ".py")).is_file():
                if name not in order:
                    visit(PORTABLE / (name + ".py"))
                    if name not in order:
                        order.append(name)

    visit(Path(path))
    return order


# Sent first to a qemu image: registers modules from source text (the image has no filesystem
# to put them on) and, for the tests only, an os.urandom: qemu's port has none. Tokens made
# with it are not secret; that is not what these legs test.
QEMU_PRELUDE = """\
import sys
import os as _sr_os
import random as _sr_random
import time as _sr_time


def _sr_module(name, src):
    g = {"__name__": name}
    exec(src, g)

    class m:
        pass

    for k in g:
        if not k.startswith("__"):
            setattr(m, k, g[k])
    sys.modules[name] = m


class _SrOs:
    pass


for _sr_n in dir(_sr_os):
    if not _sr_n.startswith("__"):
        setattr(_SrOs, _sr_n, getattr(_sr_os, _sr_n))
_sr_random.seed(_sr_time.ticks_cpu() ^ _sr_time.ticks_us())


def _sr_urandom(n):
    b = bytearray(n + 3)
    for i in range(0, n, 4):
        v = _sr_random.getrandbits(32)
        b[i], b[i + 1], b[i + 2], b[i + 3] = v & 255, v >> 8 & 255, v >> 16 & 255, v >> 24
    return bytes(b[:n])


_SrOs.urandom = staticmethod(_sr_urandom)
sys.modules["os"] = _SrOs
"""


def qemu_scripts(module, names):
    """The scripts that run one portable module on a qemu image, in order: the prelude, each
    helper module and the test module (registered from their source), then the runner."""
    path = PORTABLE / (module + ".py")
    out = [QEMU_PRELUDE]
    for name in helper_modules(path) + [module]:
        src = (PORTABLE / (name + ".py")).read_text()
        out.append("_sr_module(%r, %r)\n" % (name, src))
    out.append((PORTABLE / "_runner.py").read_text())
    out.append("main(%r)\n" % (["_runner.py", module] + list(names),))
    return out
