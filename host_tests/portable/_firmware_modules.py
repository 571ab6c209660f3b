# Helpers for portable tests of the firmware's modules: firmware/ on the import path and a
# scratch folder per test and interpreter (no tempfile module on MicroPython).
import os
import sys

if "firmware" not in sys.path:
    sys.path.append("firmware")

_BASE = "host_tests/.artifacts"


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def _rmtree(p):
    for name in os.listdir(p):
        q = p + "/" + name
        if os.stat(q)[0] & 0x4000:
            _rmtree(q)
        else:
            os.remove(q)
    os.rmdir(p)


def scratch(name):
    # An empty folder for one test on this interpreter.
    for p in ("host_tests", _BASE):
        if not _exists(p):
            os.mkdir(p)
    folder = "%s/%s-%s" % (_BASE, name, sys.implementation.name)
    if _exists(folder):
        _rmtree(folder)
    os.mkdir(folder)
    return folder


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def exists(path):
    return _exists(path)


class Log:
    # Collects console lines instead of printing them.
    def __init__(self):
        self.lines = []

    def __call__(self, line):
        self.lines.append(line)

    def text(self):
        return "\n".join(self.lines)


PROFILE = {
    "name": "test",
    "idle_s": 900,
    "absolute_s": 43200,
}


def admin_profile(**sections):
    # A profile as board.load() gives it: a small test board with sections merged in (each
    # keyword a section of board.json: server=, store=, firmware=, throttle=, ...).
    from admin.board import profile

    given = {"name": "t", "firmware": {"pbkdf2_iterations": 10}, "store": {"slots": 4}}
    for k, v in sections.items():
        given.setdefault(k, {}).update(v)
    log = Log()
    p = profile(given, log)
    assert log.lines == [], log.lines
    return p


def admin_app(name, log=None, **sections):
    # The admin app (firmware/admin/app.py) on a scratch folder with a small profile (changed
    # by sections, as admin_profile), its admin password "the admin password", and one fake
    # clock for ticks and wall time: (app, clock).
    from _wall import TicksWall

    from admin.account import Account
    from admin.app import Admin
    from admin.settings import Settings

    d = scratch(name)
    p = admin_profile(**sections)
    st = Settings(d, p)
    st.load(Log())
    acct = Account(d, 10)
    acct.setup(Log(), given="the admin password")
    clock = TicksWall()
    net = {"mode": "host", "ssid": "", "ip": ""}
    return Admin(p, st, acct, net, clock=clock, wall=clock, log=log or Log()), clock
