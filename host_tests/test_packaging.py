"""mip package.json files and freeze manifests: every path exists, the lists match the tree,
versions follow sessionring.__version__, and an install from package.json's file list imports
on the MicroPython unix port. The freeze manifests are evaluated with MicroPython's own
tools/manifestfile.py against the ports they are for (esp32, rp2, unix); the unix one is
the one the faithful build (tools/faithful.py unix32) freezes."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import deploy as dp
import pytest

from harness import ROOT, faithful, interpreter_command, micropython_exe

VERSION = dp.library_version()
PARTS = dp.library_parts()
PACKAGES = (
    "package.json",
    "firmware/package.json",
    "lib/sessionring/microdot.json",
) + tuple("lib/sessionring/%s.json" % p for p in PARTS)
BOARDS = sorted(p.parent.name for p in (ROOT / "boards").glob("*/board.json"))
LIB_MODULES = sorted(
    p.name
    for p in (ROOT / "lib" / "sessionring").glob("*.py")
    # the microdot extension is a package of its own, never frozen (test_microdot.py)
    if p.name not in ("manifest.py", "microdot.py")
)


def load(rel):
    return json.loads((ROOT / rel).read_text())


# ---- the freeze manifests, evaluated by MicroPython's own tools/manifestfile.py (from the
# source tree the faithful builds use: MICROPY_DIR or the vendored tarball)

# board -> (its port in the MicroPython tree, the stock image's manifest in that port)
PORTS = {
    "esp32": ("esp32", "boards/manifest.py"),  # ESP32_GENERIC has no manifest of its own
    "rpi_pico_w": ("rp2", "boards/RPI_PICO_W/manifest.py"),
    "unix": ("unix", "variants/standard/manifest.py"),
}


@pytest.fixture(scope="module")
def mpsrc():
    try:
        return faithful.source_dir()
    except faithful.BuildError as e:
        pytest.fail(str(e))


def manifestfile(src):
    tools = str(src / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    import manifestfile as mf  # MicroPython's tools/manifestfile.py

    return mf


def evaluate(src, manifest, port):
    """{frozen path: ManifestOutput} of a manifest, as a port's build evaluates it."""
    mf = manifestfile(src)
    path_vars = {
        "MPY_DIR": str(src),
        "MPY_LIB_DIR": str(src / "lib" / "micropython-lib"),
        "PORT_DIR": str(src / "ports" / port),
        "BOARD_DIR": None,
    }
    m = mf.ManifestFile(mf.MODE_FREEZE, path_vars)
    m.execute(str(manifest))
    out = {}
    for f in m.files():
        assert f.target_path not in out, "frozen twice: %s" % f.target_path
        out[f.target_path] = f
    return out


# what each board leaves out of its freeze (its manifest's options to the firmware)
LEFT_OUT = {"esp32": PARTS["sealed"]}


def ours(board=None):
    admin = [
        "admin/" + p.relative_to(ROOT / "firmware" / "admin").as_posix()
        for p in (ROOT / "firmware" / "admin").rglob("*.py")
    ]
    out = LEFT_OUT.get(board, ())
    return sorted(admin + ["sessionring/" + n for n in LIB_MODULES if n not in out])


def test_the_parts_hold_every_module_once():
    assert sorted(PARTS) == ["core", "ring", "sealed", "tls"]
    every = [f for files in PARTS.values() for f in files]
    assert sorted(every) == LIB_MODULES  # each module in exactly one part
    assert PARTS["ring"] == ["ring.py", "ring_admin.py"] and PARTS["tls"] == ["tls.py"]
    assert "sealed.py" in PARTS["sealed"] and "fernet.py" in PARTS["sealed"]


@pytest.mark.parametrize("part", sorted(PARTS))
def test_a_part_freezes_its_modules_and_the_core(mpsrc, part):
    man = ROOT / "lib" / "sessionring" / "parts" / ("sessionring-" + part) / "manifest.py"
    m = evaluate(mpsrc, man, "unix")
    want = set(PARTS[part]) | set(PARTS["core"])
    assert sorted(m) == sorted("sessionring/" + n for n in want)


def test_the_library_manifest_only_requires_its_parts():
    text = (ROOT / "lib" / "sessionring" / "manifest.py").read_text()
    code = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("#", " ", ")"))]
    assert code[0].startswith("metadata(")
    assert all(ln.startswith(("metadata(", "add_library(", "for part", "require(")) for ln in code)
    assert not any("package(" in ln for ln in code)


def test_library_manifest_freezes_every_module_but_itself(mpsrc):
    m = evaluate(mpsrc, ROOT / "lib" / "sessionring" / "manifest.py", "unix")
    assert sorted(m) == ["sessionring/" + n for n in LIB_MODULES]
    assert "sessionring/manifest.py" not in m


def test_firmware_manifest_freezes_admin_and_library(mpsrc):
    m = evaluate(mpsrc, ROOT / "firmware" / "manifest.py", "unix")
    assert sorted(m) == ours()
    # boot.py and main.py stay on the filesystem: MicroPython runs them by name
    assert "main.py" not in m and "boot.py" not in m


def test_an_include_of_the_library_beside_its_own_metadata_is_refused(mpsrc, tmp_path):
    # Why firmware/manifest.py takes the library with require(): include() shares one
    # metadata scope, and both manifests call metadata().
    mf = manifestfile(mpsrc)
    bad = tmp_path / "manifest.py"
    bad.write_text('metadata(version="0.1.0")\ninclude(%r)\n' % str(ROOT / "lib" / "sessionring"))
    with pytest.raises(mf.ManifestFileError, match="Duplicate call to metadata"):
        evaluate(mpsrc, bad, "unix")


@pytest.mark.parametrize("board", BOARDS)
def test_board_manifest(board, mpsrc):
    path = ROOT / "boards" / board / "manifest.py"
    assert path.exists(), "boards/%s has no freeze manifest" % board
    port, stock_rel = PORTS[board]
    m = evaluate(mpsrc, path, port)
    stock = evaluate(mpsrc, mpsrc / "ports" / port / stock_rel, port)
    # exactly the stock image's frozen modules plus the firmware and the library's parts
    assert sorted(m) == sorted(set(stock) | set(ours(board)))
    assert not set(stock) & set(ours())
    assert "asyncio/core.py" in m
    for target in ours(board):
        assert Path(m[target].full_path).resolve().is_relative_to(ROOT), target
    if board == "esp32":  # its profile keeps sessions in the ring: no sealed store frozen
        assert "sessionring/sealed.py" not in m and "sessionring/tls.py" in m
    if board == "rpi_pico_w":
        assert "aioble/__init__.py" in m  # as in the stock Pico W image, as its comment says


def test_versions_follow_the_library(mpsrc):
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    for rel in PACKAGES:
        assert load(rel)["version"] == VERSION, rel
    for board in BOARDS:
        m = evaluate(mpsrc, ROOT / "boards" / board / "manifest.py", PORTS[board][0])
        for target in ours(board):
            assert m[target].metadata.version == VERSION, (board, target)


def test_the_faithful_build_freezes_the_unix_board_manifest(mpsrc):
    args = faithful.make_args("unix32", mpsrc)
    assert "FROZEN_MANIFEST=%s" % (ROOT / "boards" / "unix" / "manifest.py") in args
    assert "MICROPY_FORCE_32BIT=1" in args


def test_the_faithful_build_imports_frozen_code(tmp_path):
    # The micropython32 leg's binary: the library and the admin app come from the image (a
    # frozen module's __file__ is its frozen name, no file of that name exists), not lib/.
    argv, env = interpreter_command("micropython32", tmp_path / "probe.py")
    (tmp_path / "probe.py").write_text(
        "import sys, sessionring.ring, admin.app\n"
        "print(sessionring.ring.__file__, admin.app.__file__, sys.maxsize)\n"
    )
    proc = subprocess.run(argv, env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ring, app, maxsize = proc.stdout.split()
    assert (ring, app) == ("sessionring/ring.py", "admin/app.py")
    assert not (ROOT / ring).exists() and not (ROOT / app).exists()
    assert int(maxsize) == (1 << 31) - 1  # a 32-bit build


@pytest.mark.parametrize("rel", PACKAGES)
def test_package_json_paths_exist(rel):
    base = (ROOT / rel).parent
    pkg = load(rel)
    assert pkg["urls"], rel
    targets = [t for t, _ in pkg["urls"]]
    assert len(set(targets)) == len(targets)
    for target, url in pkg["urls"]:
        assert not url.startswith(("http:", "https:", "github:")), (
            "relative URLs work from any fork"
        )
        assert (base / url).is_file(), "%s: %s does not exist" % (rel, url)
        assert not target.startswith("/")
    assert set(pkg) <= {"urls", "version", "deps", "hashes"}


def test_package_json_lists_match_the_tree():
    for rel, obj in dp.package_jsons().items():
        assert load(rel) == obj, (
            "%s is out of date with the tree: run python tools/deploy.py --write-packages" % rel
        )
    assert [t for t, _ in load("package.json")["urls"]] == [
        "sessionring/" + n for n in LIB_MODULES
    ]


def _mip_install(pkg_rel, target):
    # What `mip install` does with a package.json: each URL (relative to the file) to target.
    base = (ROOT / pkg_rel).parent
    for dest, url in load(pkg_rel)["urls"]:
        out = target / dest
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / url, out)


def _micropython(code, cwd, path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONRING_")}
    env["MICROPYPATH"] = os.pathsep.join([".frozen"] + [str(p) for p in path])
    proc = subprocess.run(
        [micropython_exe(), "-X", "heapsize=4M", "-c", code],
        cwd=str(cwd),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_library_installs_from_package_json_and_imports(tmp_path):
    lib = tmp_path / "lib"
    _mip_install("package.json", lib)
    mods = [t[len("sessionring/") : -3] for t, _ in load("package.json")["urls"]]
    code = (
        "import sessionring\n"
        "for m in %r:\n"
        "    if m != '__init__':\n"
        "        __import__('sessionring.' + m)\n"
        "from sessionring.ring import SessionRing\n"
        "r = SessionRing(slots=2, data_bytes=16)\n"
        "s = r.create('u', 1)\n"
        "assert r.get(s.token).user == 'u'\n"
        "print(sessionring.__version__, sessionring.__file__)\n" % (mods,)
    )
    out = _micropython(code, tmp_path, [lib]).split()
    assert out[0] == VERSION
    assert out[1].startswith(str(lib))  # the installed copy, not the repository's


def test_core_and_ring_install_alone_and_serve_without_the_sealed_store(tmp_path):
    # mip install github:OWNER/REPO/lib/sessionring/core.json, then ring.json: an app with the
    # ring only; the firmware on it falls back to the ring when asked for sealed sessions
    lib = tmp_path / "lib"
    _mip_install("lib/sessionring/core.json", lib)
    _mip_install("lib/sessionring/ring.json", lib)
    assert not (lib / "sessionring" / "sealed.py").exists()
    code = (
        "from sessionring.http import Server\n"
        "from sessionring.ring import SessionRing\n"
        "app = Server(store=SessionRing(slots=2, data_bytes=16), max_conns=2)\n"
        "try:\n"
        "    import sessionring.sealed\n"
        "except ImportError:\n"
        "    print('no sealed', app.max_conns)\n"
    )
    assert _micropython(code, tmp_path, [lib]).split() == ["no", "sealed", "2"]


def test_firmware_installs_from_package_json_and_imports(tmp_path):
    # mpremote mip install --target / github:OWNER/REPO/firmware, plus the library into /lib
    root = tmp_path / "board"
    _mip_install("firmware/package.json", root)
    _mip_install("package.json", root / "lib")
    assert (root / "main.py").is_file() and (root / "boot.py").is_file()
    code = "import admin.app, admin.start\nprint(admin.app.__file__)\n"
    out = _micropython(code, root, ["", root / "lib"])
    assert out.strip().startswith("admin/")
