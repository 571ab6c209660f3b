"""Test harness.

Every module under host_tests/portable/ runs on every leg of harness.INTERPRETERS, each test
a separate pytest item: test_x[cpython], test_x[micropython] (the PyPI unix port, 64-bit),
test_x[micropython32] (MicroPython v1.28.0 as a 32-bit binary with the library frozen in), and,
for the modules that need no network, asyncio or firmware (detected from their imports),
test_x[armv6m] and test_x[armv7m] on qemu. A module runs once per leg in a subprocess (or one
qemu boot); a crash fails every test of that module that did not report. The frozen legs must
import the library frozen: a run that imported it from a file fails all its tests.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

# The one path setup of the host tests, before any test module is imported: tools/ (fwclient,
# the firmware process and its clients; faithful, deploy, keys), the library with its CPython
# shim, and the portable tests' helpers (_support), which host tests share.
_ROOT = Path(__file__).resolve().parent.parent
for _p in ("host_tests/portable", "lib/hostshim", "lib", "tools"):
    if str(_ROOT / _p) not in sys.path:
        sys.path.insert(0, str(_ROOT / _p))

from harness import (  # noqa: E402
    FROZEN_LEGS,
    INTERPRETERS,
    MODULE_TIMEOUT_S,
    PORTABLE,
    QEMU_LEGS,
    ROOT,
    faithful,
    faithful_build,
    host_only,
    interpreter_command,
    qemu_eligible,
    qemu_scripts,
)


def _lib_problem(interp, origin):
    """Why the library's origin is wrong for this leg, or None."""
    if origin is None:
        return "the runner did not say where the library came from"
    if interp in FROZEN_LEGS:
        if origin.startswith("/") or (ROOT / origin).exists():
            return "imported the library from a file (%s), not frozen" % origin
    elif ROOT / "lib" not in Path(origin).resolve().parents:
        return "imported the library from %s, not lib/" % origin
    return None


class _ModuleRun:
    """The outcome of one portable module on one interpreter."""

    def __init__(self, module, interp, names):
        if interp in QEMU_LEGS:
            out, err, rc = self._qemu(module, interp, names)
        else:
            out, err, rc = self._host(module, interp, names)
        self._parse(out, err, rc)
        problem = None if self.crash else _lib_problem(interp, self.lib)
        if problem:
            self.results = {}
            self.crash = problem

    @staticmethod
    def _host(module, interp, names):
        argv, env = interpreter_command(interp, PORTABLE / "_runner.py")
        argv += [module] + names
        try:
            proc = subprocess.run(
                argv,
                env=env,
                cwd=str(ROOT),
                capture_output=True,
                text=True,
                timeout=MODULE_TIMEOUT_S,
            )
            return proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            return out, "timed out after %d s" % MODULE_TIMEOUT_S, None

    @staticmethod
    def _qemu(module, interp, names):
        elf = faithful_build(interp)
        outs = []
        try:
            with faithful.QemuBoard(interp, elf=elf) as board:
                for script in qemu_scripts(module, names):
                    out, err = board.run_raw(script, timeout=MODULE_TIMEOUT_S)
                    outs.append(out)
                    if err:
                        return "".join(outs), err, 1
        except (faithful.QemuError, faithful.BuildError, OSError) as e:
            return "".join(outs), str(e), None
        return "".join(outs), "", 0

    def _parse(self, out, err, rc):
        self.results = {}
        self.output = {}
        self.lib = None
        current, lines = None, out.splitlines()[-60:]  # before any test: the import's output
        for line in out.splitlines():
            if line.startswith("@@sr-begin "):
                current, lines = line.split(" ", 1)[1], []
            elif line.startswith("@@sr-lib "):
                self.lib = line.split(" ", 1)[1].strip()
            elif line.startswith("@@sr-result "):
                _, name, verdict = line.split(" ")
                self.results[name] = verdict
                self.output[name] = "\n".join(lines)
                current = None
            elif current is not None:
                lines.append(line)
        self.crash = None
        if current is not None or rc != 0:
            self.crash = "exit %s while running %s\n--- output\n%s\n--- stderr\n%s" % (
                rc,
                current,
                "\n".join(lines[-60:]),
                err[-4000:],
            )


_runs = {}


class PortableItem(pytest.Item):
    def __init__(self, *, module, func, interp, names, **kw):
        super().__init__(**kw)
        self.module, self.func, self.interp, self.names = module, func, interp, names
        self.add_marker(getattr(pytest.mark, interp))

    def runtest(self):
        key = (self.module, self.interp)
        if key not in _runs:
            _runs[key] = _ModuleRun(self.module, self.interp, self.names)
        run = _runs[key]
        verdict = run.results.get(self.func)
        if verdict == "ok":
            return
        if verdict == "fail":
            raise PortableFailure(run.output[self.func])
        raise PortableFailure(run.crash or "no result reported")

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, PortableFailure):
            return "[%s] %s" % (self.interp, excinfo.value.args[0])
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, "%s[%s]" % (self.func, self.interp)


class PortableFailure(Exception):
    pass


class PortableModule(pytest.File):
    def collect(self):
        tree = ast.parse(self.path.read_text(), str(self.path))
        names = [
            n.name
            for n in tree.body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")
        ]
        module = self.path.stem
        qemu = qemu_eligible(self.path)
        big = host_only(self.path)
        for interp in INTERPRETERS:
            if interp in QEMU_LEGS and not qemu:
                continue
            for name in names:
                if interp in QEMU_LEGS and name in big:
                    continue
                yield PortableItem.from_parent(
                    self,
                    name="%s[%s]" % (name, interp),
                    module=module,
                    func=name,
                    interp=interp,
                    names=[n for n in names if interp not in QEMU_LEGS or n not in big],
                )


def pytest_pycollect_makemodule(module_path, parent):
    # Portable modules are never imported by pytest itself: they run in subprocesses.
    if module_path.parent == PORTABLE:
        return PortableModule.from_parent(parent, path=module_path)
    return None


def pytest_configure(config):
    for interp in INTERPRETERS:
        config.addinivalue_line("markers", "%s: portable test leg on %s" % (interp, interp))


# -- fixtures for host tests that drive the firmware; a module may define its own instead ------
FIRMWARE_INTERPRETERS = ("micropython", "cpython")


@pytest.fixture(params=FIRMWARE_INTERPRETERS)
def interp(request):
    return request.param


@pytest.fixture
def fw(interp, tmp_path):
    # The firmware as `make run` starts it, on interp, with its data in tmp_path.
    from fwclient import Firmware

    f = Firmware(interp, tmp_path).start()
    yield f
    f.stop()
