# Device settings on flash: DATA/settings.json, one JSON object, replaced atomically (store.py).
#   {"v": 1, "name": str, "wifi_ssid": str, "wifi_password": str, "ap_password": str,
#    "idle_s": int, "absolute_s": int}
# Missing file: defaults. Corrupt file: kept as settings.json.bad, defaults written in its
# place. A value that fails its check falls back to its default alone (and the file is
# rewritten). The checks are the radio's and the pages' (in bytes where the radio counts bytes):
# docs/admin.md lists them.
import os

from micropython import const

from . import store

_VERSION = const(1)
FILE = "settings.json"

IDLE_MIN = const(60)
IDLE_MAX = const(86400)  # one day
ABS_MIN = const(300)
ABS_MAX = const(604800)  # one week
NAME_MAX = const(64)  # bytes of UTF-8
SSID_MAX = const(32)  # bytes of UTF-8: 802.11 allows 32 octets
WPA_MIN = const(8)  # WPA2 passphrase: 8..63 printable ASCII characters (IEEE 802.11i)
WPA_MAX = const(63)
WPA_HEX = const(64)  # ... or the 256-bit key itself as 64 hex digits

_ALNUM = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: easy to read off a console
_HEX = "0123456789abcdefABCDEF"

# Why a value is refused, as the settings page says it
NAME_WHY = "1 to 64 bytes that show: no control or text-direction characters"
SSID_WHY = "1 to 32 bytes (a letter outside ASCII takes 2 to 4), no control characters"
WPA_WHY = "8 to 63 ASCII letters, digits, spaces or symbols, or 64 hex digits"


def random_word(n):
    # n characters from _ALNUM, from the CSPRNG (modulo bias of 256 % 31 is negligible here)
    raw = os.urandom(n)
    return "".join(_ALNUM[b % len(_ALNUM)] for b in raw)


def _bytes(s):
    return len(s.encode())


def _control(o):
    # C0, DEL, C1 (U+0085 NEL, U+009B CSI...), and the line and paragraph separators
    return o < 0x20 or 0x7F <= o <= 0x9F or o == 0x2028 or o == 0x2029


def _bidi(o):
    # embeddings and overrides (U+202A-202E), isolates (U+2066-2069): they reorder what
    # follows them on the page, so a name could show as something it is not
    return 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069


def _blank(o):
    # spaces and characters that show nothing: zero-width, joiners, marks, soft hyphen, BOM
    return (
        o == 0x20
        or o == 0xA0
        or o == 0xAD
        or o == 0x34F
        or o == 0x61C
        or o == 0x180E
        or 0x2000 <= o <= 0x200F
        or o == 0x202F
        or 0x205F <= o <= 0x2064
        or o == 0x3000
        or o == 0xFEFF
        or 0xFE00 <= o <= 0xFE0F
    )


def name_ok(v):
    # The device name: shown on every page and in the browser's title bar.
    if not isinstance(v, str) or not 0 < _bytes(v) <= NAME_MAX:
        return False
    shows = False
    for c in v:
        o = ord(c)
        if _control(o) or _bidi(o):
            return False
        if not _blank(o):
            shows = True
    return shows


def ssid_ok(v):
    # A network name the radio takes: 1 to 32 bytes, no control characters.
    if not isinstance(v, str) or not 0 < _bytes(v) <= SSID_MAX:
        return False
    for c in v:
        if _control(ord(c)):
            return False
    return True


def wpa_ok(v):
    # A WPA2 passphrase (8-63 printable ASCII characters) or key (64 hex digits).
    if not isinstance(v, str):
        return False
    n = len(v)
    if n == WPA_HEX:
        for c in v:
            if c not in _HEX:
                return False
        return True
    if not WPA_MIN <= n <= WPA_MAX:
        return False
    for c in v:
        if not 0x20 <= ord(c) <= 0x7E:
            return False
    return True


def check(key, value):
    # None when value is acceptable for key, else a short reason for the form.
    if key == "name":
        return None if name_ok(value) else NAME_WHY
    if key == "wifi_ssid":
        return None if value == "" or ssid_ok(value) else SSID_WHY  # "": no station
    if key in ("wifi_password", "ap_password"):
        if value == "" and key == "wifi_password":
            return None  # an open network
        return None if wpa_ok(value) else WPA_WHY
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
            bad = False
            for k in self.values:
                v = obj.get(k)
                if v is None:
                    continue
                if check(k, v) is None:
                    self.values[k] = v
                else:  # (e.g. saved by an older firmware with looser checks)
                    log("sessionring: setting %s on flash is not valid: using its default" % k)
                    bad = True
            if bad:  # the defaults replace it on flash, so a generated password stays put
                try:
                    self.save()
                except OSError as e:
                    log("sessionring: could not rewrite %s: %r" % (FILE, e))
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
