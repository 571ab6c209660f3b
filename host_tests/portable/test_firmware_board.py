# Board profiles (boards/<board>/board.json) and how the firmware reads them.
import json

from _firmware_modules import Log, scratch, write

from admin import board

_BOARDS = ("esp32", "rpi_pico_w", "unix")


def test_every_profile_has_every_key_with_the_right_type():
    for name in _BOARDS:
        with open("boards/%s/board.json" % name) as f:
            prof = json.load(f)
        for k, d in board.DEFAULTS.items():
            assert k in prof, (name, k)
            if d is not None:
                assert type(prof[k]) is type(d), (name, k)
        assert prof["name"] == name
        assert prof["wifi_mode"] in ("sta_ap", "ap", "none")
        assert prof["idle_s"] == 900 and prof["absolute_s"] == 43200
        assert 1 <= prof["slots"] <= 64 and prof["data_bytes"] >= 96
        assert prof["pbkdf2_iterations"] >= 1000
        assert prof["buf_size"] >= 1024 and prof["max_conns"] >= 2


def test_load_reads_a_profile():
    log = Log()
    prof = board.load("boards/rpi_pico_w/board.json", log)
    assert prof["mpy_arch"] == "armv6m"
    assert prof["led_pin"] == "LED"
    assert log.lines == []


def test_missing_or_bad_profile_gives_defaults():
    d = scratch("board-bad")
    log = Log()
    assert board.load(d + "/none.json", log) == board.DEFAULTS
    write(d + "/b.json", b"{oops")
    assert board.load(d + "/b.json", log) == board.DEFAULTS
    write(d + "/c.json", b'{"slots": "many", "max_conns": 2}')
    prof = board.load(d + "/c.json", log)
    assert prof["slots"] == board.DEFAULTS["slots"]
    assert prof["max_conns"] == 2
    assert len(log.lines) == 3


def test_port_and_host_default_to_the_profile():
    prof = dict(board.DEFAULTS)
    prof["http_port"] = 8123
    prof["http_host"] = "127.0.0.1"
    # the test runner does not set SESSIONRING_PORT/HOST
    assert board.port(prof) == 8123
    assert board.host(prof) == "127.0.0.1"
