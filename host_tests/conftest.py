"""Test harness.

Every module under host_tests/portable/ is run twice, under CPython (with lib/hostshim) and
under the MicroPython unix port, each test a separate pytest item: test_x[cpython] and
test_x[micropython]. A module runs once per interpreter in a subprocess; a crash fails every
test of that module that did not report.
"""

import ast
import subprocess

import pytest

from harness import INTERPRETERS, MODULE_TIMEOUT_S, PORTABLE, ROOT, interpreter_command


class _ModuleRun:
    """The outcome of one portable module on one interpreter."""

    def __init__(self, module, interp, names):
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
            out, err, rc = proc.stdout, proc.stderr, proc.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            err, rc = "timed out after %d s" % MODULE_TIMEOUT_S, None
        self.results = {}
        self.output = {}
        current, lines = None, out.splitlines()[-60:]  # before any test: the import's output
        for line in out.splitlines():
            if line.startswith("@@sr-begin "):
                current, lines = line.split(" ", 1)[1], []
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
        for interp in INTERPRETERS:
            for name in names:
                yield PortableItem.from_parent(
                    self,
                    name="%s[%s]" % (name, interp),
                    module=module,
                    func=name,
                    interp=interp,
                    names=names,
                )


def pytest_pycollect_makemodule(module_path, parent):
    # Portable modules are never imported by pytest itself: they run in subprocesses.
    if module_path.parent == PORTABLE:
        return PortableModule.from_parent(parent, path=module_path)
    return None


def pytest_configure(config):
    for interp in INTERPRETERS:
        config.addinivalue_line("markers", "%s: portable test leg on %s" % (interp, interp))
