"""First boot and `make run`: the generated admin password, the listening line, the port
rules of tools/run.py, and the Makefile target itself under both interpreters."""

import importlib.util
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from fwclient import LISTEN, ROOT, Client, Firmware, clean_env, free_port

from harness import HOST_INTERPRETERS

_spec = importlib.util.spec_from_file_location("run_tool", ROOT / "tools" / "run.py")
run_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_tool)


@pytest.mark.parametrize("interp", HOST_INTERPRETERS)
def test_first_boot_prints_a_generated_password_once(interp, tmp_path):
    f = Firmware(interp, tmp_path, password=None).start()
    try:
        m = re.search(r"first boot: user admin, password (\S+)", f.output)
        assert m, f.output
        pw = m.group(1)
        assert len(pw) == 14
        assert Client(f.port).login("admin").status == 401  # no default password
        assert Client(f.port).login(pw).status == 303
        stored = (f.data / "auth.json").read_text()
        assert pw not in stored and "pbkdf2-sha256$" in stored
        f.restart()
        assert pw not in f.output and "first boot" not in f.output
        assert Client(f.port).login(pw).status == 303
    finally:
        f.stop()


def test_port_rules():
    pick = run_tool.pick_port
    assert pick(None, {}) == 8080
    assert pick(8080, {}) == 8080  # what make passes without PORT=
    assert pick(8080, {"SESSIONRING_PORT": "9001"}) == 9001  # the environment beats the default
    assert pick(9002, {"PORT": "9002", "SESSIONRING_PORT": "9001"}) == 9002  # make run PORT=
    assert pick(None, {"PORT": "9003"}) == 9003


def test_run_command_sets_the_layout():
    argv, env = run_tool.command("micropython", 0, environ={})
    assert argv[-1].endswith("firmware/main.py") and "heapsize=1024K" in argv
    assert env["MICROPYPATH"].split(os.pathsep)[0] == ".frozen"
    assert env["MICROPYPATH"].endswith("firmware" + os.pathsep + str(ROOT / "lib"))
    assert env["SESSIONRING_BOARD"] == str(ROOT / "boards" / "unix" / "board.json")
    assert env["SESSIONRING_DATA"] == str(ROOT / ".run")
    # the faithful build: only the frozen modules, and main.py in a folder without admin/
    argv, env = run_tool.command("micropython32", 0, environ={})
    assert env["MICROPYPATH"] == ".frozen" and "heapsize=1024K" in argv
    main = Path(argv[-1])
    assert (
        main.name == "main.py"
        and main.read_bytes() == (ROOT / "firmware" / "main.py").read_bytes()
    )
    assert not (main.parent / "admin").exists() and not (main.parent / "sessionring").exists()
    assert ROOT / "build" in main.parents
    argv, env = run_tool.command("cpython", 8081, environ={"SESSIONRING_DATA": "/x"})
    assert env["PYTHONPATH"].split(os.pathsep)[-1].endswith("hostshim")
    assert env["SESSIONRING_DATA"] == "/x" and env["SESSIONRING_PORT"] == "8081"


def _make_run(args, env, timeout=120):
    # `make run ...` in its own process group; returns (url, port, lines, stop). The setup
    # step is skipped (-o setup): `make test` has just run it.
    p = subprocess.Popen(
        ["make", "--no-print-directory", "-o", "setup", "run"] + args,
        cwd=str(ROOT),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines = []

    def stop():
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        p.stdout.close()

    try:
        for line in p.stdout:  # ends when make exits; bounded by the firmware's own start
            lines.append(line)
            m = LISTEN.search(line)
            if m:
                return m.group(1), int(m.group(2)), lines, stop
    except BaseException:
        stop()
        raise
    stop()
    raise AssertionError("make run exited:\n" + "".join(lines))


@pytest.mark.parametrize("py", HOST_INTERPRETERS)
def test_make_run(py, tmp_path):
    port = free_port()
    env = clean_env(SESSIONRING_DATA=str(tmp_path / "data"), SESSIONRING_PORT=str(port))
    args = [] if py == "micropython" else ["PY=" + py]
    url, got, lines, stop = _make_run(args, env)
    try:
        assert got == port and url == "http://127.0.0.1:%d/" % port
        text = "".join(lines)
        assert re.search(r"first boot: user admin, password \S+", text)
        assert Client(port).get("/login").status == 200
    finally:
        stop()
    # PORT= on the make command line wins over SESSIONRING_PORT
    port2 = free_port()
    url, got, lines, stop = _make_run(args + ["PORT=%d" % port2], env)
    try:
        assert got == port2
        assert "first boot" not in "".join(lines)  # the same data folder: nothing printed
    finally:
        stop()
