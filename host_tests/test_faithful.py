"""tools/faithful.py: the board-faithful builds are made from the right source, cached, and made
again when (and only when) what they freeze or how they are built changes. The builds
themselves are exercised by every micropython32, armv6m and armv7m test."""

import pytest

from harness import ROOT, faithful


def _fake_tree(root, version=(1, 28, 0), submodules=True):
    (root / "py").mkdir(parents=True)
    (root / "py" / "mpconfig.h").write_text(
        "#define MICROPY_VERSION_MAJOR %d\n#define MICROPY_VERSION_MINOR %d\n"
        "#define MICROPY_VERSION_MICRO %d\n" % version
    )
    for sub in ("lib/axtls", "lib/micropython-lib"):
        (root / sub).mkdir(parents=True)
        if submodules:
            (root / sub / "README").write_text("x")
    return root


def test_a_checkout_of_another_version_is_refused(tmp_path):
    with pytest.raises(faithful.BuildError, match="MicroPython 1.27.0.*v1.28.0"):
        faithful.check_source(_fake_tree(tmp_path, (1, 27, 0)))


def test_a_checkout_without_its_submodules_is_refused(tmp_path):
    with pytest.raises(faithful.BuildError, match="submodule update --init"):
        faithful.check_source(_fake_tree(tmp_path, submodules=False))


def test_micropy_dir_is_used(tmp_path, monkeypatch):
    tree = _fake_tree(tmp_path / "mp")
    monkeypatch.setenv("MICROPY_DIR", str(tree))
    assert faithful.source_dir() == tree.resolve()


def test_the_hashed_inputs_are_what_the_builds_freeze():
    files = {p.relative_to(ROOT).as_posix() for p in faithful._input_files()}
    for rel in (
        "lib/sessionring/ring.py",
        "lib/sessionring/manifest.py",
        "firmware/admin/app.py",
        "firmware/manifest.py",
        "boards/unix/manifest.py",
        "tools/qemu/manifest.py",
        "tools/qemu/armv6m/mpconfigboard.mk",
    ):
        assert rel in files, rel
    assert not any("__pycache__" in f for f in files)


def test_builds_are_cached_and_redone_when_an_input_or_a_flag_changes(tmp_path, monkeypatch):
    tree = _fake_tree(tmp_path / "mp")
    out = tmp_path / "out"
    monkeypatch.setattr(faithful, "OUT", out)
    made = []

    def fake_make(args, what):
        made.append(what)
        build = [a.split("=", 1)[1] for a in args if a.startswith("BUILD=")][0]
        name = "mpy-cross" if what == "mpy-cross" else faithful.artifact(what).name
        assert what == "mpy-cross" or (out / "mpy-cross" / "mpy-cross").exists()
        (out / what).mkdir(parents=True, exist_ok=True)
        assert build == str(out / what)
        (out / what / name).write_text("built")

    monkeypatch.setattr(faithful, "_make", fake_make)
    assert faithful.build("unix32", tree) == out / "unix32" / "micropython"
    assert made == ["mpy-cross", "unix32"]
    faithful.build("unix32", tree)
    assert made == ["mpy-cross", "unix32"]  # nothing changed: no make at all
    # a changed file of lib/, firmware/ or a manifest: made again, on top of the old objects
    (out / "unix32" / "object.o").write_text("kept")
    monkeypatch.setattr(faithful, "inputs_hash", lambda: "another")
    faithful.build("unix32", tree)
    assert made == ["mpy-cross", "unix32", "unix32"]
    assert (out / "unix32" / "object.o").exists()
    # other flags (make does not track them): from clean
    monkeypatch.setattr(faithful, "UNIX_FLAGS", faithful.UNIX_FLAGS + ("X=1",))
    faithful.build("unix32", tree)
    assert made[-1] == "unix32" and not (out / "unix32" / "object.o").exists()
    # another source tree: mpy-cross too is made again from it
    other = _fake_tree(tmp_path / "mp2")
    faithful.build("unix32", other)
    assert made[-2:] == ["mpy-cross", "unix32"]
    assert (out / "mpy-cross" / "source").read_text().strip() == str(other.resolve())
