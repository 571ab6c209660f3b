# The admin account (firmware/admin/account.py): no default password, only a hash on flash.
from _firmware_modules import Log, exists, read, scratch, write

from admin import store
from admin.account import Account, new_password, password_problem

_IT = 10  # iterations: the cost is not under test here


def test_first_boot_generates_prints_and_stores_only_the_hash():
    d = scratch("account-first")
    log = Log()
    a = Account(d, _IT)
    pw = a.setup(log)
    assert pw and len(pw) == 14
    assert pw in log.text()  # printed once, on the console
    raw = read(d + "/auth.json")
    assert pw.encode() not in raw
    assert b"pbkdf2-sha256$10$" in raw
    assert a.check("admin", pw)
    # second boot: nothing printed, the same password works
    log2 = Log()
    b = Account(d, _IT)
    assert b.setup(log2) is None
    assert log2.lines == []
    assert b.check("admin", pw)
    assert not b.check("admin", pw + "x")
    assert not b.check("root", pw)
    assert not b.check("admin", "")


def test_password_from_the_host_is_not_printed():
    d = scratch("account-given")
    log = Log()
    a = Account(d, _IT)
    assert a.setup(log, given="correct horse") is None
    assert "correct horse" not in log.text()
    assert "SESSIONRING_ADMIN_PASSWORD" in log.text()
    assert a.check("admin", "correct horse")


def test_salt_differs_per_device():
    d1 = scratch("account-salt1")
    d2 = scratch("account-salt2")
    Account(d1, _IT).setup(Log(), given="same password")
    Account(d2, _IT).setup(Log(), given="same password")
    assert read(d1 + "/auth.json") != read(d2 + "/auth.json")


def test_corrupt_file_means_a_new_password_and_a_backup():
    d = scratch("account-corrupt")
    write(d + "/auth.json", b"\x00\x01garbage")
    log = Log()
    a = Account(d, _IT)
    pw = a.setup(log)
    assert pw and a.check("admin", pw)
    assert read(d + "/auth.json.bad") == b"\x00\x01garbage"
    assert "corrupt" in log.text()


def test_file_without_a_hash_is_not_a_login():
    d = scratch("account-nohash")
    store.save(d + "/auth.json", {"v": 1, "admin": ""})
    a = Account(d, _IT)
    pw = a.setup(Log())
    assert pw is not None  # a new password, not an empty one
    assert not a.check("admin", "")


def test_set_password_replaces_the_old():
    d = scratch("account-change")
    a = Account(d, _IT)
    a.setup(Log(), given="first password")
    a.set_password("second password")
    assert not a.check("admin", "first password")
    b = Account(d, _IT)
    b.setup(Log())
    assert b.check("admin", "second password")
    assert not exists(d + "/auth.json.tmp")


def test_password_rules_and_generated_shape():
    assert password_problem("1234567") is not None
    assert password_problem("12345678") is None
    assert password_problem("x" * 129) is not None
    assert password_problem(None) is not None
    p = new_password()
    assert p[4] == "-" and p[9] == "-" and new_password() != p
