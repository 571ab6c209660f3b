# Device settings on flash: DATA/settings.json, one JSON object, replaced atomically (store.py).
#   {"v": 1, "name": str, "wifi_ssid": str, "wifi_password": str, "ap_password": str,
#    "idle_s": int, "absolute_s": int}
# Missing file: defaults. Corrupt file: kept as settings.json.bad, defaults written in its
# place. A value that fails its check falls back to its default alone.
import os

from micropython import const

from . import store

_VERSION = const(1)
FILE = "settings.json"

IDLE_MIN = const(60)
IDLE_MAX = const(86400)  # one day
ABS_MIN = const(300)
ABS_MAX = const(604800)  # one week
NAME_MAX = const(32)
SSID_MAX = const(32)
WPA_MIN = const(8)  # WPA2 passphrase: 8..63 characters
WPA_MAX = const(63)

_ALNUM = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to read off a console


def random_word(n):
    # n characters from _ALNUM, from the CSPRNG (modulo bias of 256 % 31 is negligible here)
    raw = os.urandom(n)
    return "".join(_ALNUM[b % len(_ALNUM)] for b in raw)


def _printable(s, lo, hi):
    if not isinstance(s, str) or not lo <= len(s) <= hi:
        return False
    for c in s:
        if ord(c) < 0x20 or ord(c) == 0x7F:
            return False
    return True


def check(key, value):
    # None when value is acceptable for key, else a short reason for the form.
    if key == "name":
        return None if _printable(value, 1, NAME_MAX) else "1 to 32 characters, no controls"
    if key == "wifi_ssid":
        return None if _printable(value, 0, SSID_MAX) else "at most 32 characters"
    if key in ("wifi_password", "ap_password"):
        if value == "" and key == "wifi_password":
            return None
        if _printable(value, WPA_MIN, WPA_MAX):
            return None
        return "8 to 63 characters"
    if key == "idle_s":
        if type(value) is int and IDLE_MIN <= value <= IDLE_MAX:
            return None
        return "1 minute to 24 hours"
    if key == "absolute_s":
        if type(value) is int and ABS_MIN <= value <= ABS_MAX:
            return None
        return "5 minutes to 7 days"
    return "unknown setting"


def defaults(profile):
    return {
        "name": "sessionring-" + profile["name"],
        "wifi_ssid": "",
        "wifi_password": "",
        "ap_password": random_word(12),
        "idle_s": profile["idle_s"],
        "absolute_s": profile["absolute_s"],
    }


class Settings:
    def __init__(self, folder, profile):
        self.folder = folder  # the data folder (the sealed store's files live there too)
        self.path = folder + "/" + FILE
        self.profile = profile
        self.values = defaults(profile)
        self.status = store.MISSING

    def load(self, log=print):
        # Read the file; never raises for a bad file. Returns the store status.
        st, obj = store.load(self.path)
        self.status = st
        if st == store.OK:
            for k in self.values:
                v = obj.get(k)
                if v is not None and check(k, v) is None:
                    self.values[k] = v
            return st
        if st == store.CORRUPT:
            log("sessionring: %s was corrupt: kept as %s.bad, using defaults" % (FILE, FILE))
        self.save()
        return st

    def save(self):
        obj = {"v": _VERSION}
        obj.update(self.values)
        store.save(self.path, obj)

    def __getitem__(self, key):
        return self.values[key]

    def update(self, changes):
        # Check every change first, then apply all and save: {} on success, else
        # {key: reason} and nothing changed.
        errors = {}
        for k, v in changes.items():
            why = check(k, v)
            if why is not None:
                errors[k] = why
        merged = dict(self.values)
        merged.update(changes)
        if not errors and merged["absolute_s"] < merged["idle_s"]:
            errors["absolute_s"] = "at least the idle timeout"
        if errors:
            return errors
        old = dict(self.values)
        self.values.update(changes)
        try:
            self.save()
        except Exception:
            self.values = old
            raise
        return errors
