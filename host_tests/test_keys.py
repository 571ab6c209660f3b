"""tools/keys.py: make, rotate and show a key file of the sealed store, and copy the same one
to several boards (two virtual boards here, through mpremote's transport; --dry-run with none).
"""

import json
import os
import subprocess
import sys

import pytest
from _vboard import VirtualBoard, host_env
from _wall import Wall

from harness import ROOT
from sessionring.sealed import SealedStore

KEYS = [sys.executable, str(ROOT / "tools" / "keys.py")]
T0 = 1800000000

# A board's main.py that says which key file the admin app would load, then serves (as the
# firmware does, the "admin page at" line ends deploy's and keys.py's wait after a reset).
MAIN = """\
import hashlib, binascii
try:
    with open('data/sealed.keys', 'rb') as f:
        k = f.read()
    print('key file', binascii.hexlify(hashlib.sha256(k).digest())[:16].decode())
except OSError:
    print('no key file')
print('sessionring: admin page at http://127.0.0.1:1/')
"""


def _keys(*args, check=True):
    r = subprocess.run(KEYS + list(args), capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_new_rotate_show_and_the_store_reads_it(tmp_path):
    f = tmp_path / "fleet.keys"
    r = _keys("new", str(f))
    assert "made" in r.stdout and f.stat().st_mode & 0o077 == 0  # a secret: owner only
    lines = f.read_text().splitlines()
    assert len(lines) == 1 and len(lines[0]) == 44
    a = SealedStore(key_file=str(f), clock=Wall())
    b = SealedStore(key_file=str(f), clock=Wall())  # a second device with the same file
    tok = a.create("admin").token
    assert b.get(tok) is not None
    # a second `new` would split the fleet: refused unless forced
    r = _keys("new", str(f), check=False)
    assert r.returncode == 2 and "rotate" in r.stderr and f.read_text().splitlines() == lines
    for n in (2, 3, 3):
        r = _keys("rotate", str(f))
        assert "holds %d keys" % n in r.stdout
        assert f.stat().st_mode & 0o777 == 0o600  # rotate writes a new file: owner only too
        assert not (tmp_path / "fleet.keys.tmp").exists()
    assert ("oldest retired") in r.stdout
    assert f.read_text().splitlines()[2] != lines[0]  # the first key is gone after 3 rotations
    assert b.get(tok) is not None  # (b loaded its keys before)
    assert SealedStore(key_file=str(f), clock=Wall()).get(tok) is None
    r = _keys("show", str(f))
    assert "3 key(s)" in r.stdout and lines[0] not in r.stdout
    bad = tmp_path / "bad.keys"
    bad.write_text("not a key\n")
    for args in (("show",), ("rotate",), ("copy", "--port", "x", "--dry-run")):
        r = _keys(args[0], str(bad), *args[1:], check=False)
        assert r.returncode == 2 and "damaged" in r.stderr, args
    assert bad.read_text() == "not a key\n"


def test_a_key_file_is_never_readable_by_others_while_written(tmp_path, monkeypatch):
    # the temporary file the atomic writer renames from is made 0600 as well, whatever the
    # process's umask: record the mode of every file created while new and rotate run
    import importlib.util

    spec = importlib.util.spec_from_file_location("keys_tool", ROOT / "tools" / "keys.py")
    keys = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(keys)
    real_open, seen = open, []

    def spy(path, mode="r", *a, **k):
        f = real_open(path, mode, *a, **k)
        if "w" in mode:
            seen.append((str(path), os.stat(path).st_mode & 0o777))
        return f

    monkeypatch.setattr("builtins.open", spy)
    old = os.umask(0o022)
    try:
        f = tmp_path / "k.keys"
        keys.new(f, out=lambda *_: None)
        keys.rotate(f, out=lambda *_: None)
        assert os.umask(0o022) == 0o022  # the tool gives the process's umask back
    finally:
        os.umask(old)
    assert [p for p, _ in seen] == [str(f) + ".tmp"] * 2
    assert {m for _, m in seen} == {0o600} and f.stat().st_mode & 0o777 == 0o600


def test_copy_dry_run_needs_no_device(tmp_path):
    f = tmp_path / "fleet.keys"
    _keys("new", str(f))
    gens = tmp_path / "gens.json"
    gens.write_text('{"admin": 3}')
    r = _keys(
        "copy", str(f), "--port", "/dev/ttyUSB0", "--port", "/dev/ttyUSB1", "--gens", str(gens),
        "--dry-run",
    )  # fmt: skip
    out = r.stdout
    for port in ("/dev/ttyUSB0", "/dev/ttyUSB1"):
        assert "%s: would write /data/sealed.keys (45 bytes)" % port in out
        assert "%s: would write /data/sealed_gens.json (12 bytes)" % port in out
    assert "would give 2 board(s)" in out
    gens.write_text("[1]")
    r = _keys("copy", str(f), "--port", "x", "--gens", str(gens), "--dry-run", check=False)
    assert r.returncode == 2 and "not a generation file" in r.stderr
    r = _keys("copy", str(f), "--dry-run", check=False)
    assert r.returncode == 2 and "--port" in r.stderr


@pytest.fixture
def boards(tmp_path):
    out = []
    try:
        for name in ("a", "b"):
            folder = tmp_path / name
            (folder / "data").mkdir(parents=True)
            (folder / "main.py").write_text(MAIN)
            (folder / "data" / "sealed.keys").write_text("old\n")
            b = VirtualBoard(folder, env=host_env()).start()
            b.wait_for(b"admin page at", 20)
            out.append(b)
        yield out
    finally:
        for b in out:
            b.stop()


def test_copy_to_two_boards_and_reset(tmp_path, boards):
    f = tmp_path / "fleet.keys"
    _keys("new", str(f))
    gens = tmp_path / "gens.json"
    gens.write_text(json.dumps({"admin": 2}))
    args = ["copy", str(f), "--gens", str(gens), "--reset"]
    for b in boards:
        args += ["--port", b.url]
    r = _keys(*args)
    fp = _keys("show", str(f)).stdout.split("fingerprint ")[1].strip()
    for b in boards:
        assert (b.folder / "data" / "sealed.keys").read_bytes() == f.read_bytes()
        assert json.loads((b.folder / "data" / "sealed_gens.json").read_text()) == {"admin": 2}
        assert not (b.folder / "data" / "sealed.keys.tmp").exists()
        assert "%s: wrote /data/sealed.keys (45 bytes, checked)" % b.url in r.stdout
        b.wait_for(("key file " + fp).encode(), 20)  # the board read the new key at its reset
    assert "gave 2 board(s) with key file %s" % fp in r.stdout
    r = _keys("copy", str(f), "--port", "socket://127.0.0.1:1", check=False)
    assert r.returncode == 2 and "no device" in r.stderr
