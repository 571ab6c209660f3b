"""The admin page in a real browser (headless Chromium, JavaScript off, a phone's viewport),
against the firmware as `make run` starts it, on the MicroPython unix port, with either
session store (the ring; sealed cookies). Saves a screenshot of each page (ring mode) to
host_tests/.artifacts/screenshots/, or to the folder named by SESSIONRING_SCREENSHOTS
(`make screenshots` refreshes docs/screenshots/ that way)."""

import os
import re

import pytest
from fwclient import PASSWORD, ROOT, Firmware

pytestmark = pytest.mark.browser

SHOTS = ROOT / os.environ.get("SESSIONRING_SCREENSHOTS", "host_tests/.artifacts/screenshots")
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "java_script_enabled": False,  # every page works without it
}
TIMEOUT_MS = 15000


@pytest.fixture(params=("ring", "sealed"))
def fw(request, tmp_path):
    # the real unix profile, with the store under test
    f = Firmware(
        "micropython", tmp_path, {"firmware": {"sessions": request.param}}, fast=False
    ).start()
    f.sealed = request.param == "sealed"
    assert f.sealed == ("sessions sealed in cookies" in f.output)
    yield f
    f.stop()


def _phone(browser):
    ctx = browser.new_context(**PHONE)
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx, ctx.new_page()


def _login(page, url, password=PASSWORD):
    page.goto(url + "/login")
    page.fill("#username", "admin")
    page.fill("#password", password)
    page.click("button.wide")
    page.wait_for_url(url + "/")


def _shot(page, name, fw):
    if fw.sealed:
        return  # the documented screenshots are the ring's
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / (name + ".png")
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_admin_tour(browser, fw):
    url = fw.url
    a_ctx, a = _phone(browser)
    b_ctx, b = _phone(browser)
    try:
        # log in (a wrong password first: one generic message)
        a.goto(url + "/")
        assert a.url == url + "/login"
        a.fill("#password", "not it")
        a.click("button.wide")
        assert a.locator("p.msg").inner_text() == "Wrong user name or password."
        a.goto(url + "/login")
        _shot(a, "login", fw)
        _login(a, url)
        assert a.locator("h1").inner_text() == "Status"
        held = "sealed in cookies" if fw.sealed else "in use of 16"
        assert a.locator("dd", has_text=held).count() == 1
        _shot(a, "dashboard", fw)

        _login(b, url)  # a second browser
        a.goto(url + "/sessions")
        if fw.sealed:
            # sealed: no list to show; log out everywhere ends both, then log in again
            assert a.locator("dd", has_text="0 for admin").count() == 1
            a.locator("button", has_text="Log out everywhere").click()
            a.wait_for_url(url + "/login")
            b.goto(url + "/")
            assert b.url == url + "/login"
            _login(a, url)
            a.goto(url + "/sessions")
            assert a.locator("dd", has_text="1 for admin").count() == 1
        else:
            # the ring: the first browser sees the second and revokes it
            cards = a.locator("li.card")
            assert cards.count() == 2
            assert a.locator("li.card", has_text="this session").count() == 1
            _shot(a, "sessions", fw)
            a.locator("li.card", has_not_text="this session").locator("button").click()
            assert a.locator("p.msg").inner_text() == "Session revoked."
            assert a.locator("li.card").count() == 1
            b.goto(url + "/")
            assert b.url == url + "/login"

        # settings: save, see them, and see them survive a restart
        a.goto(url + "/settings")
        _shot(a, "settings", fw)
        a.fill("#name", "Hall router")
        a.fill("#wifi_ssid", "home-net")
        a.fill("#idle_min", "10")
        a.locator("form", has_text="Device").locator("button").click()
        assert a.locator("p.msg").inner_text() == "Settings saved."
        assert a.locator("header b").inner_text() == "Hall router"
        fw.restart()
        url = fw.url  # a new port
        a.goto(url + "/")
        if fw.sealed:
            assert a.url == url + "/"  # the cookie holds the session: a restart keeps it
        else:
            assert a.url == url + "/login"  # sessions live in RAM: a restart ends them
            _login(a, url)
        assert a.locator("dd", has_text="10 min idle").count() == 1
        a.goto(url + "/settings")
        assert a.input_value("#name") == "Hall router"
        assert a.input_value("#wifi_ssid") == "home-net"
        assert a.input_value("#idle_min") == "10"

        # change the password: the other browser is logged out, this one stays in
        _login(b, url)
        pw = a.locator("form", has_text="Admin password")
        pw.locator("#current").fill(PASSWORD)
        pw.locator("#new").fill("a new passphrase")
        pw.locator("#confirm").fill("a new passphrase")
        pw.locator("button").click()
        assert "Password changed" in a.locator("p.msg").inner_text()
        b.goto(url + "/settings")
        assert b.url == url + "/login"
        _login(b, url, "a new passphrase")

        # log out
        a.locator("nav button", has_text="Log out").click()
        a.wait_for_url(url + "/login")
        a.goto(url + "/sessions")
        assert a.url == url + "/login"
        cookies = {c["name"]: c for c in a_ctx.cookies()}
        assert "sid" not in cookies
        sid = {c["name"]: c for c in b_ctx.cookies()}["sid"]
        assert sid["httpOnly"] and sid["sameSite"] == "Strict" and sid["path"] == "/"
        if fw.sealed:  # a Fernet token: base64url with padding
            assert re.fullmatch(r"[A-Za-z0-9_-]{100,}={0,2}", sid["value"])
        else:
            assert re.fullmatch(r"[A-Za-z0-9_-]{27}", sid["value"])
    finally:
        a_ctx.close()
        b_ctx.close()
