# Atomic JSON files on flash (firmware/admin/store.py): every way a write can be cut short
# leaves the old file or the new one, and a bad file never stops the device.
import json
import os

from _firmware_modules import exists, read, scratch, write

from admin import store
from sessionring import flashfile


def test_save_then_load():
    d = scratch("store-save")
    p = d + "/a.json"
    store.save(p, {"v": 1, "name": "x"})
    st, obj = store.load(p)
    assert st == store.OK
    assert obj == {"v": 1, "name": "x"}
    assert not exists(p + ".tmp")


def test_missing_file():
    d = scratch("store-missing")
    assert store.load(d + "/none.json") == (store.MISSING, None)


def test_garbage_is_moved_aside():
    d = scratch("store-garbage")
    p = d + "/a.json"
    for junk in (b"{not json", b"[1, 2]", b"\xff\xfe\x00", b"", b'"text"', b"{" * 3000):
        write(p, junk)
        st, obj = store.load(p)
        assert st == store.CORRUPT, junk
        assert obj is None
        assert not exists(p)
        assert read(p + ".bad") == junk  # the evidence is kept


def test_too_large_is_corrupt():
    d = scratch("store-large")
    p = d + "/a.json"
    write(p, b'{"x": "' + b"a" * store.MAX_BYTES + b'"}')
    assert store.load(p)[0] == store.CORRUPT


def test_save_refuses_oversized():
    d = scratch("store-oversize")
    p = d + "/a.json"
    store.save(p, {"v": 1})
    try:
        store.save(p, {"x": "a" * store.MAX_BYTES})
    except ValueError:
        pass
    else:
        raise AssertionError("oversized save accepted")
    assert store.load(p) == (store.OK, {"v": 1})


def test_cut_during_write_of_temp_keeps_old():
    # Power lost while the temporary file was being written: a partial .tmp next to the old file.
    d = scratch("store-cut-tmp")
    p = d + "/a.json"
    store.save(p, {"v": 1, "n": "old"})
    new = json.dumps({"v": 1, "n": "new"}).encode()
    for cut in range(len(new)):
        write(p + ".tmp", new[:cut])
        assert store.load(p) == (store.OK, {"v": 1, "n": "old"})
        assert not exists(p + ".tmp")


def test_cut_before_rename_keeps_old():
    d = scratch("store-cut-rename")
    p = d + "/a.json"
    store.save(p, {"v": 1, "n": "old"})
    write(p + ".tmp", json.dumps({"v": 1, "n": "new"}).encode())
    assert store.load(p) == (store.OK, {"v": 1, "n": "old"})


def test_cut_between_remove_and_rename_gives_new():
    # FAT cannot rename over a file: save() removes the old one first. Power lost between the
    # two steps leaves only the complete new file under the temporary name.
    d = scratch("store-cut-fat")
    p = d + "/a.json"
    write(p + ".tmp", json.dumps({"v": 1, "n": "new"}).encode())
    assert store.load(p) == (store.OK, {"v": 1, "n": "new"})
    assert not exists(p + ".tmp")
    assert store.load(p) == (store.OK, {"v": 1, "n": "new"})


def test_partial_temp_without_file_is_missing():
    d = scratch("store-partial")
    p = d + "/a.json"
    write(p + ".tmp", b'{"v": 1, "n": "ne')
    assert store.load(p) == (store.MISSING, None)
    assert not exists(p + ".tmp")


class _FatOs:
    # os as a FAT volume shows it: rename onto an existing file fails.
    def __init__(self):
        self.renames = 0

    def __getattr__(self, name):
        return getattr(os, name)

    def rename(self, a, b):
        self.renames += 1
        if exists(b):
            raise OSError(17)
        os.rename(a, b)


def test_save_on_a_volume_without_rename_over():
    d = scratch("store-fat")
    p = d + "/a.json"
    fat = _FatOs()
    store.os = flashfile.os = fat  # (store writes through sessionring.flashfile)
    try:
        store.save(p, {"v": 1, "n": "one"})
        store.save(p, {"v": 1, "n": "two"})
    finally:
        store.os = flashfile.os = os
    assert fat.renames == 3  # the first, then a failed one and its retry
    assert store.load(p) == (store.OK, {"v": 1, "n": "two"})


def test_makedirs():
    d = scratch("store-dirs")
    store.makedirs(d + "/x/y")
    store.makedirs(d + "/x/y/")
    assert exists(d + "/x/y")
    absolute = os.getcwd() + "/" + d + "/a/b"
    store.makedirs(absolute)
    assert exists(d + "/a/b")
