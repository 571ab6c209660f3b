# Keys and clocks of the sealed session store (sealed.py): the key file of master secrets on
# flash (made with os.urandom at first use, written atomically, shared by a fleet), the key
# ring derived from it per purpose, and Unix time on ports whose epoch is 2000.
import os

from micropython import const

from . import flashfile
from .fernet import b64u_decode, b64u_encode, derive_key

_KEYS_MAX = const(3)
_MASTER = const(32)
MIN_UNIX = const(1704067200)  # 2024-01-01: a wall clock below this was never set


class ClockNotSet(RuntimeError):
    # The wall clock reads before 2024 (no NTP, no RTC): a cookie sealed now would be misread
    # by every correctly clocked peer. Use the ring, or set the clock (ntptime) first.
    pass


# -- time -------------------------------------------------------------------------------------
def unix_offset(epoch_year):
    # Seconds from 1970-01-01 to epoch_year-01-01 (ESP32: 2000; unix and RP2 ports: 1970).
    days = 0
    for y in range(1970, epoch_year):
        days += 366 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 365
    return days * 86400


# -- keys -------------------------------------------------------------------------------------
def read_masters(path):
    # The master secrets in a key file (one base64url line each, the first seals), or None
    # when the file is missing. ValueError for a damaged file: never replaced silently, since
    # a fleet shares it.
    raw = flashfile.read(path, 1024)
    if raw is None:
        return None
    out = []
    for line in raw.decode().split("\n"):
        line = line.strip()
        if line:
            m = b64u_decode(line)
            if m is None or len(m) != _MASTER:
                raise ValueError("key file %s is damaged" % path)
            out.append(m)
    if not 1 <= len(out) <= _KEYS_MAX:
        raise ValueError("key file %s holds %d keys (1..%d)" % (path, len(out), _KEYS_MAX))
    return out


def write_masters(path, masters):
    flashfile.write(path, "".join(b64u_encode(m) + "\n" for m in masters[:_KEYS_MAX]))


def load_keys(path, purpose="session"):
    # The key ring of one purpose from the key file at path, made (os.urandom, written
    # atomically) at first use.
    masters = read_masters(path)
    if masters is None:
        masters = [os.urandom(_MASTER)]
        write_masters(path, masters)
    return [derive_key(m, purpose) for m in masters]


def add_master(path):
    # Key rotation: a new first master seals from now on; the older ones still open, and the
    # oldest of three is retired (its cookies are refused from then on).
    masters = read_masters(path) or []
    write_masters(path, [os.urandom(_MASTER)] + masters[: _KEYS_MAX - 1])
