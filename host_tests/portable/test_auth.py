# sessionring.auth: PBKDF2 vectors, password hashes, login throttle, CSRF tokens, Origin check.
import binascii

from _support import FakeClock, raises
from sessionring import auth, throttle
from sessionring.host import host_ok


def _hex(b):
    return binascii.hexlify(b).decode()


# -- HMAC and PBKDF2 vectors -------------------------------------------------------------------
def test_hmac_sha256_rfc4231():
    vectors = [
        (b"\x0b" * 20, b"Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (b"Jefe", b"what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        # a key longer than the block is hashed first
        (b"\xaa" * 131, b"Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
    ]  # fmt: skip
    for key, msg, want in vectors:
        assert _hex(auth.hmac_sha256(key, msg)) == want


def test_pbkdf2_rfc7914_vectors():
    # RFC 7914 section 11: two 32-byte blocks each
    got = auth.pbkdf2_sha256(b"passwd", b"salt", 1, 64)
    assert _hex(got) == (
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
    )
    got = auth.pbkdf2_sha256(b"Password", b"NaCl", 80000, 64)
    assert _hex(got) == (
        "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
    )


def test_pbkdf2_published_vectors():
    # the RFC 6070 inputs with HMAC-SHA256, as published for PBKDF2-HMAC-SHA256
    vectors = [
        (b"password", b"salt", 1, 32,
         "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"),
        (b"password", b"salt", 2, 32,
         "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"),
        (b"password", b"salt", 4096, 32,
         "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"),
        (b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 40,
         "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9"),
        (b"pass\x00word", b"sa\x00lt", 4096, 16, "89b69d0516f829893c696226650a8687"),
    ]  # fmt: skip
    for pw, salt, n, dklen, want in vectors:
        assert _hex(auth.pbkdf2_sha256(pw, salt, n, dklen)) == want, (pw, n)
    # a prefix of a longer output is the shorter output
    assert auth.pbkdf2_sha256(b"password", b"salt", 2, 7) == bytes.fromhex("ae4d0c95af6b46")


def test_pbkdf2_takes_bytes_like():
    want = auth.pbkdf2_sha256(b"password", b"salt", 3)
    assert auth.pbkdf2_sha256(bytearray(b"password"), memoryview(b"salt"), 3) == want
    # a key longer than one block goes through sha256 first
    assert auth.pbkdf2_sha256(b"k" * 65, b"salt", 2) != auth.pbkdf2_sha256(b"k" * 64, b"salt", 2)


def test_pbkdf2_rejects_bad_arguments():
    raises(TypeError, auth.pbkdf2_sha256, "password", b"salt", 1)
    raises(TypeError, auth.pbkdf2_sha256, b"password", "salt", 1)
    raises(TypeError, auth.pbkdf2_sha256, None, b"salt", 1)
    for n in (0, -1, 1.0, "1", True):
        raises(ValueError, auth.pbkdf2_sha256, b"p", b"s", n)
    for dklen in (0, -1, 1025, 32.0):
        raises(ValueError, auth.pbkdf2_sha256, b"p", b"s", 1, dklen)


# -- password hashes ---------------------------------------------------------------------------
SALT = b"0123456789abcdef"
# computed with CPython's hashlib.pbkdf2_hmac("sha256", "hunter2é".encode(), SALT, 10)
STORED = "pbkdf2-sha256$10$MDEyMzQ1Njc4OWFiY2RlZg==$Znqrwp3RbB3xyYiOdO3paMDiBZnGNCeNDGHt5IAJZr0="
PW = "hunter2\u00e9"


def test_hash_password_format():
    assert auth.hash_password(PW, 10, SALT) == STORED
    h = auth.hash_password("pw", 7)
    scheme, n, salt, dk = h.split("$")
    assert scheme == "pbkdf2-sha256" and n == "7"
    assert len(binascii.a2b_base64(salt)) == 16
    assert len(binascii.a2b_base64(dk)) == 32
    # a fresh random salt each time
    assert auth.hash_password("pw", 7) != h
    assert auth.verify_password("pw", h)


def test_hash_password_rejects_bad_arguments():
    raises(TypeError, auth.hash_password, None, 10)
    raises(TypeError, auth.hash_password, 1234, 10)
    for n in (0, -5, 1.5, "10", 10000001):
        raises(ValueError, auth.hash_password, "pw", n)
    for salt in (b"", b"s" * 65, "salt"):
        raises(ValueError, auth.hash_password, "pw", 1, salt)


def test_verify_password_true_and_false():
    assert auth.verify_password(PW, STORED)
    assert auth.verify_password(PW.encode(), STORED)
    assert not auth.verify_password("hunter2", STORED)
    assert not auth.verify_password("hunter2\u00c9", STORED)
    assert not auth.verify_password("", STORED)
    assert not auth.verify_password(PW + " ", STORED)
    h = auth.hash_password("", 3)
    assert auth.verify_password("", h)
    assert not auth.verify_password(" ", h)
    # a longer stored hash is checked over its full length
    b64 = binascii.b2a_base64
    dk64 = auth.pbkdf2_sha256(b"pw", SALT, 3, 64)
    long = "pbkdf2-sha256$3$%s$%s" % (b64(SALT).decode().strip(), b64(dk64).decode().strip())
    assert long.count("$") == 3 and auth.verify_password("pw", long)
    assert not auth.verify_password("px", long)


def test_verify_password_tampered():
    i = STORED.rindex("$") + 5
    for c in "AB":
        if STORED[i] != c:
            assert not auth.verify_password(PW, STORED[:i] + c + STORED[i + 1 :])
    # a different iteration count or salt gives a different hash
    assert not auth.verify_password(PW, STORED.replace("$10$", "$11$"))
    assert not auth.verify_password(PW, STORED.replace("MDEy", "MDEz"))


def test_verify_password_malformed_is_false():
    s, n, salt, dk = STORED.split("$")
    bad = [
        None, 5, b"", STORED.encode(), [STORED], "", "x", "$$$", "pbkdf2-sha256",
        "pbkdf2-sha1$10$%s$%s" % (salt, dk),
        "PBKDF2-SHA256$10$%s$%s" % (salt, dk),
        "%s$10$%s" % (s, salt),
        "%s$10$%s$%s$" % (s, salt, dk),
        "$%s$10$%s$%s" % (s, salt, dk),
        " " + STORED, STORED + " ", STORED + "\n",
    ]  # fmt: skip
    for it in ("", "0", "-10", "010", " 10", "10 ", "+10", "1_0", "1e1", "0x0a", "\u0661\u0660",
               "10.0", "999999999", "10000001"):  # fmt: skip
        bad.append("%s$%s$%s$%s" % (s, it, salt, dk))
    for salt2 in ("", "!!!!", "MDEy*", "MDEyMzQ1Njc4OWFiY2RlZg", "MDEyMzQ1Njc4OWFiY2RlZg=",
                  "MDEy\nMzQ1Njc4OWFiY2RlZg==", "\u00e9\u00e9\u00e9\u00e9"):  # fmt: skip
        bad.append("%s$%s$%s$%s" % (s, n, salt2, dk))
    for dk2 in ("", "AAAA", dk[:-2], dk + "AAAA", "A" * 100 + "==", dk.replace("Z", "\u00e9")):
        bad.append("%s$%s$%s$%s" % (s, n, salt, dk2))
    for stored in bad:
        assert auth.verify_password(PW, stored) is False, stored
    for pw in (None, 5, ["x"]):
        assert auth.verify_password(pw, STORED) is False


# -- iteration tuning --------------------------------------------------------------------------
def test_iterations_for_scales_a_probe():
    seen = []

    def measure(n):  # 50 iterations per ms
        seen.append(n)
        return n // 50

    assert auth.iterations_for(1000, measure) == 50000
    assert seen == [1000, 2000, 4000, 8000]  # doubled until the probe took >= 100 ms
    seen.clear()
    assert auth.iterations_for(250, measure, start=20000) == 12500
    assert seen == [20000]
    # rounded down to a multiple of 100
    assert auth.iterations_for(1000, lambda n: n * 3 // 1000, start=50000) == 333300


def test_iterations_for_bounds():
    assert auth.iterations_for(1000, lambda n: n * 10) == 1000  # floor
    assert auth.iterations_for(1000, lambda n: n * 10, floor=10) == 100
    assert auth.iterations_for(1000, lambda n: 0) == 10000000  # never a runaway count


def test_iterations_for_measures_for_real():
    n = auth.iterations_for(20, start=100, floor=1)
    assert type(n) is int and 100 <= n <= 10000000 and n % 100 == 0


# -- throttle ----------------------------------------------------------------------------------
def test_throttle_sequence():
    clock = FakeClock(start=5000)
    t = throttle.Throttle(clock, free=3, base_s=1, max_s=8)
    assert t.wait("admin") == 0
    for _ in range(3):  # free failures
        assert t.failed("admin") == 0
        assert t.wait("admin") == 0
    expect = [1, 2, 4, 8, 8, 8]  # doubling, capped at max_s
    for want in expect:
        assert t.failed("admin") == want
        assert t.wait("admin") == want
        clock.advance(want * 1000 - 1)
        assert t.wait("admin") == 1  # rounded up
        clock.advance(1)
        assert t.wait("admin") == 0


def test_throttle_rounds_up_and_counts_from_the_last_failure():
    clock = FakeClock()
    t = throttle.Throttle(clock, free=0, base_s=10, max_s=100)
    assert t.failed("a") == 10
    clock.advance(2500)
    assert t.wait("a") == 8
    clock.advance(7499)
    assert t.wait("a") == 1
    assert t.failed("a") == 20  # a failure during the wait (the caller should not) restarts it
    assert t.wait("a") == 20


def test_throttle_success_resets_and_accounts_are_separate():
    clock = FakeClock()
    t = throttle.Throttle(clock, free=2, base_s=1, max_s=60)
    for _ in range(5):
        t.failed("admin")
    assert t.wait("admin") == 4
    assert t.wait("guest") == 0
    assert t.failed("guest") == 0
    t.succeeded("admin")
    assert t.wait("admin") == 0
    assert t.failed("admin") == 0 and t.failed("admin") == 0  # free tries again
    assert t.failed("admin") == 1
    t.succeeded("nobody")  # unknown: nothing happens
    assert len(t) == 2


def test_throttle_across_the_ticks_wrap():
    period = 1 << 30
    clock = FakeClock(start=period - 1500)
    t = throttle.Throttle(clock, free=3, base_s=1, max_s=300)
    for _ in range(4):
        t.failed("admin")
    assert t.failed("admin") == 2
    clock.advance(1000)  # 500 ms before the wrap
    assert t.wait("admin") == 1
    clock.advance(999)  # after the wrap: ticks are small again
    assert clock.ticks_ms() < 1000
    assert t.wait("admin") == 1
    clock.advance(1)
    assert t.wait("admin") == 0
    # grow to the cap just before the next wrap and wait it out across the wrap
    clock.advance(period - 100000 - clock.ticks_ms())
    for _ in range(20):
        t.failed("admin")
    assert t.wait("admin") == 300
    clock.advance(150000)
    assert clock.ticks_ms() < 100000
    assert t.wait("admin") == 150
    clock.advance(150000)
    assert t.wait("admin") == 0


def test_throttle_forgets_quiet_accounts():
    clock = FakeClock(start=123)
    t = throttle.Throttle(clock, free=1, base_s=1, max_s=4)
    for _ in range(6):
        t.failed("admin")
    assert t.wait("admin") == 4
    clock.advance_s(4 + t.FORGET_S - 1)
    assert t.wait("admin") == 0
    assert t.failed("admin") == 4  # still remembered
    clock.advance_s(4 + t.FORGET_S)
    assert t.wait("admin") == 0
    assert t.failed("admin") == 0  # forgotten: a free try again
    assert t.failed("admin") == 1
    # the same when the next call after the quiet time is a failure, not a wait()
    for _ in range(6):
        t.failed("admin")
    clock.advance_s(4 + t.FORGET_S)
    assert t.failed("admin") == 0
    assert t.failed("admin") == 1


def test_throttle_silence_longer_than_half_the_ticks_period():
    # ticks_diff cannot measure over half a period: the entry must not look fresh then
    clock = FakeClock()
    t = throttle.Throttle(clock, free=0, base_s=300, max_s=300)
    t.failed("admin")
    clock.advance((1 << 29) + 1000)
    assert t.wait("admin") == 0
    assert len(t) == 0


def test_throttle_table_full_reuses_the_oldest():
    clock = FakeClock()
    t = throttle.Throttle(clock, free=0, base_s=10, max_s=100, slots=3)
    for name in ("a", "b", "c"):
        t.failed(name)
        t.failed(name)
        clock.advance(1000)
    t.failed("a")  # a is now the most recent
    clock.advance(1000)
    assert len(t) == 3
    assert t.failed("d") == 10  # takes b's entry: b failed longest ago
    assert len(t) == 3
    assert t.wait("b") == 0
    assert t.wait("a") > 0 and t.wait("c") > 0 and t.wait("d") > 0
    t.succeeded("c")  # a freed entry is used before evicting anyone
    t.failed("e")
    assert t.wait("a") > 0 and t.wait("d") > 0 and t.wait("e") > 0
    assert len(t) == 3


def test_throttle_rejects_bad_settings():
    # free, base_s, max_s, slots
    for args in ((-1, 1, 300, 8), (3, 0, 300, 8), (3, 10, 5, 8), (3, 1, 300, 0)):
        raises(ValueError, throttle.Throttle, FakeClock(), *args)


def test_throttle_per_client_then_account_wide():
    clock = FakeClock(start=77)
    t = throttle.Throttle(clock, free=3, base_s=1, max_s=300, account_free=10, account_max_s=60)
    for _ in range(4):
        t.failed("admin", "10.0.0.2")
    assert t.wait("admin", "10.0.0.2") == 1  # the guesser waits ...
    assert t.wait("admin", "10.0.0.3") == 0  # ... the admin's own address does not
    # guessing from many addresses: the account-wide count starts after its 10 free failures
    for n in range(4, 10):
        assert t.failed("admin", "10.0.1.%d" % n) == 0
    assert t.failed("admin", "10.0.1.99") == 1  # 11th failure of the account
    assert t.wait("admin", "10.0.0.3") == 1  # everyone without a device token waits
    assert t.wait("other", "10.0.0.3") == 0  # per account
    for want in (2, 4, 8, 16, 32, 60, 60):
        clock.advance_s(60)
        assert t.wait("admin", "10.0.2.1") == 0
        assert t.failed("admin", "10.0.2.%d" % want) == want
        assert t.wait("admin", "10.0.0.3") == want


def test_throttle_success_resets_only_that_client():
    clock = FakeClock()
    t = throttle.Throttle(clock, free=3, base_s=1, max_s=300, account_free=5, account_max_s=60)
    for _ in range(6):
        t.failed("admin", "10.0.0.66")  # the guesser: 3 free, then 1, 2, 4 s
    assert t.wait("admin", "10.0.0.66") == 4
    assert t.wait("admin", "10.0.0.1") == 1  # account-wide: the 6th failure
    clock.advance_s(2)
    t.failed("admin", "10.0.0.1")  # the admin mistypes once: the account's 7th failure
    assert t.wait("admin", "10.0.0.1") == 2
    clock.advance_s(2)
    t.succeeded("admin", "10.0.0.1")
    assert t.wait("admin", "10.0.0.1") == 0
    assert t.wait("admin", "10.0.0.66") == 0  # its own 4 s are over ...
    assert t.failed("admin", "10.0.0.66") == 8  # ... but no free guesses came back
    assert t.wait("admin", "10.0.0.1") == 4  # and the account-wide count stayed (8th)


def test_device_tokens():
    t = throttle.Throttle(FakeClock(), key=b"k" * 32)
    tok = t.device_token("admin")
    assert isinstance(tok, str) and tok.startswith("admin.") and len(tok) == 6 + 35
    assert t.device_ok("admin", tok) and t.device_ok("admin", tok.encode())
    assert tok != t.device_token("admin")  # a fresh nonce each time
    assert not t.device_ok("root", tok)
    assert not t.device_ok("admin", tok[:-1]) and not t.device_ok("admin", tok + "A")
    for i in range(len(tok)):  # every single-character change is refused
        c = "B" if tok[i] != "B" else "C"
        assert not t.device_ok("admin", tok[:i] + c + tok[i + 1 :]), i
    other = throttle.Throttle(FakeClock(), key=b"j" * 32)
    assert not other.device_ok("admin", tok)  # another key (another boot, by default)
    for bad in (None, 5, "", "admin.", "é" * 41, b"\xff" * 41, "admin." + "A" * 200, ["x"]):
        assert not t.device_ok("admin", bad), bad
    raises(ValueError, t.device_token, "a b")
    raises(ValueError, t.device_token, "")
    try:
        throttle.Throttle(FakeClock(), key=b"short")
        raise AssertionError("a short key was taken")
    except ValueError:
        pass


def test_device_token_passes_the_account_wide_wait():
    clock = FakeClock()
    t = throttle.Throttle(clock, free=3, account_free=2, account_max_s=60)
    dev = t.device_token("admin")
    for n in range(40):  # guessing from 40 addresses holds the account-wide wait up
        if t.wait("admin", "10.0.3.%d" % n) == 0:
            t.failed("admin", "10.0.3.%d" % n)
        clock.advance(500)
    assert t.wait("admin", "10.0.0.1") > 0
    assert t.wait("admin", "10.0.0.1", dev) == 0  # a browser that logged in before
    assert t.wait("admin", "10.0.0.9", dev) == 0  # from any address
    assert t.wait("admin", "10.0.0.1", True) == 0  # a logged-in session
    assert t.wait("admin", "10.0.0.1", "admin.forged") > 0  # a bad token counts as none
    # a device's own failures delay that device only, and do not count for the account
    j = t._afind("admin")
    before = t._afails[j]
    assert [t.failed("admin", "10.0.0.1", dev) for _ in range(5)] == [0, 0, 0, 1, 2]
    assert t._afails[j] == before
    assert t.wait("admin", "10.0.0.200", dev) == 2  # the device, wherever it is
    t.succeeded("admin", "10.0.0.1", dev)
    assert t.wait("admin", "10.0.0.1", dev) == 0


def _attack(t, clock, addresses, seconds, admin=None):
    # Every address guesses the moment the throttle lets it (the clock jumps to the next such
    # moment), for `seconds` of fake time; the admin, a (client, device) pair, asks for its wait
    # at each of those moments. Returns (guesses, the admin's longest wait).
    guesses = 0
    worst = 0
    left = seconds * 1000
    while left > 0:
        nxt = left
        for a in addresses:
            w = t.wait("admin", a)
            if w == 0:
                t.failed("admin", a)
                guesses += 1
                w = t.wait("admin", a)
            nxt = min(nxt, w * 1000)
        if admin is not None:
            worst = max(worst, t.wait("admin", admin[0], admin[1]))
        step = max(1000, nxt)
        clock.advance(step)
        left -= step
    return guesses, worst


def test_throttle_guess_rate_bound():
    # the documented bound: 10 free, then one per 60 s at most, from any number of addresses
    # (more than the table holds: evicting entries never frees the account-wide count)
    clock = FakeClock(start=(1 << 30) - 900000)  # across the ticks wrap
    t = throttle.Throttle(clock, slots=16)
    many = ["10.0.4.%d" % n for n in range(24)]
    dev = t.device_token("admin")
    guesses, worst = _attack(t, clock, many, 3600, admin=("10.0.0.1", dev))
    assert 60 <= guesses <= 75, guesses
    assert worst == 0  # the admin's device was never held up
    assert len(t) <= 16
    guesses, _ = _attack(t, clock, many, 600)  # at the cap: one a minute
    assert 9 <= guesses <= 10, guesses


def test_throttle_one_address_cannot_hold_the_admin_out():
    # a new browser (no device token) waits at most account_max_s at a time; one guessing
    # address holds the way shut only until its own wait outgrows that (its 10th guess), then
    # the way is open for at least max_s - account_max_s of every max_s
    clock = FakeClock()
    t = throttle.Throttle(clock)
    guesses, worst = _attack(t, clock, ["10.0.5.1"], 3600, admin=("10.0.0.1", None))
    assert guesses <= 23, guesses  # 3 free, 9 after waits of 1..256 s, then 11 of 300 s
    assert worst <= 60
    opened = 0
    for _ in range(300):
        _attack(t, clock, ["10.0.5.1"], 1)
        opened += t.wait("admin", "10.0.0.1") == 0
    assert opened >= 235, opened


def test_throttle_table_memory_is_fixed():
    clock = FakeClock()
    t = throttle.Throttle(clock, slots=8, accounts=2)
    for n in range(500):
        t.failed("acct%d" % (n % 5), "10.1.%d.%d" % (n // 250, n % 250))
        clock.advance(10)
    assert len(t) == 8
    assert len(t._acct) == len(t._who) == len(t._fails) == len(t._last) == 8
    assert len(t._aname) == 2


# -- CSRF --------------------------------------------------------------------------------------
def test_new_csrf():
    seen = set()
    for _ in range(50):
        c = auth.new_csrf()
        assert len(c) == 32  # 192 bits
        for ch in c:
            assert ch.isalpha() or ch.isdigit() or ch in "-_", c
        raw = binascii.a2b_base64(c.replace("-", "+").replace("_", "/"))
        assert len(raw) == 24
        seen.add(c)
    assert len(seen) == 50


def test_csrf_equal():
    a = auth.new_csrf()
    assert auth.csrf_equal(a, a)
    assert auth.csrf_equal(a, "" + a[:10] + a[10:])
    assert auth.csrf_equal(a, a.encode())
    assert auth.csrf_equal(a.encode(), bytearray(a.encode()))
    flip = a[:-1] + ("A" if a[-1] != "A" else "B")
    assert not auth.csrf_equal(a, flip)
    flip0 = ("A" if a[0] != "A" else "B") + a[1:]
    assert not auth.csrf_equal(a, flip0)
    assert not auth.csrf_equal(a, a[:-1])
    assert not auth.csrf_equal(a, a + "x")
    assert not auth.csrf_equal(a, auth.new_csrf())
    for other in (None, 0, 1.5, [a], (a,), {a: a}):
        assert not auth.csrf_equal(a, other)
        assert not auth.csrf_equal(other, a)
    assert not auth.csrf_equal(None, None)
    assert not auth.csrf_equal("", "")
    assert not auth.csrf_equal(b"", "")


# -- Origin / Referer ----------------------------------------------------------------------------
def test_same_origin_by_origin_header():
    so = auth.same_origin
    assert so({"origin": "http://192.168.4.1"}, "192.168.4.1")
    assert so({"origin": "http://router.local:8080"}, "router.local:8080")
    assert so({"origin": "https://router.local"}, "router.local", "https")
    assert so({"origin": "http://[fe80::1]:8080"}, "[fe80::1]:8080")
    # port mismatch, either way
    assert not so({"origin": "http://router.local"}, "router.local:8080")
    assert not so({"origin": "http://router.local:8080"}, "router.local")
    assert not so({"origin": "http://router.local:8081"}, "router.local:8080")
    # scheme mismatch, either way
    assert not so({"origin": "https://router.local"}, "router.local")
    assert not so({"origin": "http://router.local"}, "router.local", "https")
    # origins never have a path or trailing slash
    assert not so({"origin": "http://router.local/"}, "router.local")
    # prefix and suffix attacks
    assert not so({"origin": "http://router.local.evil.com"}, "router.local")
    assert not so({"origin": "http://router.localx"}, "router.local")
    assert not so({"origin": "http://evil.router.local"}, "router.local")
    assert not so({"origin": "http://evil.com"}, "router.local")
    assert not so({"origin": "http://router.local@evil.com"}, "router.local")
    # exact: no case folding, no whitespace
    assert not so({"origin": "http://ROUTER.local"}, "router.local")
    assert not so({"origin": "HTTP://router.local"}, "router.local")
    assert not so({"origin": " http://router.local"}, "router.local")
    # "null" (sandboxed frames, file:, some redirects) and empty never match
    assert not so({"origin": "null"}, "router.local")
    assert not so({"origin": "null"}, "null")
    assert not so({"origin": ""}, "router.local")


def test_same_origin_origin_wins_over_referer():
    h = {"origin": "http://evil.com", "referer": "http://router.local/admin"}
    assert not auth.same_origin(h, "router.local")
    h = {"origin": "http://router.local", "referer": "http://evil.com/"}
    assert auth.same_origin(h, "router.local")
    h = {"origin": "null", "referer": "http://router.local/"}
    assert not auth.same_origin(h, "router.local")


def test_same_origin_by_referer():
    def so(ref, host="router.local", scheme="http"):
        return auth.same_origin({"referer": ref}, host, scheme)

    assert so("http://router.local/")
    assert so("http://router.local")
    assert so("http://router.local/admin/settings?tab=wifi")
    assert so("http://router.local:8080/login", "router.local:8080")
    assert so("https://router.local/x", "router.local", "https")
    assert not so("http://router.local.evil.com/")
    assert not so("http://router.localx/")
    assert not so("http://router.local:8080/", "router.local")
    assert not so("http://router.local/", "router.local:8080")
    assert not so("http://router.local:80/")
    assert not so("https://router.local/")
    assert not so("http://router.local/", "router.local", "https")
    assert not so("http://other.host/")
    assert not so("http://evil.com/?http://router.local/")
    assert not so("http://evil.com/http://router.local/")
    assert not so("http://user@router.local/")
    assert not so("//router.local/")
    assert not so("router.local/")
    assert not so("")
    assert not so("http://router.local?x")
    assert not so("http://router.local#x")


def test_same_origin_refuses_what_the_host_rule_refuses():
    # One Host rule (host.host_ok): a Host the server's parser would refuse never makes an
    # origin, even when Origin and Referer agree with it; one it takes does.
    for host in ("router.local:99999", "router.local:", "router.local:x", "1.2.3.4.5",
                 "999.1.1.1", "2130706433", "[zz]", "[::1]:http", "a..b", "-a.lan", "a_b",
                 "router.local:80:80", "router.123", "a" * 64 + ".lan"):  # fmt: skip
        h = {"origin": "http://" + host, "referer": "http://%s/" % host}
        assert not host_ok(bytearray(host.encode()), 0, len(host)), host
        assert not auth.same_origin(h, host), host
        assert not auth.same_origin({"referer": h["referer"]}, host), host
    for host in ("router.local", "router.local:8080", "192.168.4.1", "[::1]:8080", "a-b.lan."):
        h = {"origin": "http://" + host, "referer": "http://%s/" % host}
        assert host_ok(bytearray(host.encode()), 0, len(host)), host
        assert auth.same_origin(h, host), host
        assert auth.same_origin({"referer": h["referer"]}, host), host


def test_same_origin_missing_or_bad_input():
    so = auth.same_origin
    assert not so({}, "router.local")
    assert not so({"host": "router.local"}, "router.local")
    assert not so({"origin": None, "referer": None}, "router.local")
    assert not so({"referer": b"http://router.local/"}, "router.local")
    assert not so({"origin": b"http://router.local"}, "router.local")
    assert not so(None, "router.local")
    assert not so("origin: http://router.local", "router.local")
    for host in ("", None, b"router.local", "router.local/x", "evil.com\\@router.local", "a b",
                 "router.local?", "r\u00e9seau"):  # fmt: skip
        h = {"origin": "http://%s" % (host,), "referer": "http://%s/" % (host,)}
        assert not so(h, host), host
    assert not so({"origin": "ftp://router.local"}, "router.local", "ftp")
    assert not so({"origin": "://router.local"}, "router.local", "")
