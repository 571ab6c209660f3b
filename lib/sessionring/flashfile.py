# Small files on flash, replaced atomically: write PATH.tmp, flush, fsync where the port has it,
# rename over PATH. A reader sees the old file or the new one, never half of each, whatever
# moment the power goes. FAT volumes cannot rename over a file, so there the old one is removed
# first; read() finishes that job when power was lost between the two steps.
import os


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _size(path):
    try:
        return os.stat(path)[6]
    except OSError:
        return -1


def write(path, data):
    # Replace path's contents with data (bytes or str) atomically.
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        fsync = getattr(os, "fsync", None)  # CPython: to the disk, not only the cache
        if fsync is not None:
            fsync(f.fileno())
    try:
        os.rename(tmp, path)
    except OSError:
        os.remove(path)  # FAT: no rename over an existing file (read() covers the gap)
        os.rename(tmp, path)
    sync = getattr(os, "sync", None)  # boards: commit the file system's caches to flash
    if sync is not None and getattr(os, "fsync", None) is None:
        sync()


def read(path, max_bytes=4096, whole=None):
    # The file's bytes, or None when it is missing. ValueError when it is larger than
    # max_bytes (never loaded into RAM). A PATH.tmp left by a write that lost power between
    # its remove and its rename becomes the file, if whole(data) says it is complete (when
    # given; else it is taken as it is); one that is not is removed.
    n = _size(path)
    if n < 0:
        t = _size(path + ".tmp")
        if t < 0:
            return None
        if whole is not None:
            data = None
            if t <= max_bytes:
                with open(path + ".tmp", "rb") as f:
                    data = f.read()
            if data is None or not whole(data):
                _remove(path + ".tmp")  # cut short while being written: there is no file
                return None
        os.rename(path + ".tmp", path)
        n = _size(path)
    else:
        _remove(path + ".tmp")  # a write that never reached its rename: the old file stands
    if n > max_bytes:
        raise ValueError("%s holds %d bytes, more than %d" % (path, n, max_bytes))
    with open(path, "rb") as f:
        return f.read()
