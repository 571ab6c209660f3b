# The board profile: board.json in the board's root (boards/<board>/board.json in the
# repository). Its top level says what the board is (name, description, mpy_arch, heap_kb,
# flash_kb: the host tools read these); its sections configure one thing each:
#   "firmware"  the firmware's own keys (FIRMWARE below: their defaults live here only)
#   "server"    keyword arguments of sessionring.http.Server (any of its tunables)
#   "store"     of SessionRing, "sealed" of SealedStore, "throttle" of Throttle
# A section holds only what differs from the class's own defaults. An unknown key or a value
# of the wrong type is logged and left out (the device still boots); the host tools and the
# tests refuse them (problems()). docs/admin.md lists every key. On the unix port the
# environment may point elsewhere: SESSIONRING_BOARD (profile), SESSIONRING_DATA (data folder),
# SESSIONRING_PORT, SESSIONRING_HOST and SESSIONRING_SESSIONS (the session store).
import json
import os

# the top level: what the board is
BOARD = {"name": "board", "description": "", "mpy_arch": "", "heap_kb": 0, "flash_kb": 0}

# the "firmware" section: the firmware's own keys and their defaults
FIRMWARE = {
    "http_host": "0.0.0.0",
    "http_port": 80,
    "sessions": "ring",  # the session store: "ring" (RAM slots) or "sealed" (Fernet cookies)
    "idle_s": 900,  # factory values of the session timeouts (the settings page changes them)
    "absolute_s": 43200,
    "pbkdf2_iterations": 2000,  # 0: measure the chip at first boot (about 1 s per login)
    "wifi_mode": "sta_ap",
    "wifi_connect_s": 15,
    "ap_ssid": "sessionring",
    "led_pin": None,
    # HTTPS (docs/https.md): the admin page on https_port, a redirect to it on http_port
    "https": False,
    "https_port": 443,
    "tls_key": "tls.key.der",  # in the data folder unless absolute (tools/deploy.py writes them)
    "tls_cert": "tls.cert.der",
}

# The other sections and the keyword arguments each may give its class. "server" takes every
# public tunable of Server (its lower-case class attributes) but those the firmware sets; the
# others the names below (host_tests/test_board_files.py checks them against the classes).
# What the firmware sets itself: the session timeouts (from the settings), clocks, the TLS
# pair, the sealed store's files beside its keys, the throttle's key.
SECTIONS = {
    "server": None,
    "store": ("slots", "data_bytes", "per_user"),
    "sealed": ("key_file", "purpose", "deny_slots", "script_slots", "compress", "view_bytes"),
    "throttle": (
        "free",
        "base_s",
        "max_s",
        "slots",
        "account_free",
        "account_base_s",
        "account_max_s",
        "accounts",
    ),
}
SERVER_SET = ("tls", "secure", "handler_json_errors", "wall")  # the firmware's, not board.json's


def _server_default(k):
    # (True, default) for a Server tunable board.json may set, else (False, None).
    from sessionring.http import Server

    if k.startswith("_") or k in SERVER_SET or not hasattr(Server, k):
        return False, None
    d = getattr(Server, k)
    if callable(d) or isinstance(d, property):
        return False, None
    return True, d


def _typed(v, d):
    # v may stand where the default d is (any value where d is None; ints where a float is)
    return d is None or type(v) is type(d) or (type(d) is float and type(v) is int)


def problems(given, fix=False):
    # What is wrong with a parsed board.json, as "key: why" lines (section keys as
    # "section.key"); [] when nothing is. fix: also drop each wrong key from `given`.
    out = []
    if not isinstance(given, dict):
        return ["the profile is not a JSON object"]
    for k in list(given):
        v = given[k]
        if k in BOARD:
            if not _typed(v, BOARD[k]):
                out.append("%s: wants %s" % (k, type(BOARD[k]).__name__))
                if fix:
                    del given[k]
            continue
        if k != "firmware" and k not in SECTIONS:
            out.append("%s: unknown key" % k)
            if fix:
                del given[k]
            continue
        if not isinstance(v, dict):
            out.append("%s: wants an object of keys" % k)
            if fix:
                del given[k]
            continue
        names = SECTIONS.get(k)
        for n in list(v):
            why = None
            if k == "firmware":
                if n not in FIRMWARE:
                    why = "unknown key"
                elif not _typed(v[n], FIRMWARE[n]):
                    why = "wants %s" % type(FIRMWARE[n]).__name__
            elif k == "server":
                ok, d = _server_default(n)
                if not ok:
                    why = "not a Server tunable board.json sets"
                elif not _typed(v[n], d):
                    why = "wants %s" % type(d).__name__
            elif n not in names:
                why = "unknown key"
            if why is not None:
                out.append("%s.%s: %s" % (k, n, why))
                if fix:
                    del v[n]
    return out


def profile(given, log=print):
    # The profile the firmware reads, from a parsed board.json: one dict with the board's keys
    # and the firmware's own (defaults filled in) at the top, and each class section as the
    # dict of keyword arguments it gives (only what the board states). Wrong keys are logged
    # and left out.
    if not isinstance(given, dict):
        given = {}
    for why in problems(given, fix=True):
        log("sessionring: board profile: %s: left out" % why)
    prof = dict(BOARD)
    prof.update(FIRMWARE)
    for k in BOARD:
        if k in given:
            prof[k] = given[k]
    prof.update(given.get("firmware", ()))
    for k in SECTIONS:
        prof[k] = given.get(k) or {}
    return prof


def env(name, default=None):
    # An environment variable where the port has them (the unix port, CPython), else default.
    getenv = getattr(os, "getenv", None)
    if getenv is None:
        return default
    v = getenv(name)
    return default if v is None or v == "" else v


def load(path=None, log=print):
    # The profile (profile() above) from board.json; a profile that is missing or does not
    # parse boots the device with the defaults.
    path = path or env("SESSIONRING_BOARD", "board.json")
    given = None
    try:
        with open(path) as f:
            given = json.load(f)
        if not isinstance(given, dict):
            raise ValueError
    except OSError:
        log("sessionring: no board profile at %s: using defaults" % path)
        given = None
    except ValueError:
        log("sessionring: board profile %s does not parse: using defaults" % path)
        given = None
    return profile(given, log)


def data_dir():
    return env("SESSIONRING_DATA", "data")


def port(prof):
    try:
        return int(env("SESSIONRING_PORT", prof["http_port"]))
    except ValueError:
        return prof["http_port"]


def host(prof):
    return env("SESSIONRING_HOST", prof["http_host"])


def https(prof):
    # HTTPS on? SESSIONRING_HTTPS=1/0 wins on the unix port (make run TLS=1).
    v = env("SESSIONRING_HTTPS")
    return prof["https"] if v is None else v not in ("0", "false", "no")


def redirect_port(prof):
    # The plain HTTP port that redirects to https (SESSIONRING_REDIRECT_PORT on the unix port).
    try:
        return int(env("SESSIONRING_REDIRECT_PORT", prof["http_port"]))
    except ValueError:
        return prof["http_port"]


def sessions(prof):
    # The session store to use: "ring" or "sealed" (SESSIONRING_SESSIONS wins on the unix port).
    return env("SESSIONRING_SESSIONS", prof["sessions"])


def in_folder(folder, name):
    # The file name in the data folder, or name itself when it is an absolute path.
    return name if name.startswith("/") else folder + "/" + name
