"""A fleet: two firmware instances (two devices behind one name) on two loopback ports, in
sealed mode, sharing one key file (made by tools/keys.py) and one settings file. A cookie from
A opens B; a tampered one opens neither; a logout is remembered by the device that served it
only; a generation bump ("log out everywhere") reaches B when B's generation file does."""

import json
import shutil
import subprocess
import sys

import pytest
from fwclient import Client, Firmware

from harness import ROOT

SETTINGS = {
    "v": 1,
    "name": "mesh",
    "wifi_ssid": "",
    "wifi_password": "",
    "ap_password": "fleet ap password",
    "idle_s": 900,
    "absolute_s": 43200,
}


@pytest.fixture(params=("micropython", "cpython"))
def fleet(request, tmp_path):
    keys = tmp_path / "fleet.keys"
    r = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "keys.py"), "new", str(keys)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps(SETTINGS))
    prof = {"firmware": {"sessions": "sealed"}, "sealed": {"key_file": str(keys)}}
    devices = []
    try:
        for name in ("a", "b"):
            fw = Firmware(request.param, tmp_path / name, prof)
            fw.data.mkdir(parents=True)
            shutil.copy(settings, fw.data / "settings.json")
            fw.start()
            assert "sessions sealed in cookies, key file %s" % keys in fw.output, fw.output
            devices.append(fw)
        yield devices
    finally:
        for fw in devices:
            fw.stop()


def _with(fw, sid):
    c = Client(fw.port)
    c.cookies["sid"] = sid
    return c


def _dashboard(fw, sid):
    return _with(fw, sid).get("/")


def test_a_cookie_from_a_opens_b_and_logouts_are_per_device(fleet):
    a, b = fleet
    c = a.client()
    assert c.login().status == 303
    sid = c.cookies["sid"]
    page = _dashboard(b, sid)  # the same cookie on the other device
    assert page.status == 200 and "mesh" in page.text and "sealed in cookies" in page.text
    st = Client(b.port).get("/api/status", headers={"Authorization": "Bearer " + sid})
    assert st.status == 200 and st.json()["session"]["user"] == "admin"
    assert _with(b, sid).get("/settings").status == 200

    # tampered: neither device opens it
    for bad in (sid[:40] + ("A" if sid[40] != "A" else "B") + sid[41:], sid[:-8] + "AAAAAAA="):
        assert _dashboard(a, bad).status == 303
        assert _dashboard(b, bad).status == 303

    # a form of B with A's session: the CSRF token is in the cookie, so B checks it too
    csrf = _dashboard(b, sid).csrf()
    assert csrf and csrf == c.page_csrf()
    assert _with(b, sid).post("/logout", {"csrf": "x" * 32}).status == 403

    # logout on A: A refuses the cookie from now on; B never heard of it (its deny-list is
    # its own, in RAM) and accepts the cookie until its idle timeout
    r = c.post("/logout", {"csrf": csrf})
    assert r.status == 303 and "sid" not in c.cookies
    assert _dashboard(a, sid).status == 303
    assert _dashboard(b, sid).status == 200
    for fw in (a, b):
        assert "Traceback" not in fw.output


def test_a_generation_bump_reaches_b_with_its_generation_file(fleet):
    a, b = fleet
    c = a.client()
    assert c.login().status == 303
    sid = c.cookies["sid"]
    assert _dashboard(b, sid).status == 200
    r = c.post("/sessions/everywhere", {"csrf": c.page_csrf("/sessions")})
    assert r.status == 303 and r.header("Location") == "/login"
    assert _dashboard(a, sid).status == 303
    assert json.loads((a.data / "sealed_gens.json").read_text()) == {"admin": 1}
    # B keeps its own generations: the old cookie still opens there ...
    assert _dashboard(b, sid).status == 200
    # ... until B's generation file gets A's numbers and B reads it (at start)
    shutil.copy(a.data / "sealed_gens.json", b.data / "sealed_gens.json")
    b.restart()
    assert _dashboard(b, sid).status == 303
    # a new login on either device opens both
    d = b.client()
    assert d.login().status == 303
    assert _dashboard(a, d.cookies["sid"]).status == 200
    assert "1 for admin" in _with(a, d.cookies["sid"]).get("/sessions").text
