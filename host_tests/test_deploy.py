"""tools/deploy.py: what it builds, what it refuses, and what it copies to a (virtual) board.

The copy tests use a tiny firmware tree in a temporary folder (tools/deploy.py --root), so
they check the tool rather than the firmware; test_deploy_e2e.py deploys the real one.
"""

import json
import subprocess

import deploy as dp
import pytest
from _vboard import VirtualBoard, deploy, host_env, states

from harness import ROOT, host_tool

FAKE = {
    "lib/sessionring/__init__.py": '__version__ = "9.9.9"\n',
    "lib/sessionring/ring.py": "def answer():\n    return 42\n",
    "lib/sessionring/manifest.py": "# a freeze manifest: never copied to a board\n",
    "firmware/boot.py": 'print("fake boot")\n',
    "firmware/main.py": (
        "import json\n"
        "import sessionring.ring\n"
        "from admin import app\n"
        'prof = json.load(open("board.json"))\n'
        'print("fake main", sessionring.ring.answer(), app.NAME, prof["name"])\n'
        'print("sessionring: admin page at http://127.0.0.1:1/")\n'
    ),
    "firmware/admin/__init__.py": "",
    "firmware/admin/app.py": 'NAME = "admin-app"\n',
    "firmware/admin/style.css": "body{margin:0}\n",
    "firmware/package.json": "{}\n",
    "firmware/manifest.py": "# not copied either\n",
}


def fake_tree(root, arch="x64", **profile):
    for rel, text in FAKE.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    prof = {"name": "unix", "mpy_arch": arch, "heap_kb": 512, "flash_kb": 1024}
    prof.update(profile)
    (root / "boards" / "unix").mkdir(parents=True, exist_ok=True)
    (root / "boards" / "unix" / "board.json").write_text(json.dumps(prof))
    return root


EXPECTED = [
    "lib/sessionring/__init__.mpy",
    "lib/sessionring/ring.mpy",
    "admin/__init__.mpy",
    "admin/app.mpy",
    "admin/style.css",
    "boot.py",
    "main.py",
    "board.json",
]


@pytest.fixture
def tree(tmp_path):
    return fake_tree(tmp_path / "src")


@pytest.fixture
def board(tmp_path):
    with VirtualBoard(tmp_path / "board", env=host_env()) as b:
        b.wait_for(b">>> ", 20)  # an empty board: straight to the REPL
        yield b


# ---- no device needed


def test_build_layout_and_arch(tree, tmp_path):
    items, board = dp.build("unix", tree, tmp_path / "out")
    assert [i.target for i in items] == EXPECTED
    assert board["mpy_arch"] == "x64"
    for i in items:
        if i.target.endswith(".mpy"):
            assert i.data[:2] == b"M\x06"
        else:
            assert i.data == i.source.read_bytes()  # boot.py, main.py, css, board.json as is


@pytest.mark.parametrize("board_name", ["esp32", "rpi_pico_w", "unix"])
def test_real_boards_build_for_their_architecture(board_name, tmp_path):
    items, board = dp.build(board_name, ROOT, tmp_path)
    targets = [i.target for i in items]
    assert targets[-1] == "board.json" and "main.py" in targets and "boot.py" in targets
    assert all(t.startswith(("lib/sessionring/", "admin/")) for t in targets[:-3])
    assert "lib/sessionring/manifest.mpy" not in targets
    native = [dp.mpy_header(i.data) for i in items if i.target.endswith(".mpy")]
    archs = {h[2] for h in native} - {"none"}
    assert archs <= {board["mpy_arch"]}


def test_dry_run_without_a_device(tree):
    r = deploy("unix", "", tree, "--dry-run")
    assert r.returncode == 0, r.stderr
    s = states(r.stdout)
    assert list(s) == EXPECTED
    assert set(s.values()) == {"would copy"}
    assert "summary:" in r.stdout.splitlines()[-1]


def test_port_is_required():
    r = deploy("esp32", "")
    assert r.returncode == 2
    assert "PORT is required" in r.stderr
    assert "make deploy BOARD=esp32 PORT=/dev/ttyUSB0" in r.stderr


def test_unknown_board(tree):
    r = deploy("esp8266", "", tree, "--dry-run")
    assert r.returncode == 2
    assert "unknown board 'esp8266'" in r.stderr and "unix" in r.stderr


def test_a_key_the_firmware_would_not_take_is_refused_by_name(tmp_path):
    # the old flat format, a misspelt Server tunable and a login_ name in the throttle section
    root = fake_tree(
        tmp_path / "bad",
        slots=8,
        server={"max_conn": 4},
        throttle={"login_free": 3},
    )
    r = deploy("unix", "", root, "--dry-run")
    assert r.returncode == 2, r.stdout + r.stderr
    for name in ("slots: unknown key", "server.max_conn", "throttle.login_free"):
        assert name in r.stderr, r.stderr
    assert "docs/admin.md" in r.stderr
    with pytest.raises(dp.DeployError, match="server.max_conn"):
        dp.load_board("unix", root)


@pytest.mark.parametrize("port", ["/dev/ttyUSB-none", "socket://127.0.0.1:{free}"])
def test_no_device_on_the_port(tree, port):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    r = deploy("unix", port.format(free=free), tree)
    assert r.returncode == 2
    assert "no device on " + port.format(free=free) in r.stderr
    assert "Traceback" not in r.stderr


def _items(tmp_path, arch="x64"):
    tree = fake_tree(tmp_path / ("t-" + arch), arch=arch)
    return dp.build("unix", tree, tmp_path / ("o-" + arch))[0]


def _mpy(version, sub, arch):
    return version | sub << 8 | dp.ARCHS.index(arch) << 10


def test_mpy_version_checks(tmp_path):
    items = _items(tmp_path)
    dp.check_mpy(_mpy(6, 3, "x64"), items)  # this MicroPython: fine
    dp.check_mpy(_mpy(6, 1, "xtensawin"), items)  # bytecode only: v6 is enough
    for device, words in [
        (None, "too old"),
        (_mpy(5, 0, "x64"), "too old"),
        (_mpy(7, 0, "x64"), "newer than this mpy-cross"),
    ]:
        with pytest.raises(dp.DeployError) as e:
            dp.check_mpy(device, items)
        assert words in str(e.value) and "Traceback" not in str(e.value)


def test_library_build_is_bytecode_only(tmp_path):
    # The viper token code is compiled on the device at import, so no .mpy carries machine
    # code: any MicroPython that loads .mpy v6 loads the build, whatever its sub-version.
    items, _ = dp.build("esp32", ROOT, tmp_path)
    mpys = [i for i in items if i.target.endswith(".mpy")]
    assert mpys
    assert all(dp.mpy_header(i.data)[2] == "none" for i in mpys)
    dp.check_mpy(_mpy(6, 1, "xtensawin"), items)


def test_mpy_checks_for_native_code(tmp_path):
    # A module with machine code (from an app's own @viper module compiled with -march) must
    # match the device's sub-version and architecture too.
    src = tmp_path / "fast.py"
    src.write_text("import micropython\n@micropython.viper\ndef f(x: int) -> int:\n    return x\n")
    out = tmp_path / "fast.mpy"
    subprocess.run(
        [host_tool("mpy-cross"), "-march=xtensawin", "-o", str(out), str(src)], check=True
    )
    items = [dp.Item(src, out, "lib/fast.mpy")]
    assert dp.mpy_header(items[0].data)[2] == "xtensawin"
    dp.check_mpy(_mpy(6, 3, "xtensawin"), items)
    with pytest.raises(dp.DeployError, match="too old for the native code"):
        dp.check_mpy(_mpy(6, 1, "xtensawin"), items)
    with pytest.raises(dp.DeployError, match="wrong --board"):
        dp.check_mpy(_mpy(6, 3, "armv6m"), items)


def test_device_write_follows_flashfile(tmp_path, monkeypatch):
    # the same temporary name as lib/sessionring/flashfile (NAME.tmp, renamed over NAME), so
    # flashfile.read on the board finishes a copy cut between the remove and the rename
    dev = dp.Device.__new__(dp.Device)
    code = []
    dev.run = code.append
    data = bytes(range(256)) * 20  # several chunks
    dev.write("board.json", data)
    text = "\n".join(code)
    assert "'board.json.tmp'" in text and ".new" not in text
    monkeypatch.chdir(tmp_path)
    (tmp_path / "board.json").write_bytes(b"old")
    exec(compile(text, "device", "exec"), {})  # what the board runs, here on CPython
    assert (tmp_path / "board.json").read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.json"]


# ---- against the virtual board


def test_copies_only_what_changed(tree, board):
    url = board.url
    r = deploy("unix", url, tree)
    assert r.returncode == 0, r.stdout + r.stderr
    assert states(r.stdout) == {t: "copied" for t in EXPECTED}
    assert "fake main 42 admin-app unix" in r.stdout  # soft reset ran boot.py and main.py
    assert "admin page at http://127.0.0.1:1/" in r.stdout.splitlines()[-1]
    assert (board.folder / "lib" / "sessionring" / "ring.mpy").exists()
    assert not (board.folder / "lib" / "sessionring" / "manifest.mpy").exists()
    assert json.loads((board.folder / "board.json").read_text())["name"] == "unix"

    r = deploy("unix", url, tree)
    assert r.returncode == 0, r.stdout + r.stderr
    assert set(states(r.stdout).values()) == {"unchanged"}
    assert "summary: 0 copied" in r.stdout

    ring = tree / "lib" / "sessionring" / "ring.py"
    ring.write_text(ring.read_text().replace("42", "43"))
    r = deploy("unix", url, tree)
    s = states(r.stdout)
    assert [t for t, v in s.items() if v == "copied"] == ["lib/sessionring/ring.mpy"]
    assert "fake main 43" in r.stdout


def test_stale_files_are_removed(tree, board):
    stale = board.folder / "lib" / "sessionring" / "ring.py"  # would shadow ring.mpy
    stale.parent.mkdir(parents=True)
    stale.write_text("def answer():\n    return 0\n")
    other = board.folder / "lib" / "other.py"  # not ours: left alone
    other.write_text("")
    r = deploy("unix", board.url, tree)
    assert r.returncode == 0, r.stdout + r.stderr
    assert states(r.stdout)["lib/sessionring/ring.py"] == "removed"
    assert not stale.exists() and other.exists()
    assert "fake main 42" in r.stdout


def test_dry_run_with_a_device_writes_nothing(tree, board):
    r = deploy("unix", board.url, tree, "--dry-run")
    assert r.returncode == 0, r.stdout + r.stderr
    assert set(states(r.stdout).values()) == {"would copy"}
    assert sorted(p.name for p in board.folder.iterdir()) == []


def test_not_enough_flash(tree, tmp_path):
    folder = tmp_path / "full"
    folder.mkdir()
    (folder / "photos.bin").write_bytes(b"\0" * 4096 * 12)
    with VirtualBoard(folder, flash_kb=64, env=host_env()) as b:
        b.wait_for(b">>> ", 20)
        r = deploy("unix", b.url, tree)
    assert r.returncode == 2
    assert "not enough free flash" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (folder / "lib").exists() and not (folder / "main.py").exists()


# ---- tools/bench/footprint.py (make footprint): the measuring parts, quickly


def test_footprint_flash_and_heap_probe(tmp_path):
    from bench import footprint

    f = footprint.flash("esp32")
    items, _ = dp.build("esp32", ROOT, tmp_path / "b")
    assert f["total"] == sum(i.size for i in items) and f["files"] == len(items)
    assert f["parts"]["library"] > 0 and f["parts"]["admin"] > 0
    assert sum(f["parts"].values()) == f["total"]
    # the heap probe on the faithful build: free after boot at the unix budget, none in 24 KB
    free, alloc = footprint.boot("unix", 1024, tmp_path)
    assert free is not None, alloc
    assert 0 < alloc < 1024 * 1024 and free + alloc <= 1024 * 1024
    assert footprint.boot("unix", 24, tmp_path) == (None, "MemoryError")
    row = ("esp32", f["prof"], f, free, alloc, 52, {"asyncio": 1, "library": 2, "admin": 3})
    text = footprint.markdown([row])
    assert (
        "| esp32 | xtensawin |" in text and "| esp32 | %d KB | **" % f["prof"]["heap_kb"] in text
    )
    lim = footprint.limits(f["prof"])
    bufs = "%(work_slots)d work slots' buffers (%(buffer)d + %(out_size)d B each)" % lim
    assert "| **52 KB** |" in text and bufs in text
    assert "| MISS |" in text  # 52 KB is more than the 40 KB target


def test_frozen_copies_only_the_boot_files(tree, board):
    r = deploy("unix", board.url, tree, "--no-reset")
    assert r.returncode == 0, r.stdout + r.stderr
    r = deploy("unix", board.url, tree, "--frozen", "--no-reset")
    assert r.returncode == 0, r.stdout + r.stderr
    s = states(r.stdout)
    assert [t for t, v in s.items() if v != "removed"] == ["boot.py", "main.py", "board.json"]
    assert {t for t, v in s.items() if v == "removed"} >= {
        "lib/sessionring/ring.mpy",
        "admin/app.mpy",
        "admin/",
    }
    assert not (board.folder / "admin").exists()
    assert (board.folder / "main.py").exists() and (board.folder / "lib").is_dir()
    assert "not reset (--no-reset)" in r.stdout
