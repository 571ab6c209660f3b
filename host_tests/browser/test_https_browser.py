"""The admin page over HTTPS in headless Chromium (`make run TLS=1`, MicroPython unix port):
plain HTTP redirects to it, login works, the session cookie is __Host-sid with Secure, and the
status page shows the fingerprint of the certificate the browser was served. The certificate is
self-signed: this test alone tells Chromium to accept it (ignore_https_errors), and checks that
what it accepted is the device's own certificate."""

import json

import cert
import pytest
from fwclient import PASSWORD, ROOT, Firmware, free_port

pytestmark = pytest.mark.browser
TIMEOUT_MS = 15000


@pytest.fixture
def fw(tmp_path):
    redirect = free_port()
    f = Firmware("micropython", tmp_path, args=["--tls", "--redirect-port", str(redirect)])
    prof = json.loads((ROOT / "boards" / "unix" / "board.json").read_text())
    f.data.mkdir(parents=True)
    _, f.cert = cert.new(f.data, "unix", prof, out=lambda s: None)
    f.redirect = redirect
    f.start()
    yield f
    f.stop()


def test_admin_over_https_in_chromium(browser, fw):
    assert fw.url.startswith("https://")
    ctx = browser.new_context(ignore_https_errors=True, java_script_enabled=False)
    ctx.set_default_timeout(TIMEOUT_MS)
    page = ctx.new_page()
    try:
        page.goto("http://127.0.0.1:%d/login" % fw.redirect)  # the redirect to https
        assert page.url == fw.url + "/login", page.url
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.click("button.wide")
        page.wait_for_url(fw.url + "/")
        assert cert.fingerprint(fw.cert) in page.content()
        cookies = {c["name"]: c for c in ctx.cookies()}
        sid = cookies["__Host-sid"]
        assert sid["secure"] and sid["httpOnly"] and sid["sameSite"] == "Strict"
        assert sid["path"] == "/" and sid["expires"] == -1  # a session cookie
        assert "sid" not in cookies
        page.click("text=Sessions")
        page.wait_for_url(fw.url + "/sessions")
        assert "this session" in page.content()
    finally:
        ctx.close()
