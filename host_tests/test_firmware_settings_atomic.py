"""Settings on flash are replaced atomically: a process killed at any moment while it saves
leaves settings.json old or new, never broken, and the firmware boots from it. Runs the
firmware's own store under both interpreters, killed in a bounded loop at varying points."""

import json
import random
import signal
import subprocess

import pytest
from fwclient import ROOT, Firmware

from harness import HOST_INTERPRETERS, interpreter_command

WRITER = """
import sys
sys.path.append("firmware")
from admin.settings import Settings

prof = {"name": "t", "idle_s": 900, "absolute_s": 43200}
s = Settings(sys.argv[1], prof)
s.load(lambda line: None)
i = int(s["wifi_ssid"] or "0")
print("ready", i)
while True:
    i += 1
    # a long name makes each write take a while: more chances to be cut in the middle
    s.update({"wifi_ssid": str(i), "name": "n" * 32})
    print("saved", i)
"""

ROUNDS = 12
KEYS = {"v", "name", "wifi_ssid", "wifi_password", "ap_password", "idle_s", "absolute_s"}


@pytest.mark.parametrize("interp", HOST_INTERPRETERS)
def test_killed_while_saving_leaves_old_or_new(interp, tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    data = tmp_path / "data"
    data.mkdir()
    argv, env = interpreter_command(interp, script)
    env["PYTHONUNBUFFERED"] = "1"
    rng = random.Random(1234)
    last_seen = 0
    for _ in range(ROUNDS):
        p = subprocess.Popen(
            argv + [str(data)],
            cwd=str(ROOT),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            first = p.stdout.readline().split()
            assert first[:1] == ["ready"], first + [p.stderr.read()]
            start = int(first[1])
            assert start >= last_seen  # what was saved before the kill is still there
            # let it save a varying number of times, then kill it mid-loop
            saved = start
            for _ in range(rng.randint(0, 40)):
                saved = int(p.stdout.readline().split()[1])
            p.send_signal(signal.SIGKILL)
            p.wait(10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait(10)
            p.stdout.close()
            p.stderr.close()
        text = (data / "settings.json").read_text()
        obj = json.loads(text)  # never a torn file
        assert set(obj) == KEYS
        got = int(obj["wifi_ssid"])
        assert got >= saved  # the last reported save, or one after it that finished
        assert not (data / "settings.json.bad").exists()
        last_seen = got


@pytest.mark.parametrize("interp", ("micropython", "micropython32"))
def test_firmware_boots_on_a_corrupt_settings_file(interp, tmp_path):
    # the e2e view of the same promise: a broken file is set aside, defaults are used
    f = Firmware(interp, tmp_path)
    f.data.mkdir(parents=True)
    (f.data / "settings.json").write_bytes(b'{"v": 1, "name": "tor')
    f.start()
    try:
        assert "settings.json was corrupt" in f.output
        c = f.client()
        assert c.login().status == 303
        assert "sessionring-unix" in c.get("/").text
        assert (f.data / "settings.json.bad").read_bytes() == b'{"v": 1, "name": "tor'
        assert json.loads((f.data / "settings.json").read_text())["name"] == "sessionring-unix"
    finally:
        f.stop()
