"""Deploy to the virtual board with "https": true: tools/deploy.py makes the device's certificate
on the host (key mode 0600), copies it to the board's /data, and the soft reset serves the admin
page over TLS with it; a second deploy keeps it; --new-cert replaces it."""

import re
import ssl
import stat

from _vboard import VirtualBoard, deploy, host_env, source_copy
from fwclient import Client

PASSWORD = "deploy https password"
LISTEN = re.compile(r"admin page at https://127\.0\.0\.1:(\d+)/")


def _deploy(board, src, certs, *more):
    r = deploy("unix", board.url, src, "--cert-dir", str(certs), *more)
    console = board.output()[-3000:].decode("utf-8", "replace")
    assert r.returncode == 0, (r.stdout, r.stderr, console)
    m = LISTEN.search(r.stdout)
    assert m, "no https admin page after the reset:\n%s\n--- console\n%s" % (r.stdout, console)
    return r, int(m.group(1))


def _served_with(port, crt):
    ctx = ssl.create_default_context(cadata=ssl.DER_cert_to_PEM_cert(crt))
    c = Client(port, tls=ctx)  # fails unless the board serves exactly this certificate
    r = c.login(PASSWORD)
    assert r.status == 303, r
    assert any(v.startswith("__Host-sid=") for v in c.set_cookies)


def test_deploy_makes_copies_and_keeps_the_certificate(tmp_path):
    src = source_copy(tmp_path / "src", https=True)
    certs = tmp_path / "certs"
    env = host_env(SESSIONRING_PORT=0, SESSIONRING_ADMIN_PASSWORD=PASSWORD)
    with VirtualBoard(tmp_path / "board", env=env) as board:
        board.wait_for(b">>> ", 20)
        r, port = _deploy(board, src, certs)
        assert "cert: copied" in r.stdout, r.stdout
        made = [d for d in certs.iterdir() if d.is_dir()]
        assert len(made) == 1, made
        key = made[0] / "tls.key.der"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        crt = (made[0] / "tls.cert.der").read_bytes()
        assert (board.folder / "data" / "tls.cert.der").read_bytes() == crt
        assert (board.folder / "data" / "tls.key.der").read_bytes() == key.read_bytes()
        _served_with(port, crt)

        r, port = _deploy(board, src, certs)
        assert "the board keeps its certificate" in r.stdout, r.stdout
        assert (board.folder / "data" / "tls.cert.der").read_bytes() == crt
        _served_with(port, crt)

        r, port = _deploy(board, src, certs, "--new-cert")
        new = (board.folder / "data" / "tls.cert.der").read_bytes()
        assert new != crt and "cert: copied" in r.stdout
        _served_with(port, new)
