# SealedStore (sessionring/sealed.py): Fernet by the spec's own vectors, round trips, every
# kind of damaged or stale cookie refused without an exception, keys, revocation, size,
# compression, clocks. Runs on CPython and on the MicroPython unix port.
import json
import os
import sys

from _firmware_modules import scratch
from _wall import Wall as FakeWall

from _support import raises
from sessionring import fernet, sealed
from sessionring.ring import SessionRing
from sessionring.sealed import ClockNotSet, SealedSession, SealedStore
from sessionring.session import ROLE_ADMIN, ROLE_USER, SessionDataFull, SessionEnded

IS_MICROPYTHON = sys.implementation.name == "micropython"
VECTORS = "host_tests/portable/data/fernet/"
T0 = 1800000000  # 2027-01-15, Unix seconds
K1 = bytes(range(32))
K2 = bytes(range(100, 132))
K3 = bytes(range(200, 232))


def _store(wall=None, **kw):
    kw.setdefault("keys", [K1])
    return SealedStore(clock=wall or FakeWall(), **kw)


def _days(y, m, d):
    # Days from 1970-01-01 to the civil date (proleptic Gregorian).
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _iso_unix(s):
    # "1985-10-26T01:20:01-07:00" -> Unix seconds
    date, rest = s.split("T")
    y, mo, d = [int(x) for x in date.split("-")]
    hms, sign, tz = rest[:8], rest[8], rest[9:]
    h, mi, se = [int(x) for x in hms.split(":")]
    off = (int(tz[:2]) * 3600 + int(tz[3:5]) * 60) * (1 if sign == "+" else -1)
    return _days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off


def _vectors(name):
    with open(VECTORS + name + ".json") as f:
        return json.load(f)


def _flip_every_bit(tok):
    raw = fernet.b64u_decode(tok)
    for i in range(len(raw)):
        for bit in range(8):
            b = bytearray(raw)
            b[i] ^= 1 << bit
            yield fernet.b64u_encode(b)


# -- Fernet, by the published vectors ---------------------------------------------------------
def test_fernet_generate_vectors():
    vs = _vectors("generate")
    assert vs
    for v in vs:
        key = fernet.key(v["secret"])
        tok = fernet.seal(key, v["src"].encode(), _iso_unix(v["now"]), bytes(v["iv"]))
        assert tok == v["token"], v


def test_fernet_verify_vectors():
    vs = _vectors("verify")
    assert vs
    for v in vs:
        key = fernet.key(v["secret"])
        got = fernet.unseal([key], v["token"], _iso_unix(v["now"]), v["ttl_sec"])
        assert got is not None and got[0] == v["src"].encode(), v
        assert got[1] == 0


def test_fernet_invalid_vectors():
    vs = _vectors("invalid")
    assert len(vs) >= 8
    for v in vs:
        key = fernet.key(v["secret"])
        assert fernet.unseal([key], v["token"], _iso_unix(v["now"]), v["ttl_sec"]) is None, v
        # the same token one second later or earlier is no better
        assert fernet.unseal([key], v["token"], _iso_unix(v["now"]) + 1, v["ttl_sec"]) is None


def test_base64url_canonical_only():
    raw = bytes(range(40))
    t = fernet.b64u_encode(raw)
    assert fernet.b64u_decode(t) == raw
    assert fernet.b64u_decode(t.encode()) == raw
    assert "+" not in fernet.b64u_encode(b"\xfb\xff") and "/" not in fernet.b64u_encode(b"\xff")
    for bad in (
        t[:-1],  # length not a multiple of 4
        t[:10] + " " + t[10:-1],  # a space (a2b_base64 on MicroPython would skip it)
        t[:10] + "\n" + t[11:],
        t[:10] + "+" + t[11:],  # standard alphabet, not URL-safe
        t[:10] + "/" + t[11:],
        t[:10] + "=" + t[11:],
        t.replace("=", ""),  # unpadded
        "AB=C",
        "A===",
        "QQ==QQ==",
        "QR==",  # stray bits in the last character: "QQ==" is the one spelling of b"A"
        "QUJ=",
        "",
        "\u00e9\u00e9\u00e9\u00e9",
    ):
        assert fernet.b64u_decode(bad) is None, bad


# -- the store --------------------------------------------------------------------------------
def test_round_trip():
    st = _store()
    s = st.create("admin", ROLE_ADMIN)
    assert isinstance(s.token, str) and s.token.startswith("gAAAAA")
    assert s.valid and s.user == "admin" and s.role == ROLE_ADMIN
    data = {"lang": "en", "b": b"\x00\xff", "n": -42, "t": True, "f": False, "z": None}
    for k in data:
        s[k] = data[k]
    tok = st.pending(s)
    assert tok is not None and tok == s.token
    assert st.pending(s) is None  # nothing more to send
    g = st.get(tok)
    assert isinstance(g, SealedSession)
    assert g.user == "admin" and g.role == ROLE_ADMIN and g.token == tok
    for k in data:
        assert g[k] == data[k] and k in g
    assert g.get("missing", 7) == 7 and "missing" not in g
    assert raises(KeyError, lambda: g["missing"])
    assert g.handle == s.handle and s.handle not in tok and len(s.handle) == 16
    assert g.sealed_size == len(tok)
    del g["lang"]
    assert "lang" not in g
    t2 = st.pending(g)
    assert t2 != tok and "lang" not in st.get(t2) and st.get(t2)["n"] == -42
    # bytes and bytearray tokens open too
    assert st.get(t2.encode()).user == "admin"
    assert st.get(bytearray(t2.encode())).user == "admin"


def test_get_rebinds_a_view():
    st = _store()
    a = st.create("a").token
    b = st.create("b").token
    v = st.view()
    assert not v.valid and st.pending(v) is None
    assert st.get(a, into=v) is v and v.user == "a"
    assert st.get(b, into=v) is v and v.user == "b" and v.token == b
    assert st.get("junk", into=v) is None


def test_stores_share_one_interface():
    # What the server's session binding calls, on both stores.
    for st in (SessionRing(slots=4), _store()):
        v = st.view()
        s = st.create("u", ROLE_USER)
        assert st.get(s.token, into=v) is v
        assert st.touch(v) is True
        v["k"] = "v"
        tok = st.pending(v)
        if isinstance(st, SessionRing):
            assert tok is None
        else:
            assert tok is not None and st.get(tok)["k"] == "v"
        st.tick()
        r = st.rotate(v)
        assert r.token != s.token and st.get(r.token) is not None
        assert st.get(s.token) is None  # rotate retires the old token
        assert st.revoke(r) is True
        assert st.revoke(r) is False
        assert st.get(r.token) is None
        assert raises(SessionEnded, getattr, v, "user")
        assert isinstance(st.stats(), dict)


def test_listing_is_empty_and_says_so():
    st = _store(deny_slots=4)
    st.create("a")
    assert len(st) == 0 and list(st) == [] and st.capacity is None
    assert st.by_handle("0.1") is None
    info = st.stats()
    assert info["capacity"] is None and info["live"] is None
    assert info["deny_slots"] == 4 and info["deny_used"] == 0 and info["created"] == 1


def test_every_flipped_bit_refused():
    st = _store()
    s = st.create("admin", ROLE_ADMIN)
    s["k"] = "v"
    tok = st.pending(s)
    n = 0
    for bad in _flip_every_bit(tok):
        assert st.get(bad) is None, bad
        n += 1
    assert n == len(fernet.b64u_decode(tok)) * 8
    assert st.get(tok) is not None  # and the original still opens


def test_truncated_junk_reordered_refused():
    st = _store()
    s = st.create("admin", ROLE_ADMIN)
    n = 40  # several cipher blocks; grown a block at a time until the token has padding
    s["k"] = "x" * n
    tok = st.pending(s)
    while not tok.endswith("="):
        n += 16
        s["k"] = "x" * n
        tok = st.pending(s)
    for n in range(len(tok)):
        assert st.get(tok[:n]) is None
    assert st.get(tok + "AAAA") is None
    for i in range(0, len(tok), 7):
        for junk in (" ", "\n", "!", "*", "\x00", "\u00e9"):
            assert st.get(tok[:i] + junk + tok[i:]) is None
    # every character changed to another of the alphabet
    for i in range(0, len(tok) - 2):
        c = "A" if tok[i] != "A" else "B"
        assert st.get(tok[:i] + c + tok[i + 1 :]) is None
    # non-canonical: the same bytes spelled with stray bits in the last character
    raw = fernet.b64u_decode(tok)
    assert len(raw) % 3  # its last character has unused bits
    alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = len(tok.rstrip("=")) - 1
    odd = tok[:last] + alpha[alpha.index(tok[last]) | 1] + tok[last + 1 :]
    assert odd != tok and st.get(odd) is None
    # cipher blocks swapped, IV swapped with a block, two tokens spliced
    b = bytearray(raw)
    b[25:41], b[41:57] = raw[41:57], raw[25:41]
    assert st.get(fernet.b64u_encode(b)) is None
    b = bytearray(raw)
    b[9:25], b[25:41] = raw[25:41], raw[9:25]
    assert st.get(fernet.b64u_encode(b)) is None
    other = fernet.b64u_decode(st.create("eve").token)
    assert st.get(fernet.b64u_encode(raw[:41] + other[41:])) is None
    assert st.get(fernet.b64u_encode(other[:-32] + raw[-32:])) is None
    for junk in (None, 0, 1.5, [], {}, b"", "", "gAAAAA", "=" * 200, "A" * 5000, object()):
        assert st.get(junk) is None
    assert st.misses > 0 and st.get(tok) is not None


def test_idle_and_absolute_timeouts():
    w = FakeWall()
    st = _store(w, idle_s=100, absolute_s=1000)
    tok = st.create("u").token
    w.advance(100)
    assert st.get(tok) is not None  # Fernet: refused once older than the TTL
    w.advance(1)
    assert st.get(tok) is None  # replay after the idle timeout
    # sliding keeps it alive up to the absolute timeout, which is sealed inside
    w.t -= 101
    s = st.get(tok)
    t = tok
    for _ in range(20):
        w.advance(60)
        s = st.get(t)
        if s is None:
            break
        assert st.touch(s)
        t = st.pending(s) or t
    assert s is None
    assert w.t - (T0 - w.off) >= 1000  # it lived until the absolute timeout, not less
    assert w.t - (T0 - w.off) < 1000 + 60


def test_sliding_reseal_past_half_the_idle_timeout():
    w = FakeWall()
    st = _store(w, idle_s=100)
    tok = st.create("u").token
    assert st.pending(st.get(tok)) is None
    w.advance(49)
    s = st.get(tok)
    assert st.touch(s) and st.pending(s) is None  # young enough
    w.advance(1)
    s = st.get(tok)
    assert st.touch(s)
    t2 = st.pending(s)
    assert t2 is not None and t2 != tok and st.pending(s) is None
    assert fernet.unseal([K1], t2, T0 + 50)[2] == T0 + 50  # the new timestamp
    assert s.idle == 0
    w.advance(60)
    assert st.get(tok) is None and st.get(t2) is not None  # the old one ages out first


def test_clock_skew_allowance():
    w = FakeWall()
    ahead = _store(FakeWall(T0 + 60))
    behind = _store(FakeWall(T0 + 61))
    st = _store(w)
    assert st.get(ahead.create("u").token) is not None  # 60 s ahead: accepted
    assert st.get(behind.create("u").token) is None  # 61 s: refused


def test_retired_key_refused_kept_key_resealed_with_the_first():
    old = _store(keys=[K1])
    tok = old.create("admin", ROLE_ADMIN).token
    st = _store(keys=[K2, K1])  # K2 seals now; K1 still opens
    s = st.get(tok)
    assert s is not None and s.user == "admin"
    assert st.touch(s)
    t2 = st.pending(s)
    assert t2 is not None
    assert fernet.unseal([K2], t2, T0) is not None  # sealed with the first key
    assert fernet.unseal([K1], t2, T0) is None
    assert _store(keys=[K2]).get(t2).user == "admin"
    retired = _store(keys=[K3, K2])  # K1 retired
    assert retired.get(tok) is None
    assert retired.get(t2) is not None
    # new cookies are never sealed with an older key
    assert fernet.unseal([K2], st.create("b").token, T0) is not None
    assert raises(ValueError, SealedStore, [K1, K2, K3, K1])
    assert raises(ValueError, SealedStore, [b"short"])


def test_purposes_have_their_own_keys():
    m = os.urandom(32)
    a = fernet.derive_key(m, "session")
    b = fernet.derive_key(m, "csrf")
    assert len(a) == 32 and a != b and fernet.derive_key(m, "session") == a
    tok = _store(keys=[b], purpose="csrf").create("u").token
    assert _store(keys=[a]).get(tok) is None
    # same key, another purpose inside: refused too
    assert _store(keys=[b], purpose="session").get(tok) is None


def test_key_file_made_once_rotated_and_kept_to_three():
    d = scratch("sealed-keys")
    p = d + "/keys"
    ks = sealed.load_keys(p)
    assert len(ks) == 1 and sealed.load_keys(p) == ks
    with open(p) as f:
        text = f.read()
    assert len(text.strip().split("\n")) == 1
    tok = SealedStore(key_file=p, clock=FakeWall()).create("u").token
    sealed.add_master(p)
    ks2 = sealed.load_keys(p)
    assert len(ks2) == 2 and ks2[1] == ks[0]
    assert SealedStore(key_file=p, clock=FakeWall()).get(tok) is not None
    sealed.add_master(p)
    sealed.add_master(p)
    ks4 = sealed.load_keys(p)
    assert len(ks4) == 3 and ks[0] not in ks4  # the first master is retired
    assert SealedStore(key_file=p, clock=FakeWall()).get(tok) is None
    with open(p, "w") as f:
        f.write("not a key\n")
    e = raises(ValueError, sealed.load_keys, p)
    assert "damaged" in str(e)


def test_generation_bump_kills_old_cookies_across_restarts():
    d = scratch("sealed-gen")
    gf = d + "/gens.json"
    st = _store(gen_file=gf)
    a = st.create("admin", ROLE_ADMIN)
    b = st.create("admin", ROLE_ADMIN)
    other = st.create("bob").token
    st.revoke_user("admin", keep=a)
    assert st.generation("admin") == 1
    assert st.get(b.token) is None and not b.valid
    assert a.valid
    assert st.get(a.token) is None  # the kept view's old cookie is gone too...
    ta = st.pending(a)  # ...and its new seal carries the new generation
    assert ta is not None and st.get(ta).user == "admin"
    assert st.get(other) is not None
    # after a reboot: a new store reads the generations from flash
    st2 = _store(gen_file=gf)
    assert st2.generation("admin") == 1
    assert st2.get(b.token) is None and st2.get(ta) is not None
    st2.revoke_user("admin")
    assert _store(gen_file=gf).get(ta) is None
    # a store without the file (another device) does not know: say so in the docs
    assert _store().get(b.token) is not None
    with open(gf, "w") as f:
        f.write("[1, 2")
    assert "damaged" in str(raises(ValueError, SealedStore, [K1], None, 900, 43200, "s", gf))


def test_no_reseal_past_the_absolute_timeout():
    w = FakeWall()
    st = _store(w, idle_s=100, absolute_s=150)
    s = st.create("u")
    w.advance(149)
    s["k"] = 1
    assert st.pending(s) is not None
    w.advance(1)
    s["k"] = 2
    assert st.pending(s) is None and st.get(s.token) is None


def test_logout_then_replay_refused():
    w = FakeWall()
    st = _store(w, idle_s=100, absolute_s=0)
    s = st.create("admin", ROLE_ADMIN)
    first = s.token
    w.advance(60)
    st.touch(s)
    second = st.pending(s)  # a sliding re-seal: two live cookies of one session
    assert second is not None and st.get(first) is not None
    assert st.revoke(second) is True
    assert st.get(second) is None and st.get(first) is None  # the whole session is denied
    assert st.revoke(first) is False
    assert st.stats()["deny_used"] == 1
    w.advance(100 + 60)
    st.tick()  # every cookie of it has expired: the entry is free again
    assert st.stats()["deny_used"] == 0
    assert st.get(first) is None and st.get(second) is None


def test_full_deny_list_bumps_the_generation():
    st = _store(deny_slots=2)
    toks = [st.create("admin").token for _ in range(4)]
    bob = st.create("bob").token
    assert st.revoke(toks[0]) and st.revoke(toks[1])
    assert st.generation("admin") == 0 and st.get(toks[3]) is not None
    assert st.revoke(toks[2])  # no room left: every admin cookie ends
    assert st.generation("admin") == 1
    for t in toks:
        assert st.get(t) is None
    assert st.get(bob) is not None
    assert st.stats()["generation_bumps"] == 1


def test_oversize_refused_with_the_session_intact():
    st = _store(cookie_name="sessionid")
    s = st.create("admin", ROLE_ADMIN)
    s["keep"] = "me"
    tok = st.pending(s)
    i = 0
    e = None
    while i < 100:
        try:
            s["k%d" % i] = os.urandom(100)
        except SessionDataFull as err:
            e = err
            break
        i += 1
    assert e is not None and "4096" in str(e)
    before = s.items()
    size = s.sealed_size
    assert len("sessionid") + size <= 4096
    assert raises(SessionDataFull, s.__setitem__, "k%d" % i, os.urandom(100))
    assert s.items() == before and s.sealed_size == size  # unchanged
    t2 = st.pending(s)
    assert t2 != tok and len(t2) == size and len("sessionid") + len(t2) <= 4096
    g = st.get(t2)
    assert g["keep"] == "me" and g.items() == before
    # the ring's limits on one entry hold here too
    assert raises(SessionDataFull, s.__setitem__, "big", "x" * 256)
    assert raises(TypeError, s.__setitem__, "o", [1])


def _zlib_stored_then(body, tail_hex):
    # A zlib stream (1 KB window) of body in a stored block, then a raw deflate tail.
    tail = bytes.fromhex(tail_hex)
    z = bytearray(b"\x28\x15\x00")  # CMF (deflate, 1 KB), FLG, stored block, not final
    z.extend(len(body).to_bytes(2, "little"))
    z.extend((len(body) ^ 0xFFFF).to_bytes(2, "little"))
    z.extend(body)
    z.extend(tail)
    return z


def _adler32(data):
    a, b = 1, 0
    for c in data:
        a = (a + c) % 65521
        b = (b + a) % 65521
    return (b << 16) | a


# raw deflate (1 KB window) of 1000 and of 65536 zero bytes, as zlib.compressobj(9, 8, -10)
# writes them; the tests check what they inflate to
ZEROS_1000 = "63601805a360140c770000"
ZEROS_65536 = "edc101010000008090feafee080a" + "00" * 63 + "6a"


def _sealed_body(st, user="admin", items=()):
    # The uncompressed plaintext body st would seal for a new session of user.
    v = st.create(user)
    for k, val in items:
        v[k] = val
    p = v.pack(st.purpose.encode())
    assert p[1] == 0
    return p


def test_compressed_cookie_opens_and_a_bomb_is_refused():
    st = _store()  # compression off: opening compressed cookies works regardless
    p = _sealed_body(st, items=[("lang", "en")])
    body = bytes(p[2:])
    ok = body + bytes(1000)  # trailing zeros end the data entries: a valid body
    z = _zlib_stored_then(body, ZEROS_1000)
    z.extend(_adler32(ok).to_bytes(4, "big"))
    assert sealed.inflate(z, 4096) == ok
    tok = fernet.seal(K1, b"\x01\x01" + z, T0)
    g = st.get(tok)
    assert g is not None and g["lang"] == "en" and g.user == "admin"
    # the same with 64 KB of zeros: inflated no further than the cap, refused
    zb = _zlib_stored_then(body, ZEROS_65536)
    zb.extend(_adler32(body + bytes(65536)).to_bytes(4, "big"))
    assert len(zb) < 200
    assert len(sealed.inflate(zb, 1 << 17)) == len(body) + 65536  # really a bomb
    assert sealed.inflate(zb, 4096) is None
    assert st.get(fernet.seal(K1, b"\x01\x01" + zb, T0)) is None
    # a stream asking for a 32 KB window is refused before inflating
    big_window = bytearray(z)
    big_window[0], big_window[1] = 0x78, 0x01
    assert sealed.inflate(big_window, 4096) is None
    assert st.get(fernet.seal(K1, b"\x01\x01" + bytes(big_window), T0)) is None
    assert st.get(fernet.seal(K1, b"\x01\x01" + bytes(z[:20]), T0)) is None  # cut short


def test_compression_only_when_it_shrinks():
    st = _store(compress=True)
    off = _store(compress=False)
    assert off.compress is False
    if not IS_MICROPYTHON:
        assert st.compress is True  # CPython's zlib compresses
    note = "abcabcabc" * 25
    s = st.create("admin")
    s["note"] = note
    tok = st.pending(s)
    o = off.create("admin")
    o["note"] = note
    off_tok = off.pending(o)
    assert fernet.unseal([K1], off_tok, T0)[0][1] == 0  # off: never compressed
    flag = fernet.unseal([K1], tok, T0)[0][1]
    if st.compress:
        assert flag == 1 and len(tok) < len(off_tok) // 2
        assert st.get(tok)["note"] == note and off.get(tok)["note"] == note
        assert s.sealed_size == len(tok)
    else:
        assert flag == 0 and len(tok) == len(off_tok)  # this runtime only inflates
    r = st.create("admin")
    r["rnd"] = os.urandom(200)  # does not shrink: sealed as it is
    t2 = st.pending(r)
    assert fernet.unseal([K1], t2, T0)[0][1] == 0
    assert st.get(t2)["rnd"] == r["rnd"]


def test_unset_clock_detected():
    w = FakeWall(unix=1000)  # a board that booted with no NTP and no RTC
    st = _store(w)
    e = raises(ClockNotSet, st.create, "admin")
    assert "never set" in str(e) and "ring" in str(e)
    good = _store().create("admin").token
    assert st.get(good) is None  # cannot judge its age: refused, no exception
    st.tick()
    assert st.stats()["deny_used"] == 0
    w.t = T0
    assert st.create("admin").valid  # once the clock is set, it seals


def test_epoch_conversion():
    assert sealed.unix_offset(1970) == 0
    assert sealed.unix_offset(2000) == 946684800
    assert sealed.unix_offset(2024) == sealed.MIN_UNIX
    esp = _store(FakeWall(epoch=2000))  # ESP32: time() counts from 2000
    assert esp.unix() == T0
    tok = esp.create("admin").token
    assert fernet.unseal([K1], tok, T0)[2] == T0  # the token carries Unix time
    assert _store(FakeWall(epoch=1970)).get(tok).user == "admin"
    assert esp.get(_store().create("x").token).user == "x"
    # a 2000-epoch clock at 1000 s is the year 2000: not set
    assert raises(ClockNotSet, _store(FakeWall(unix=946684800 + 1000, epoch=2000)).create, "a")


# -- sessionring/flashfile.py: the atomic writer behind the key and generation files ----------
def test_flashfile_replaces_atomically_and_finishes_an_interrupted_write():
    from sessionring import flashfile

    d = scratch("sealed-flashfile")
    p = d + "/f"
    assert flashfile.read(p) is None
    flashfile.write(p, "one")
    assert flashfile.read(p) == b"one"
    flashfile.write(p, b"two")
    assert flashfile.read(p) == b"two"
    assert ".tmp" not in " ".join(os.listdir(d))
    # power lost before the rename: a partial temporary file beside the old one is dropped
    with open(p + ".tmp", "wb") as f:
        f.write(b"thr")
    assert flashfile.read(p) == b"two"
    assert os.listdir(d) == ["f"]
    # FAT, power lost between removing the old file and the rename: the complete new file wins
    os.remove(p)
    with open(p + ".tmp", "wb") as f:
        f.write(b"three")
    assert flashfile.read(p) == b"three"
    assert os.listdir(d) == ["f"]
    # never loads more than asked
    flashfile.write(p, b"x" * 100)
    e = raises(ValueError, flashfile.read, p, 99)
    assert "100" in str(e) and "99" in str(e)


def test_now_counts_uptime_on_the_ticks_clock():
    from _support import FakeClock

    clk = FakeClock(start=(1 << 30) - 1500)  # wraps during the test
    wall = FakeWall()
    st = _store(wall, ticks=clk)
    assert st.now() == 0
    clk.advance(2500)
    wall.t = 0  # the wall clock jumping does not move the uptime
    assert st.now() == 2
    for _ in range(10):
        clk.advance_s(3600 * 24)
        st.tick()
    assert st.now() == 2 + 10 * 86400


def test_the_sealed_store_admits_every_login():
    # session.Store.admit: nothing is kept per session, so there is no full sealed store
    st = _store()
    views = [st.create("u%d" % i) for i in range(5)]
    for v in views:
        st.admit()
        st.admit(v)
    assert st.capacity is None and len(st) == 0
