# Device settings (firmware/admin/settings.py): defaults, checks, persistence, bad files.
import json

from _firmware_modules import PROFILE, Log, exists, read, scratch, write

from admin import store
from admin.settings import Settings, check, defaults


def test_defaults_on_first_boot_are_written():
    d = scratch("settings-first")
    s = Settings(d, PROFILE)
    assert s.load(Log()) == store.MISSING
    assert s["name"] == "sessionring-test"
    assert s["idle_s"] == 900 and s["absolute_s"] == 43200
    assert len(s["ap_password"]) == 12
    again = Settings(d, PROFILE)
    assert again.load(Log()) == store.OK
    assert again.values == s.values  # the generated access point password was kept


def test_generated_ap_passwords_differ():
    assert defaults(PROFILE)["ap_password"] != defaults(PROFILE)["ap_password"]


def test_corrupt_file_falls_back_to_defaults_and_keeps_a_backup():
    d = scratch("settings-corrupt")
    write(d + "/settings.json", b'{"v": 1, "name": "half')
    log = Log()
    s = Settings(d, PROFILE)
    assert s.load(log) == store.CORRUPT
    assert s["name"] == "sessionring-test"
    assert read(d + "/settings.json.bad") == b'{"v": 1, "name": "half'
    assert "corrupt" in log.text()
    assert Settings(d, PROFILE).load(Log()) == store.OK


def test_bad_values_fall_back_one_by_one():
    d = scratch("settings-values")
    bad = {"v": 1, "name": "", "wifi_ssid": "home", "idle_s": 5, "absolute_s": "x"}
    write(d + "/settings.json", json.dumps(bad).encode())
    s = Settings(d, PROFILE)
    assert s.load(Log()) == store.OK
    assert s["wifi_ssid"] == "home"
    assert s["name"] == "sessionring-test"
    assert s["idle_s"] == 900 and s["absolute_s"] == 43200


def test_checks():
    assert check("name", "Router") is None
    assert check("name", "") is not None
    assert check("name", "a" * 65) is not None
    assert check("name", "bad\nname") is not None
    assert check("wifi_ssid", "") is None
    assert check("wifi_password", "") is None
    assert check("wifi_password", "short") is not None
    assert check("wifi_password", "longenough") is None
    assert check("ap_password", "") is not None
    assert check("idle_s", 59) is not None
    assert check("idle_s", 60) is None
    assert check("idle_s", True) is not None
    assert check("absolute_s", 604800) is None
    assert check("absolute_s", 604801) is not None
    assert check("other", 1) is not None


def test_update_is_all_or_nothing():
    d = scratch("settings-update")
    s = Settings(d, PROFILE)
    s.load(Log())
    before = read(d + "/settings.json")
    errors = s.update({"name": "New", "idle_s": 1})
    assert list(errors) == ["idle_s"]
    assert s["name"] == "sessionring-test"
    assert read(d + "/settings.json") == before
    errors = s.update({"idle_s": 3600, "absolute_s": 1800})
    assert list(errors) == ["absolute_s"]  # shorter than the idle timeout
    assert s.update({"name": "New", "idle_s": 600, "wifi_ssid": "home"}) == {}
    again = Settings(d, PROFILE)
    again.load(Log())
    assert again["name"] == "New" and again["idle_s"] == 600 and again["wifi_ssid"] == "home"
    assert not exists(d + "/settings.json.tmp")


# -- what the radio and the pages take (issue 19): limits in bytes ------------------------------
def test_ssid_is_1_to_32_bytes_of_utf8():
    assert check("wifi_ssid", "s" * 32) is None
    assert check("wifi_ssid", "s" * 33) is not None
    assert check("wifi_ssid", "\u7db2" * 10) is None  # 10 CJK characters: 30 bytes
    assert check("wifi_ssid", "\u7db2" * 11) is not None  # 33 bytes
    assert check("wifi_ssid", "\u7db2" * 20) is not None  # 20 characters, 60 bytes
    assert check("wifi_ssid", "caf\u00e9 \U0001f600") is None  # 10 bytes
    assert check("wifi_ssid", "home\x00") is not None
    assert check("wifi_ssid", "home\u0085") is not None
    assert check("wifi_ssid", 7) is not None


def test_wpa2_passphrases_are_printable_ascii_or_64_hex_digits():
    for key in ("wifi_password", "ap_password"):
        assert check(key, "a" * 8) is None
        assert check(key, "a" * 7) is not None
        assert check(key, "a" * 63) is None
        assert check(key, "z" * 64) is not None  # 64 characters must be hex digits
        assert check(key, "a" * 64) is None
        assert check(key, "0123456789abcdefABCDEF" * 2 + "0123456789abcdef012") is None
        assert check(key, "g" + "0" * 63) is not None
        assert check(key, "\u00e9" * 63) is not None  # 63 characters, 126 bytes
        assert check(key, "\u7db2" * 21) is not None  # 21 characters, 63 bytes
        assert check(key, "pass word ~!") is None  # spaces and symbols are printable ASCII
        assert check(key, "password\t") is not None
        assert check(key, "password\x7f") is not None
        assert check(key, None) is not None
    assert check("wifi_password", "") is None  # an open network
    assert check("ap_password", "") is not None  # the device's own access point never is


def test_device_name_shows_and_holds_no_controls_or_direction_changes():
    assert check("name", "Living room") is None
    assert check("name", "\u5c45\u9593 router") is None
    assert check("name", "\u00e9" * 32) is None  # 64 bytes
    assert check("name", "\u00e9" * 33) is not None  # 66 bytes
    for bad in (
        "a\u0085b",  # NEL (C1)
        "a\u009bb",  # CSI (C1)
        "a\x1bb",
        "a\x7fb",
        "a\u2028b",
        "admin\u202egnp.exe",  # right-to-left override
        "a\u202ab",
        "a\u2066b\u2069",  # isolates
        "\u200b",  # only a zero-width space
        "\u200b\u200c\u200d\ufeff \u00a0\u3000",
        " ",
        "",
    ):
        assert check("name", bad) is not None, repr(bad)


def test_a_value_the_radio_refuses_on_flash_falls_back_and_is_rewritten():
    d = scratch("settings-radio")
    saved = {"v": 1, "name": "ok", "wifi_ssid": "\u7db2" * 20, "ap_password": "\u00e9" * 40}
    write(d + "/settings.json", json.dumps(saved).encode())
    log = Log()
    s = Settings(d, PROFILE)
    assert s.load(log) == store.OK
    assert s["name"] == "ok" and s["wifi_ssid"] == ""
    assert check("ap_password", s["ap_password"]) is None  # a generated one
    assert "wifi_ssid on flash is not valid" in log.text()
    again = Settings(d, PROFILE)
    again.load(Log())
    assert again["ap_password"] == s["ap_password"]  # kept on flash: the same at every boot
