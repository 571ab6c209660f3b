"""The memory budget that must hold on a board: the esp32 profile, on the board-faithful build
(MicroPython v1.28.0 as a 32-bit binary with the project frozen in, as on an ESP32), serves the
login page, a login and the logged-in dashboard with its 100 KB heap budget less 32 KB to
spare, i.e. in a 68 KB heap. This fails when the firmware's heap needs grow past that: the
32 KB are the room a board keeps for Wi-Fi, sockets and the user's own code.

(The smallest heap it serves from is a benchmark, not a test: make footprint,
docs/benchmarks.md.)"""

import json

from fwclient import Client, Firmware

from harness import ROOT

SPARE_KB = 32


def test_esp32_profile_serves_with_32_kb_of_its_budget_to_spare(tmp_path):
    prof = json.loads((ROOT / "boards" / "esp32" / "board.json").read_text())
    heap_kb = prof["heap_kb"] - SPARE_KB
    assert heap_kb == 68
    here = {"firmware": {"http_host": "127.0.0.1"}}  # loopback on this machine
    f = Firmware("micropython32", tmp_path, here, fast=False, heap="%dK" % heap_kb, board="esp32")
    f.start()
    try:
        c = Client(f.port)
        r = c.login()
        assert r.status == 303 and "sid" in c.cookies, r
        d = c.get("/")
        assert d.status == 200, d
        for text in ("Uptime", "Free heap", "1 in use of %d" % prof["store"]["slots"]):
            assert text in d.text, text
        assert c.get("/sessions").status == 200
        assert f.proc.poll() is None
    finally:
        f.stop()
