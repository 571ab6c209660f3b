"""mip package.json files and freeze manifests: every path exists, the lists match the tree,
versions follow sessionring.__version__, and an install from package.json's file list imports
on the MicroPython unix port."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ROOT, micropython_exe

sys.path.insert(0, str(ROOT / "tools"))
import deploy as dp  # noqa: E402 - tools/deploy.py

VERSION = dp.library_version()
PACKAGES = ("package.json", "firmware/package.json")
BOARDS = sorted(p.parent.name for p in (ROOT / "boards").glob("*/board.json"))
LIB_MODULES = sorted(
    p.name for p in (ROOT / "lib" / "sessionring").glob("*.py") if p.name != "manifest.py"
)


def load(rel):
    return json.loads((ROOT / rel).read_text())


# ---- a stand-in for MicroPython's tools/manifestfile.py (its API, enough to check paths)


class Manifest:
    """Runs a manifest.py the way manifestfile.py does (in its own folder, with include,
    package, module, require, metadata) and records what it would freeze."""

    def __init__(self):
        self.frozen = {}  # frozen path (e.g. "sessionring/ring.py") -> source file
        self.external = []  # $(...) includes: parts of a MicroPython checkout
        self.required = []  # micropython-lib packages
        self.versions = {}  # manifest file -> metadata version
        self._stack = []

    def run(self, path):
        path = Path(path).resolve()
        if path.is_dir():
            path = path / "manifest.py"
        assert path.exists(), "manifest not found: %s" % path
        self._stack.append(path)
        cwd = os.getcwd()
        os.chdir(path.parent)
        try:
            exec(compile(path.read_text(), str(path), "exec"), self._globals())
        finally:
            os.chdir(cwd)
            self._stack.pop()
        return self

    def _globals(self):
        return {
            "metadata": self.metadata,
            "include": self.include,
            "require": self.require,
            "package": self.package,
            "module": self.module,
        }

    def metadata(self, **kw):
        self.versions[str(self._stack[-1].relative_to(ROOT))] = kw.get("version")

    def include(self, path, **kw):
        if path.startswith("$("):
            self.external.append(path)
        else:
            self.run(path)

    def require(self, name, **kw):
        self.required.append(name)

    def package(self, package_path, files=None, base_path=".", opt=None):
        base = Path(base_path).resolve()
        if files is None:
            files = [
                p.relative_to(base / package_path).as_posix()
                for p in (base / package_path).rglob("*.py")
            ]
        for f in files:
            src = base / package_path / f
            assert src.is_file(), "%s: package file missing: %s" % (self._stack[-1], src)
            self.frozen[package_path + "/" + f] = src

    def module(self, module_path, base_path=".", opt=None):
        src = Path(base_path).resolve() / module_path
        assert src.is_file(), "%s: module missing: %s" % (self._stack[-1], src)
        self.frozen[module_path] = src


def test_library_manifest_freezes_every_module_but_itself():
    m = Manifest().run(ROOT / "lib" / "sessionring" / "manifest.py")
    assert sorted(m.frozen) == ["sessionring/" + n for n in LIB_MODULES]
    assert "sessionring/manifest.py" not in m.frozen


def test_firmware_manifest_freezes_admin_and_library():
    m = Manifest().run(ROOT / "firmware" / "manifest.py")
    admin = sorted(
        "admin/" + p.relative_to(ROOT / "firmware" / "admin").as_posix()
        for p in (ROOT / "firmware" / "admin").rglob("*.py")
    )
    assert sorted(m.frozen) == sorted(admin + ["sessionring/" + n for n in LIB_MODULES])
    # boot.py and main.py stay on the filesystem: MicroPython runs them by name
    assert "main.py" not in m.frozen and "boot.py" not in m.frozen


@pytest.mark.parametrize("board", BOARDS)
def test_board_manifest(board):
    path = ROOT / "boards" / board / "manifest.py"
    assert path.exists(), "boards/%s has no freeze manifest" % board
    m = Manifest().run(path)
    assert "admin/app.py" in m.frozen and "sessionring/ring.py" in m.frozen
    # the port's own frozen modules (asyncio among them) are kept
    assert any(p.startswith(("$(PORT_DIR)", "$(BOARD_DIR)")) for p in m.external)
    for f in m.frozen.values():
        assert ROOT in f.parents


def test_versions_follow_the_library():
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)
    for rel in PACKAGES:
        assert load(rel)["version"] == VERSION, rel
    m = Manifest()
    for board in BOARDS:
        m.run(ROOT / "boards" / board / "manifest.py")
    assert m.versions == {
        "lib/sessionring/manifest.py": VERSION,
        "firmware/manifest.py": VERSION,
    }


@pytest.mark.parametrize("rel", PACKAGES)
def test_package_json_paths_exist(rel):
    base = (ROOT / rel).parent
    pkg = load(rel)
    assert pkg["urls"], rel
    targets = [t for t, _ in pkg["urls"]]
    assert len(set(targets)) == len(targets)
    for target, url in pkg["urls"]:
        assert not url.startswith(("http", "github:")), "relative URLs work from any fork"
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


def test_firmware_installs_from_package_json_and_imports(tmp_path):
    # mpremote mip install --target / github:OWNER/REPO/firmware, plus the library into /lib
    root = tmp_path / "board"
    _mip_install("firmware/package.json", root)
    _mip_install("package.json", root / "lib")
    assert (root / "main.py").is_file() and (root / "boot.py").is_file()
    code = "import admin.app, admin.start\nprint(admin.app.__file__)\n"
    out = _micropython(code, root, ["", root / "lib"])
    assert out.strip().startswith("admin/")
