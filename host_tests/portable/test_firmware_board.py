# Board profiles (boards/<board>/board.json) and how the firmware reads them: sections passed
# to their classes, only what differs from the defaults, unknown keys logged and left out.
import json

from _firmware_modules import Log, scratch, write

from admin import board
from sessionring.http import Server

_BOARDS = ("esp32", "rpi_pico_w", "unix")


def _given(name):
    with open("boards/%s/board.json" % name) as f:
        return json.load(f)


def test_every_board_file_is_accepted_and_states_only_what_differs():
    for name in _BOARDS:
        given = _given(name)
        assert board.problems(given) == [], name
        assert given["name"] == name and given["mpy_arch"] and given["heap_kb"] > 0
        for k, v in given.get("firmware", {}).items():
            assert v != board.FIRMWARE[k], (name, k)  # a default restated
        for k, v in given.get("server", {}).items():
            assert v != getattr(Server, k), (name, k)
        prof = board.load("boards/%s/board.json" % name, Log())
        assert prof["wifi_mode"] in ("sta_ap", "ap", "none")
        assert prof["pbkdf2_iterations"] >= 1000
        assert 1 <= prof["store"].get("slots", 16) <= 64


def test_load_reads_a_profile():
    log = Log()
    prof = board.load("boards/rpi_pico_w/board.json", log)
    assert prof["mpy_arch"] == "armv6m" and prof["name"] == "rpi_pico_w"
    assert prof["led_pin"] == "LED"
    assert prof["http_port"] == board.FIRMWARE["http_port"]  # the default, not restated
    assert prof["server"]["buf_size"] == 1536 and prof["store"]["slots"] == 8
    assert prof["throttle"] == {} and prof["sealed"] == {}
    assert log.lines == []


def _defaults():
    prof = dict(board.BOARD)
    prof.update(board.FIRMWARE)
    for k in board.SECTIONS:
        prof[k] = {}
    return prof


def test_missing_or_bad_profile_gives_defaults():
    d = scratch("board-bad")
    log = Log()
    assert board.load(d + "/none.json", log) == _defaults()
    write(d + "/b.json", b"{oops")
    assert board.load(d + "/b.json", log) == _defaults()
    write(d + "/a.json", b"[1, 2]")
    assert board.load(d + "/a.json", log) == _defaults()
    assert len(log.lines) == 3


def test_unknown_keys_and_wrong_types_are_named_logged_and_left_out():
    given = {
        "name": "x",
        "slots": 4,  # the old flat format: a key of no section
        "firmware": {"wifi_mode": "ap", "http_port": "80", "login_free": 3},
        "server": {"max_conns": 2, "buf_sise": 1024, "keepalive_ms": "long", "route": 1},
        "store": {"slots": 4, "idle_s": 60},
        "throttle": {"free": 5, "login_free": 5},
        "sealed": {"deny_slots": 8, "keys": ["k"]},
        "tls": True,
    }
    want = [
        "slots: unknown key",
        "firmware.http_port: wants int",
        "firmware.login_free: unknown key",
        "server.buf_sise: not a Server tunable board.json sets",
        "server.keepalive_ms: wants int",
        "server.route: not a Server tunable board.json sets",
        "store.idle_s: unknown key",
        "throttle.login_free: unknown key",
        "sealed.keys: unknown key",
        "tls: unknown key",
    ]
    assert sorted(board.problems(given)) == sorted(want)
    d = scratch("board-unknown")
    write(d + "/u.json", json.dumps(given).encode())
    log = Log()
    prof = board.load(d + "/u.json", log)  # the device still boots: each one is logged
    assert len(log.lines) == len(want)
    for w in want:
        assert any(w in line for line in log.lines), w
    assert prof["name"] == "x" and prof["wifi_mode"] == "ap" and prof["http_port"] == 80
    assert prof["server"] == {"max_conns": 2}
    assert prof["store"] == {"slots": 4} and prof["throttle"] == {"free": 5}
    assert prof["sealed"] == {"deny_slots": 8}
    assert "slots" not in prof and "tls" not in prof


def test_what_the_firmware_sets_is_refused_in_the_server_section():
    for k in board.SERVER_SET:
        assert board.problems({"server": {k: None}}) == [
            "server.%s: not a Server tunable board.json sets" % k
        ]
    assert board.problems({"server": "fast"}) == ["server: wants an object of keys"]
    assert board.problems({"heap_kb": "100"}) == ["heap_kb: wants int"]


def test_every_server_tunable_is_reachable():
    for k in dir(Server):
        v = getattr(Server, k)
        if k.startswith("_") or callable(v) or isinstance(v, property) or k in board.SERVER_SET:
            continue
        d = getattr(Server, k)
        sample = 1 if d is None else d
        assert board.problems({"server": {k: sample}}) == [], k


def test_port_and_host_default_to_the_profile():
    prof = _defaults()
    prof["http_port"] = 8123
    prof["http_host"] = "127.0.0.1"
    # the test runner does not set SESSIONRING_PORT/HOST
    assert board.port(prof) == 8123
    assert board.host(prof) == "127.0.0.1"
