# Small JSON files on flash, replaced atomically (sessionring.flashfile: write a temporary
# file, flush, sync, rename it over the old one). A reader sees the old file or the new one,
# never half of each. A file that does not parse is moved aside (NAME.bad) and reported as
# corrupt, so the caller can fall back to defaults without losing the evidence.
import json
import os

from micropython import const

from sessionring import flashfile

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


def _parses(raw):
    try:
        return isinstance(json.loads(raw), dict)
    except (ValueError, TypeError):
        return False


def _read(path):
    # The decoded object, or None when the file is missing; ValueError when it is corrupt.
    # (finishes a replace that lost power mid-way, if its temporary file is whole)
    raw = flashfile.read(path, MAX_BYTES, _parses)
    if raw is None:
        return None
    obj = json.loads(raw)
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    return obj


def load(path):
    # (status, dict or None). status: OK, MISSING or CORRUPT (the bad file is now path.bad).
    try:
        obj = _read(path)
    except (ValueError, TypeError, OSError):
        _remove(path + ".bad")
        try:
            os.rename(path, path + ".bad")
        except OSError:
            pass
        _remove(path + ".tmp")
        return CORRUPT, None
    if obj is None:
        return MISSING, None
    return OK, obj


def save(path, obj):
    # Write obj as JSON to path atomically (lib/sessionring/flashfile.py: write, flush, sync,
    # rename; a power cut leaves the old file or the new one).
    text = json.dumps(obj)
    if len(text) > MAX_BYTES:
        raise ValueError("file would exceed %d bytes" % MAX_BYTES)
    flashfile.write(path, text)
