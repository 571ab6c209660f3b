"""HTTPS end to end: the admin page over TLS (board.json "https", `make run TLS=1`) on the
MicroPython unix port from PyPI (mbedtls), on the board-faithful 32-bit build with Mbed TLS on
the GC heap (micropython32tls, the Pico W's case) and on CPython; the certificate tool; curl
with the certificate pinned; sslyze; the http->https redirect; cookies under TLS; handshake
abuse (plain HTTP, garbage, a stalled handshake, more handshakes than the cap)."""

import hashlib
import json
import os
import socket
import ssl
import stat
import subprocess
import time

import cert
import pytest
from fwclient import Client, Firmware, free_port, merge

from harness import ROOT

LEGS = ("micropython", "micropython32tls", "cpython")
HANDSHAKE_MS = 1500  # the tests' handshake deadline (boards: 10 s)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cert")
    prof = json.loads((ROOT / "boards" / "unix" / "board.json").read_text())
    key, crt = cert.new(folder, "unix", prof, out=lambda s: None)
    return folder, key, crt


def _trust(crt):
    ctx = ssl.create_default_context(cadata=ssl.DER_cert_to_PEM_cert(crt))
    return ctx


class TLSFirmware(Firmware):
    def __init__(self, interp, folder, pair, profile=None, **kw):
        self.redirect = free_port()
        prof = {"server": {"handshake_ms": HANDSHAKE_MS}}
        merge(prof, profile or {})
        super().__init__(
            interp,
            folder,
            profile=prof,
            args=["--tls", "--redirect-port", str(self.redirect)],
            **kw,
        )
        self.data.mkdir(parents=True, exist_ok=True)
        for name in (cert.KEY_FILE, cert.CERT_FILE):
            (self.data / name).write_bytes((pair[0] / name).read_bytes())
        self.cert = pair[2]

    def client(self):
        return Client(self.port, tls=_trust(self.cert))


@pytest.fixture(params=LEGS)
def interp(request):
    return request.param


@pytest.fixture
def tfw(interp, tmp_path, pair):
    f = TLSFirmware(interp, tmp_path, pair).start()
    assert f.url.startswith("https://"), f.output
    yield f
    f.stop()


def _login(c):
    r = c.login()
    assert r.status == 303, r
    return r


# -- the admin page over TLS -------------------------------------------------------------------
def test_login_dashboard_over_tls_with_host_cookies(tfw):
    c = tfw.client()
    form = c.get("/login")
    assert form.status == 200
    csrf = [v for v in c.set_cookies if v.startswith("__Host-csrf=")]
    assert csrf and "Secure" in csrf[0] and "Path=/" in csrf[0] and "Domain" not in csrf[0]
    r = _login(c)
    sid = [v for v in c.set_cookies if v.startswith("__Host-sid=")]
    assert sid, c.set_cookies
    for attr in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert attr in sid[0], sid[0]
    assert "Domain" not in sid[0] and "Max-Age" not in sid[0]
    assert not any(v.startswith("sid=") for v in c.set_cookies)
    page = c.get("/")
    assert page.status == 200, r
    fp = cert.fingerprint(tfw.cert)
    assert fp in page.text  # the status page shows the certificate's fingerprint
    assert "TLS certificate SHA-256 fingerprint %s" % fp in tfw.output  # and the console
    # an http:// Origin is another origin for the https page: refused
    bad = Client(tfw.port, tls=_trust(tfw.cert))
    bad.origin = "http://127.0.0.1:%d" % tfw.port
    form = bad.get("/login")
    r = bad.post("/login", {"username": "admin", "password": "x" * 9, "csrf": form.csrf()})
    assert r.status == 403, r


def test_keep_alive_over_one_tls_connection(tfw):
    ctx = _trust(tfw.cert)
    import http.client

    conn = http.client.HTTPSConnection("127.0.0.1", tfw.port, timeout=20, context=ctx)
    try:
        for _ in range(5):
            conn.request("GET", "/login", headers={"Host": "127.0.0.1:%d" % tfw.port})
            r = conn.getresponse()
            assert r.status == 200
            r.read()
        sock = conn.sock
        assert sock.version() == "TLSv1.2", sock.version()
        name = sock.cipher()[0]
        assert name.startswith("ECDHE-ECDSA-") and ("GCM" in name or "CHACHA" in name), name
    finally:
        conn.close()


def test_curl_with_the_certificate_pinned(tfw, tmp_path):
    pem = tmp_path / "device.pem"
    pem.write_text(ssl.DER_cert_to_PEM_cert(tfw.cert))
    url = "https://127.0.0.1:%d/login" % tfw.port
    ok = subprocess.run(
        ["curl", "-sS", "--max-time", "20", "--cacert", str(pem), "-o", "/dev/null", "-w",
         "%{http_code} %{ssl_verify_result}", url],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert ok.stdout == "200 0", (ok.stdout, ok.stderr)
    # another certificate (another device, or someone in the middle) is refused by curl
    other = tmp_path / "other"
    prof = {"server": {"hosts": ["localhost"]}, "firmware": {"http_host": "127.0.0.1"}}
    cert.new(other, "unix", prof, out=lambda s: None)
    (tmp_path / "other.pem").write_text(
        ssl.DER_cert_to_PEM_cert((other / cert.CERT_FILE).read_bytes())
    )
    bad = subprocess.run(
        ["curl", "-sS", "--max-time", "20", "--cacert", str(tmp_path / "other.pem"), url],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert bad.returncode == 60, (bad.returncode, bad.stderr)  # peer certificate not trusted


def test_http_redirects_to_https(tfw):
    c = Client(tfw.redirect)
    r = c.get("/settings?x=1")
    assert r.status == 301
    assert r.header("Location") == "https://127.0.0.1:%d/settings?x=1" % tfw.port
    assert not r.all("Set-Cookie")
    r = c.get("/", headers={"Host": "localhost:%d" % tfw.redirect})
    assert r.header("Location") == "https://localhost:%d/" % tfw.port
    r = c.get("/", headers={"Host": "rebind.attacker.example"})
    assert r.status == 421
    # the redirect took no session and no work slot of the admin server: it still serves
    assert tfw.client().get("/login").status == 200


# -- handshake abuse ---------------------------------------------------------------------------
def _closed_within(sock, seconds):
    # True when the server closes the socket (EOF or reset) within `seconds`; the bytes it sent.
    sock.settimeout(seconds)
    got = b""
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < seconds:
            b = sock.recv(4096)
            if not b:
                return True, got
            got += b
    except (ConnectionResetError, BrokenPipeError):
        return True, got
    except socket.timeout:
        return False, got
    return False, got


def _serves(tfw):
    r = tfw.client().get("/login")
    return r.status == 200


def test_plain_http_on_the_tls_port_is_closed_without_plaintext(tfw):
    s = socket.create_connection(("127.0.0.1", tfw.port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    closed, got = _closed_within(s, HANDSHAKE_MS / 1000 + 8)
    s.close()
    assert closed
    assert b"HTTP/1." not in got  # at most a TLS alert, never an HTTP answer in clear
    assert _serves(tfw)


def test_garbage_on_the_tls_port(tfw):
    s = socket.create_connection(("127.0.0.1", tfw.port), timeout=10)
    s.sendall(os.urandom(600))
    closed, got = _closed_within(s, HANDSHAKE_MS / 1000 + 8)
    s.close()
    assert closed and b"HTTP/1." not in got
    assert _serves(tfw)


def _stalled_hello(port):
    # A client that sends the first bytes of a ClientHello and then nothing.
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(bytes.fromhex("160301020001"))  # record header, handshake type ClientHello
    return s


def test_stalled_handshakes_end_in_bounded_time(tfw):
    # more stalled handshakes than the caps (1 in progress, 2 connections): each is closed by
    # the deadline, and a real client is served afterwards
    socks = [_stalled_hello(tfw.port) for _ in range(4)]
    t0 = time.monotonic()
    for s in socks:
        closed, got = _closed_within(s, 3 * HANDSHAKE_MS / 1000 + 8)
        assert closed, "a stalled handshake was not closed"
        assert b"HTTP/1." not in got
        s.close()
    assert time.monotonic() - t0 < 3 * HANDSHAKE_MS / 1000 + 10
    assert _serves(tfw)


def test_a_good_handshake_waits_for_a_stalled_one(tfw):
    # one stalled handshake holds the only handshake place: a real browser's connection waits
    # for it (no refusal) and is served once the stalled one's deadline ends it
    s = _stalled_hello(tfw.port)
    try:
        t0 = time.monotonic()
        assert _serves(tfw)
        assert time.monotonic() - t0 < HANDSHAKE_MS / 1000 + 10
    finally:
        s.close()


def test_more_tls_connections_than_the_cap(tfw):
    # three keep-alive TLS clients with a cap of two: the longest-idle one is closed for the
    # newcomer; every request is answered
    import http.client

    ctx = _trust(tfw.cert)
    conns = [
        http.client.HTTPSConnection("127.0.0.1", tfw.port, timeout=20, context=ctx)
        for _ in range(3)
    ]
    try:
        for c in conns:
            c.request("GET", "/login")
            r = c.getresponse()
            assert r.status == 200
            r.read()
    finally:
        for c in conns:
            c.close()
    assert _serves(tfw)


# -- the scanner --------------------------------------------------------------------------------
def test_sslyze_tls12_forward_secret_aead_only(tfw):
    from sslyze import (
        ScanCommand,
        Scanner,
        ServerNetworkLocation,
        ServerScanRequest,
        ServerScanStatusEnum,
    )

    loc = ServerNetworkLocation("127.0.0.1", tfw.port)
    cmds = {
        ScanCommand.SSL_2_0_CIPHER_SUITES,
        ScanCommand.SSL_3_0_CIPHER_SUITES,
        ScanCommand.TLS_1_0_CIPHER_SUITES,
        ScanCommand.TLS_1_1_CIPHER_SUITES,
        ScanCommand.TLS_1_2_CIPHER_SUITES,
        ScanCommand.TLS_1_3_CIPHER_SUITES,
    }
    scanner = Scanner(per_server_concurrent_connections_limit=1)
    scanner.queue_scans([ServerScanRequest(server_location=loc, scan_commands=cmds)])
    (res,) = list(scanner.get_results())
    assert res.scan_status == ServerScanStatusEnum.COMPLETED, res.connectivity_error_trace
    r = res.scan_result
    for name in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1", "tls_1_3"):
        attempt = getattr(r, name + "_cipher_suites")
        assert attempt.result is not None, (name, attempt.error_trace)
        assert attempt.result.accepted_cipher_suites == [], name
    t12 = r.tls_1_2_cipher_suites.result
    names = sorted(s.cipher_suite.name for s in t12.accepted_cipher_suites)
    assert names, "no TLS 1.2 suite accepted"
    for n in names:
        assert n.startswith("TLS_ECDHE_"), n  # forward secret
        assert "_GCM_" in n or "CHACHA20_POLY1305" in n or n.endswith("_CCM"), n  # AEAD
    assert _serves(tfw)


# -- https on and no certificate ----------------------------------------------------------------
def test_https_without_a_certificate_serves_http(tmp_path):
    f = Firmware("micropython", tmp_path, args=["--tls", "--redirect-port", "0"])
    f.data.mkdir(parents=True)
    (f.data / cert.CERT_FILE).write_bytes(b"")  # run.py would make one: an empty file instead
    f.start()
    try:
        assert f.url.startswith("http://"), f.output
        assert "https is on but there is no certificate" in f.output
        assert f.client().get("/login").status == 200
    finally:
        f.stop()


# -- the certificate tool ----------------------------------------------------------------------
def test_cert_tool_makes_a_p256_pair_with_the_device_names(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    prof = json.loads((ROOT / "boards" / "esp32" / "board.json").read_text())
    prof["server"]["hosts"] = ["router.lan"]
    key, crt = cert.new(tmp_path, "esp32", prof, names=["admin.example"], out=lambda s: None)
    c = x509.load_der_x509_certificate(crt)
    assert isinstance(c.public_key(), ec.EllipticCurvePublicKey)
    assert c.public_key().curve.name == "secp256r1"
    san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    dns = set(san.get_values_for_type(x509.DNSName))
    ips = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    assert {"router.lan", "admin.example", "sessionring-esp32", "sessionring-esp32.local"} <= dns
    assert {"mpy-esp32.local"} <= dns
    assert ips == {"192.168.4.1"}
    cert.check_pair(key, crt)
    assert stat.S_IMODE((tmp_path / cert.KEY_FILE).stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.tmp"))
    assert cert.fingerprint(crt) == ":".join("%02X" % b for b in hashlib.sha256(crt).digest())
    out = subprocess.run(
        ["openssl", "x509", "-inform", "der", "-noout", "-fingerprint", "-sha256", "-in",
         str(tmp_path / cert.CERT_FILE)], capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip().endswith(cert.fingerprint(crt))


def test_cert_tool_never_overwrites_without_force(tmp_path):
    prof = {"server": {"hosts": []}}
    _, first = cert.new(tmp_path, "rpi_pico_w", prof, out=lambda s: None)
    with pytest.raises(cert.CertError, match="--force"):
        cert.new(tmp_path, "rpi_pico_w", prof, out=lambda s: None)
    assert (tmp_path / cert.CERT_FILE).read_bytes() == first
    _, second = cert.new(tmp_path, "rpi_pico_w", prof, force=True, out=lambda s: None)
    assert second != first and (tmp_path / cert.CERT_FILE).read_bytes() == second
    assert stat.S_IMODE((tmp_path / cert.KEY_FILE).stat().st_mode) == 0o600


def test_cert_tool_refuses_a_mismatched_pair(tmp_path):
    prof = {"server": {"hosts": []}}
    a, b = tmp_path / "a", tmp_path / "b"
    cert.new(a, "esp32", prof, out=lambda s: None)
    cert.new(b, "esp32", prof, out=lambda s: None)
    (a / cert.CERT_FILE).write_bytes((b / cert.CERT_FILE).read_bytes())
    with pytest.raises(cert.CertError, match="not for this key"):
        cert.load_pair(a)
    (b / cert.KEY_FILE).unlink()
    with pytest.raises(cert.CertError, match="only one"):
        cert.load_pair(b)
