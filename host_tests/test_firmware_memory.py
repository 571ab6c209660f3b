"""A MemoryError in a handler ends that request (503), never the server: the firmware runs on
the MicroPython unix port with a heap only a little larger than the smallest it boots in,
and eight clients load its largest pages at once. (CPython cannot be made to run out of heap,
so this one runs on MicroPython only.)"""

import threading

from _firmware_proc import PASSWORD, Client, Firmware

PROFILE = {"slots": 8, "max_conns": 8}
CLIENTS = 8
ROUNDS = 8
HEADROOM_KB = 32


def _boots(tmp_path, heap_kb):
    f = Firmware("micropython", tmp_path / ("h%d" % heap_kb), PROFILE, heap="%dK" % heap_kb)
    try:
        f.start()
    except AssertionError:
        f.stop()
        return None
    return f


def test_out_of_memory_in_handlers_is_survived(tmp_path):
    lo, hi = 64, 512  # hi boots, lo does not; bisect to 8 KB
    f = _boots(tmp_path, hi)
    assert f is not None, "the firmware does not boot in %d KB" % hi
    f.stop()
    while hi - lo > 8:
        mid = (lo + hi) // 2
        f = _boots(tmp_path, mid)
        if f is None:
            lo = mid
        else:
            f.stop()
            hi = mid
    f = _boots(tmp_path, hi + HEADROOM_KB)
    assert f is not None
    try:
        c = Client(f.port)
        assert c.login().status == 303
        sid = c.cookies["sid"]
        codes = {}
        lock = threading.Lock()

        def load():
            for _ in range(ROUNDS):
                cl = Client(f.port)
                cl.cookies["sid"] = sid
                for path in ("/settings", "/sessions", "/"):
                    try:
                        k = cl.get(path).status
                    except OSError as e:  # a connection dropped without an answer
                        k = type(e).__name__
                    with lock:
                        codes[k] = codes.get(k, 0) + 1

        threads = [threading.Thread(target=load) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)
        assert set(codes) <= {200, 503}, codes
        assert codes.get(200, 0) > 0
        assert f.proc.poll() is None  # still running
        # after the storm: the server answers normally again
        r = Client(f.port).post_json("/api/login", {"username": "admin", "password": PASSWORD})
        assert r.status == 200
        assert c.get("/").status == 200
        out = f.output
        heap = hi + HEADROOM_KB
        assert codes.get(503, 0) > 0 or "MemoryError" in out, (
            "no request ran out of memory at %d KB: the test tested nothing" % heap
        )
    finally:
        f.stop()
