"""Sealed revocation that lasts, on the real firmware in sealed mode (a process per device, as
`make run SESSIONS=sealed` starts it): a logged-out cookie stays refused after the firmware is
restarted (its deny-list is on flash), and scripts that log in and out through the API many
times over never end a browser's session (they have a deny-list lane of their own)."""

import pytest
from fwclient import Client, Firmware

SETTINGS_FORM = {
    "form": "device",
    "name": "replayed",
    "wifi_ssid": "",
    "idle_min": "15",
    "absolute_min": "720",
}


@pytest.fixture(params=("micropython", "micropython32", "cpython"))
def device(request, tmp_path):
    fw = Firmware(request.param, tmp_path / "dev", {"firmware": {"sessions": "sealed"}})
    fw.start()
    assert "sessions sealed in cookies" in fw.output, fw.output
    try:
        yield fw
    finally:
        fw.stop()


def _with(fw, sid):
    c = Client(fw.port)
    c.cookies["sid"] = sid
    return c


def test_a_logged_out_cookie_stays_refused_after_a_restart(device):
    c = device.client()
    assert c.login().status == 303
    sid = c.cookies["sid"]
    csrf = c.page_csrf("/settings")
    assert csrf
    r = c.post("/logout", {"csrf": csrf})
    assert r.status == 303 and "sid" not in c.cookies
    assert _with(device, sid).get("/").status == 303  # refused at once

    device.restart()  # a new process: nothing of the old one's RAM survives
    assert "sessions sealed in cookies" in device.output
    replay = _with(device, sid)
    r = replay.get("/")
    assert r.status == 303 and r.header("Location") == "/login"
    assert replay.get("/api/status", headers={"Authorization": "Bearer " + sid}).status == 401
    r = replay.post("/settings", dict(SETTINGS_FORM, csrf=csrf))
    assert r.status in (303, 403) and "saved" not in (r.header("Location") or "")
    # nothing was saved: the device keeps its name
    fresh = device.client()
    assert fresh.login().status == 303
    assert "replayed" not in fresh.get("/settings").text
    assert (device.data / "sealed_deny.txt").exists()  # where the logout was kept
    assert "Traceback" not in device.output


def test_scripts_logging_in_and_out_never_end_a_browser_session(device):
    browser = device.client()
    assert browser.login().status == 303
    sid = browser.cookies["sid"]
    script = Client(device.port)
    for i in range(45):  # more than both lanes of the deny-list hold
        tok = script.api_token()
        auth = {"Authorization": "Bearer " + tok}
        assert script.get("/api/status", headers=auth).status == 200, i
        r = script.post_json("/api/logout", {}, headers=auth)
        assert r.status == 200, (i, r)
        assert script.get("/api/status", headers=auth).status == 401, i  # logged out: refused
    # the browser's session is still the same one, and still works
    page = browser.get("/")
    assert page.status == 200 and browser.cookies["sid"] == sid
    assert browser.get("/sessions").status == 200
    # and its logout is still an entry of its own lane, refused after a restart too
    csrf = browser.page_csrf("/sessions")
    assert browser.post("/logout", {"csrf": csrf}).status == 303
    device.restart()
    assert _with(device, sid).get("/").status == 303
    assert "Traceback" not in device.output
