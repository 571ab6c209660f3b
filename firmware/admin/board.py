# The board profile: board.json in the board's root (boards/<board>/board.json in the
# repository). Every key has a default here, so a profile that lacks one, is missing or does
# not parse still boots the device with small, safe values. On the unix port the environment
# may point elsewhere: SESSIONRING_BOARD (profile), SESSIONRING_DATA (data folder),
# SESSIONRING_PORT, SESSIONRING_HOST and SESSIONRING_SESSIONS (the session store).
import json
import os

DEFAULTS = {
    "name": "board",
    "description": "",
    "mpy_arch": "",
    "heap_kb": 100,
    "flash_kb": 1024,
    "http_host": "0.0.0.0",
    "http_port": 80,
    "slots": 8,
    "data_bytes": 96,
    "max_conns": 8,  # open connections (~250 B each while idle)
    "work_slots": 2,  # connections served at once (each: buf_size + 1 KB + a Request)
    "max_per_client": 3,  # connections one client address may hold (0: no limit)
    "buf_size": 1536,
    "max_body": 1024,
    "request_timeout_ms": 5000,  # to receive a request once begun (408)
    "write_timeout_ms": 5000,  # to send an answer
    "keepalive_ms": 10000,  # an idle keep-alive connection is closed
    "sessions": "ring",  # the session store: "ring" (RAM slots) or "sealed" (Fernet cookies)
    "sealed_keys": "sealed.keys",  # sealed: the key file, in the data folder unless absolute
    "idle_s": 900,
    "absolute_s": 43200,
    "per_user": 0,
    "login_free": 3,  # failed logins without a wait, then 1 s, 2 s, 4 s ... up to the max
    "login_base_s": 1,
    "login_max_s": 300,
    # ... and for the account, whatever the client (looser; a device cookie passes it)
    "login_account_free": 10,
    "login_account_base_s": 1,
    "login_account_max_s": 60,
    "pbkdf2_iterations": 2000,
    "wifi_mode": "sta_ap",
    "wifi_connect_s": 15,
    "ap_ssid": "sessionring",
    "led_pin": None,
    "hosts": [],  # names the admin page answers to besides IP addresses (DNS rebinding guard)
    # HTTPS (docs/https.md): the admin page on https_port, a redirect to it on http_port
    "https": False,
    "https_port": 443,
    "tls_key": "tls.key.der",  # in the data folder unless absolute (tools/deploy.py writes them)
    "tls_cert": "tls.cert.der",
    "tls_conns": 2,  # TLS connections open at once (~26 KB each on the boards)
    "handshake_ms": 10000,  # a TLS handshake ends within this
    "tls_keepalive_ms": 60000,  # an idle TLS connection stays open this long
}


def env(name, default=None):
    # An environment variable where the port has them (the unix port, CPython), else default.
    getenv = getattr(os, "getenv", None)
    if getenv is None:
        return default
    v = getenv(name)
    return default if v is None or v == "" else v


def load(path=None, log=print):
    # The profile as a dict with every key of DEFAULTS; values of the wrong type are replaced by
    # the default, so the rest of the firmware can trust them.
    path = path or env("SESSIONRING_BOARD", "board.json")
    prof = dict(DEFAULTS)
    try:
        with open(path) as f:
            given = json.load(f)
        if not isinstance(given, dict):
            raise ValueError
    except OSError:
        log("sessionring: no board profile at %s: using defaults" % path)
        return prof
    except ValueError:
        log("sessionring: board profile %s does not parse: using defaults" % path)
        return prof
    for k, v in given.items():
        d = DEFAULTS.get(k)
        if k not in DEFAULTS or d is None or type(v) is type(d):
            prof[k] = v
        else:
            log("sessionring: board profile key %s has the wrong type: using %r" % (k, d))
    return prof


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
