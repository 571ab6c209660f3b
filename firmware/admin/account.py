# The one account, "admin". Its password lives on flash only as a PBKDF2-HMAC-SHA256 hash with
# a random salt and its iteration count: DATA/auth.json = {"v": 1, "admin": "pbkdf2-sha256$..."}.
# There is no default password: on first boot (or when auth.json is lost or corrupt) the
# password comes from SESSIONRING_ADMIN_PASSWORD if the host sets it, else it is generated and
# printed once on the console. Only its hash is stored.
from micropython import const

from sessionring import auth

from . import board, store
from .settings import random_word

_VERSION = const(1)
FILE = "auth.json"
USER = "admin"
PASSWORD_MIN = const(8)
PASSWORD_MAX = const(128)


def _good(stored):
    return isinstance(stored, str) and stored.startswith("pbkdf2-sha256$")


def new_password():
    # 3 groups of 4 characters from a 31-letter alphabet: about 59 bits
    w = random_word(12)
    return w[0:4] + "-" + w[4:8] + "-" + w[8:12]


class Account:
    def __init__(self, folder, iterations):
        self.path = folder + "/" + FILE
        self.iterations = iterations
        self.stored = None

    def setup(self, log=print, given=None):
        # Load the hash, or create the password on first boot: `given`, else the environment's
        # SESSIONRING_ADMIN_PASSWORD, else a new one. Returns the password when it was
        # generated here (and printed once), else None.
        st, obj = store.load(self.path)
        if st == store.OK and _good(obj.get(USER)):
            self.stored = obj[USER]
            return None
        if st == store.CORRUPT:
            log("sessionring: %s was corrupt: kept as %s.bad" % (FILE, FILE))
        if given is None:
            given = board.env("SESSIONRING_ADMIN_PASSWORD")
        pw = given or new_password()
        self.set_password(pw)
        if given:
            log("sessionring: admin password set from SESSIONRING_ADMIN_PASSWORD")
            return None
        log("sessionring: first boot: user admin, password %s (shown once: note it now)" % pw)
        return pw

    def set_password(self, pw):
        stored = auth.hash_password(pw, self.iterations)
        store.save(self.path, {"v": _VERSION, USER: stored})
        self.stored = stored

    def check(self, user, pw):
        # Always hashes (same cost for a wrong user name as for a wrong password).
        ok = auth.verify_password(pw, self.stored) if self.stored else False
        return ok and user == USER


def password_problem(pw):
    # None when pw is acceptable as a new admin password, else the reason.
    if not isinstance(pw, str) or not PASSWORD_MIN <= len(pw) <= PASSWORD_MAX:
        return "8 to 128 characters"
    return None
