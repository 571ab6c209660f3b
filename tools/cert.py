#!/usr/bin/env python3
"""The device's TLS certificate (docs/https.md): EC P-256, self-signed, made on the host (a
board cannot make keys or certificates), written as DER (the boards' mbedtls has no PEM parser).

    python tools/cert.py new DIR --board esp32 [--name NAME ...] [--ip IP ...] [--force]
    python tools/cert.py show DIR/tls.cert.der

`new` writes DIR/tls.key.der (mode 0600: the device's private key) and DIR/tls.cert.der, each
as the firmware writes its own files (FILE.tmp complete first, then renamed over FILE). An
existing pair is never replaced without --force: every browser that accepted the device's
fingerprint would warn again. The certificate names the device's addresses and names in its
subjectAltName: the access point's address (192.168.4.1), the board profile's server "hosts", the
default device name (sessionring-BOARD) and the Wi-Fi host name, each also as NAME.local,
plus any --name and --ip given. `tools/deploy.py` makes one when a board with "https": true
has none (--new-cert to replace it) and copies it to the board's data folder.
`show` prints the SHA-256 fingerprint, the one the status page shows and the first boot prints.
"""

import argparse
import datetime
import hashlib
import ipaddress
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY_FILE = "tls.key.der"
CERT_FILE = "tls.cert.der"
AP_ADDRESS = "192.168.4.1"  # the access point's own address on ESP32 and the Pico W
# the Wi-Fi host name MicroPython gives each port (network.hostname()) unless told otherwise
PORT_HOSTNAMES = {"esp32": "mpy-esp32", "rpi_pico_w": "PicoW"}
DAYS = 3650  # a device certificate for its working life; nobody renews it on a router


class CertError(Exception):
    """A problem the user can fix; the message says how."""


def fingerprint(cert_der):
    # SHA-256 of the DER certificate, as browsers show it: AB:CD:...
    return ":".join("%02X" % b for b in hashlib.sha256(cert_der).digest())


def device_names(board_name, profile, names=(), ips=()):
    """(dns names, ip addresses) for the subjectAltName of a board's certificate."""
    dns = []
    for n in list(profile.get("server", {}).get("hosts") or []) + list(names):
        dns.append(n)
    for n in ("sessionring-" + board_name, PORT_HOSTNAMES.get(board_name)):
        if n:
            dns += [n, n + ".local"]
    addrs = [AP_ADDRESS] + list(ips)
    host = profile.get("firmware", {}).get("http_host")
    if host and host != "0.0.0.0":
        addrs.append(host)  # the host board binds loopback
    seen, out_dns, out_ip = set(), [], []
    for n in dns:
        if n.lower() not in seen:
            seen.add(n.lower())
            out_dns.append(n)
    for a in addrs:
        ipaddress.ip_address(a)  # ValueError names the bad one
        if a not in out_ip:
            out_ip.append(a)
    return out_dns, out_ip


def make(common_name, dns_names, ip_addresses, days=DAYS):
    """(key_der, cert_der): a new EC P-256 key and a self-signed certificate for it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.datetime.now(datetime.timezone.utc)
    san = [x509.DNSName(n) for n in dns_names]
    san += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))  # boards' clocks may lag
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,  # SEC1 ECPrivateKey: mbedtls reads it
        serialization.NoEncryption(),
    )
    return key_der, cert.public_bytes(serialization.Encoding.DER)


def write_file(path, data, mode=0o644):
    # The firmware's atomic writer convention: PATH.tmp complete and synced, then renamed over
    # PATH. The temporary file is created with its final mode: a key is never readable by
    # others, not even for a moment.
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # an old .tmp keeps its mode through O_CREAT
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_pair(folder):
    """(key_der, cert_der) from a folder, or None when it holds neither; CertError when it
    holds one without the other or something that is not a P-256 pair."""
    folder = Path(folder)
    k, c = folder / KEY_FILE, folder / CERT_FILE
    if not k.exists() and not c.exists():
        return None
    if not (k.exists() and c.exists()):
        raise CertError("%s holds only one of %s and %s" % (folder, KEY_FILE, CERT_FILE))
    key_der, cert_der = k.read_bytes(), c.read_bytes()
    check_pair(key_der, cert_der)
    return key_der, cert_der


def check_pair(key_der, cert_der):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_der_private_key(key_der, None)
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError as e:
        raise CertError("not a DER key and certificate: %s" % e) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise CertError("the key is not EC P-256")
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise CertError("the certificate is not for this key")


def new(folder, board_name, profile, names=(), ips=(), force=False, out=print):
    """Make and write a pair into folder; returns (key_der, cert_der)."""
    folder = Path(folder)
    if not force and ((folder / KEY_FILE).exists() or (folder / CERT_FILE).exists()):
        raise CertError(
            "%s already holds a certificate: browsers that accepted its fingerprint would warn "
            "again. Use --force to replace it" % folder
        )
    dns, addrs = device_names(board_name, profile, names, ips)
    key_der, cert_der = make("sessionring-" + board_name, dns, addrs)
    folder.mkdir(parents=True, exist_ok=True)
    write_file(folder / KEY_FILE, key_der, 0o600)
    write_file(folder / CERT_FILE, cert_der, 0o644)
    out("cert: made %s (EC P-256) for %s" % (folder / CERT_FILE, ", ".join(dns + addrs)))
    out("cert: SHA-256 fingerprint %s" % fingerprint(cert_der))
    return key_der, cert_der


def load_profile(board_name, root=ROOT):
    p = Path(root) / "boards" / board_name / "board.json"
    try:
        return json.loads(p.read_text())
    except OSError:
        raise CertError("no board profile %s" % p) from None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("new", help="make a key and certificate (DER) in a folder")
    p.add_argument("folder")
    p.add_argument("--board", default="esp32", help="a folder of boards/ (esp32, rpi_pico_w)")
    p.add_argument("--name", action="append", default=[], help="another DNS name (repeat)")
    p.add_argument("--ip", action="append", default=[], help="another IP address (repeat)")
    p.add_argument("--force", action="store_true", help="replace an existing pair")
    p = sub.add_parser("show", help="print a DER certificate's SHA-256 fingerprint")
    p.add_argument("file")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "new":
            new(a.folder, a.board, load_profile(a.board), a.name, a.ip, a.force)
        else:
            print(fingerprint(Path(a.file).read_bytes()))
    except (CertError, ValueError, OSError) as e:
        print("cert: error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
