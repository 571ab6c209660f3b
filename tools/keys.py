#!/usr/bin/env python3
"""Key files of the sealed session store (docs/sessions.md): make one, rotate it, copy the same
one to every board of a fleet, so that they accept each other's cookies.

    python tools/keys.py new fleet.keys                  one master secret (os.urandom, 32 B)
    python tools/keys.py rotate fleet.keys               a new first key; at most 3 are kept
    python tools/keys.py show fleet.keys                 how many keys, and a fingerprint
    python tools/keys.py copy fleet.keys --port /dev/ttyUSB0 --port /dev/ttyUSB1 [--reset]
    python tools/keys.py copy fleet.keys --port ... --gens sealed_gens.json
    python tools/keys.py copy fleet.keys --port A --port B --dry-run    (no device needed)

The file is the one the firmware reads (board.json "sealed": "key_file", default sealed.keys in the
data folder, /data/sealed.keys on a board): one base64url line per master secret, the first
seals. It is a secret: whoever has it can mint sessions on every board that holds it.
`copy` writes it through mpremote's transport as the firmware writes its own files (a .tmp
file beside it, then renamed over it, so a reset mid-copy leaves the old key or the new one),
then checks the board's SHA-256 of it. `--gens` copies a generation file too: the way a
"log out everywhere" or password change on one board reaches the others (fetch it from that
board first: mpremote connect PORT fs cp :data/sealed_gens.json .). A board reads both files
when the admin app starts: `--reset` soft-resets each board after the copy.
"""

import argparse
import contextlib
import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT / "tools", ROOT / "lib", ROOT / "lib" / "hostshim"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from sessionring import sealed_keys  # noqa: E402 - the format the firmware reads

KEYS_ON_BOARD = "/data/sealed.keys"
GENS_ON_BOARD = "/data/sealed_gens.json"


class KeysError(Exception):
    """A problem the user can fix; the message says how."""


def fingerprint(data):
    # Names a key file without showing it: the first 8 bytes of its SHA-256, in hex.
    return hashlib.sha256(data).hexdigest()[:16]


def read_keys(path):
    try:
        masters = sealed_keys.read_masters(str(path))
    except ValueError as e:
        raise KeysError(str(e)) from None
    if masters is None:
        raise KeysError("no key file at %s (make one: python tools/keys.py new %s)" % (path, path))
    return masters


@contextlib.contextmanager
def owner_only():
    # Every file made inside (the key file and the temporary file it is renamed from) is
    # created 0600: a secret is never readable by others, not even for a moment.
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def new(path, force=False, out=print):
    path = Path(path)
    if path.exists() and not force:
        raise KeysError(
            "%s exists: every board holding it would refuse the cookies of a new one. Use"
            " `rotate` to change keys without logging everyone out, or --force" % path
        )
    with owner_only():
        sealed_keys.write_masters(str(path), [os.urandom(32)])
    out("keys: made %s (1 key, fingerprint %s)" % (path, fingerprint(path.read_bytes())))


def rotate(path, out=print):
    before = len(read_keys(path))
    with owner_only():
        sealed_keys.add_master(str(path))
    after = len(read_keys(path))
    retired = " (the oldest retired: its cookies are refused)" if before == after else ""
    out(
        "keys: %s now holds %d keys, a new one first%s; fingerprint %s"
        % (path, after, retired, fingerprint(Path(path).read_bytes()))
    )


def show(path, out=print):
    n = len(read_keys(path))
    out(
        "keys: %s holds %d key(s), fingerprint %s"
        % (path, n, fingerprint(Path(path).read_bytes()))
    )


def _put(dev, target, data):
    # Device.write follows flashfile's protocol (TARGET.tmp, then renamed over TARGET); then
    # the board's own hash of what it holds.
    dev.mkdirs(target, set())
    dev.write(target, data)
    got = dev.hashes([target])[target]
    want = hashlib.sha256(data).hexdigest()
    if not got or got[0] != want:
        raise KeysError("%s on the board does not match after the copy: %r" % (target, got))


def copy(
    path,
    ports,
    gens=None,
    to=KEYS_ON_BOARD,
    gens_to=GENS_ON_BOARD,
    reset=False,
    dry_run=False,
    follow=20.0,
    out=print,
):
    read_keys(path)  # a damaged file is never spread to a fleet
    data = Path(path).read_bytes()
    files = [(to, data)]
    if gens is not None:
        g = Path(gens).read_bytes()
        try:
            import json

            if not isinstance(json.loads(g), dict):
                raise ValueError
        except ValueError:
            raise KeysError("%s is not a generation file (a JSON object)" % gens) from None
        files.append((gens_to, g))
    if not ports:
        raise KeysError("name the boards: --port /dev/ttyUSB0 --port socket://127.0.0.1:8266")
    fp = fingerprint(data)
    for port in ports:
        if dry_run:
            for target, d in files:
                out("keys: %s: would write %s (%d bytes)" % (port, target, len(d)))
            if reset:
                out("keys: %s: would soft-reset" % port)
            continue
        from deploy import DeployError, Device

        try:
            dev = Device(port)
        except DeployError as e:
            raise KeysError(str(e)) from None
        try:
            for target, d in files:
                _put(dev, target, d)
                out("keys: %s: wrote %s (%d bytes, checked)" % (port, target, len(d)))
            if reset:
                text = dev.soft_reset(follow, until=b"admin page at")
                line = [ln for ln in text.splitlines() if "sealed" in ln or "admin page" in ln]
                out("keys: %s: soft reset%s" % (port, "".join("\n  board> " + x for x in line)))
        except DeployError as e:
            raise KeysError("%s: %s" % (port, e)) from None
        finally:
            dev.close()
    out(
        "keys: %s %d board(s) with key file %s"
        % ("would give" if dry_run else "gave", len(ports), fp)
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("new", help="make a key file")
    p.add_argument("file")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p = sub.add_parser("rotate", help="put a new key first (keeps at most 3)")
    p.add_argument("file")
    p = sub.add_parser("show", help="count the keys and print the file's fingerprint")
    p.add_argument("file")
    p = sub.add_parser("copy", help="copy the key file to boards with mpremote")
    p.add_argument("file")
    p.add_argument("--port", action="append", default=[], help="a board (repeat for each)")
    p.add_argument("--to", default=KEYS_ON_BOARD, help="path on the board (%(default)s)")
    p.add_argument("--gens", help="a generation file to copy as well")
    p.add_argument("--gens-to", default=GENS_ON_BOARD, help="its path on the board")
    p.add_argument("--reset", action="store_true", help="soft-reset each board afterwards")
    p.add_argument("--follow", type=float, default=20.0, help="seconds to wait for the reset")
    p.add_argument("--dry-run", action="store_true", help="say what would be written")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "new":
            new(a.file, a.force)
        elif a.cmd == "rotate":
            rotate(a.file)
        elif a.cmd == "show":
            show(a.file)
        else:
            copy(a.file, a.port, a.gens, a.to, a.gens_to, a.reset, a.dry_run, a.follow)
    except KeysError as e:
        print("keys: error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
