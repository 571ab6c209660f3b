# Small JSON files on flash, replaced atomically: write a temporary file, flush, rename it over
# the old one. A reader sees the old file or the new one, never half of each. A file that does
# not parse is moved aside (NAME.bad) and reported as corrupt, so the caller can fall back to
# defaults without losing the evidence.
import json
import os

from micropython import const

MAX_BYTES = const(4096)  # larger than any file we write: refuse to load more into RAM
OK = "ok"
MISSING = "missing"
CORRUPT = "corrupt"


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def makedirs(path):
    # mkdir -p for a relative or absolute folder
    p = "/" if path.startswith("/") else ""
    for part in path.split("/"):
        if not part:
            continue
        p = p + part if not p or p == "/" else p + "/" + part
        if not exists(p):
            os.mkdir(p)


def _read(path):
    # The decoded object, or None when the file is missing; ValueError when it is corrupt.
    try:
        size = os.stat(path)[6]
    except OSError:
        return None
    if size > MAX_BYTES:
        raise ValueError("too large")
    with open(path, "rb") as f:
        raw = f.read()
    obj = json.loads(raw)
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    return obj


def load(path):
    # (status, dict or None). status: OK, MISSING or CORRUPT (the bad file is now path.bad).
    tmp = path + ".tmp"
    try:
        obj = _read(path)
    except (ValueError, TypeError, OSError):
        obj = None
        _remove(path + ".bad")
        try:
            os.rename(path, path + ".bad")
        except OSError:
            pass
        _remove(tmp)
        return CORRUPT, None
    if obj is None:
        # A FAT volume cannot rename over a file, so save() removes the old one first; power
        # lost between the two steps leaves only a complete temporary file: finish the job.
        try:
            obj = _read(tmp)
        except (ValueError, TypeError, OSError):
            obj = None
        if obj is None:
            _remove(tmp)
            return MISSING, None
        os.rename(tmp, path)
        return OK, obj
    _remove(tmp)  # a write that never reached its rename
    return OK, obj


def save(path, obj):
    # Write obj as JSON to path atomically (write, flush, sync, rename).
    text = json.dumps(obj)
    if len(text) > MAX_BYTES:
        raise ValueError("file would exceed %d bytes" % MAX_BYTES)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        fsync = getattr(os, "fsync", None)  # CPython: push it to the disk, not only the cache
        if fsync is not None:
            fsync(f.fileno())
    try:
        os.rename(tmp, path)
    except OSError:
        # FAT: no rename over an existing file. The window is covered by load() above.
        os.remove(path)
        os.rename(tmp, path)
    sync = getattr(os, "sync", None)  # boards: commit the file system's caches to flash
    if sync is not None and getattr(os, "fsync", None) is None:
        sync()
