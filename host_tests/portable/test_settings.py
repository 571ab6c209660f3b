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
    assert check("name", "a" * 33) is not None
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
