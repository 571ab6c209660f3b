# What opening a sealed cookie costs: the store opens it into the view's own buffer with state
# made once (HMAC pads, AES decryptor, decode buffer), so a request allocates little; the
# base64url decoder and the CBC chaining (viper, with pure-Python twins) agree with each other
# and with binascii. Byte bounds are checked where the runtime counts allocations
# (micropython.mem_total on the MicroPython legs).
import binascii
import sys

from _wall import Wall

from sessionring import _plain, fernet
from sessionring import token as tok
from sessionring.sealed import SealedStore
from sessionring.session import ROLE_ADMIN

try:
    import micropython

    _total = getattr(micropython, "mem_total", None)
except ImportError:
    _total = None

T0 = 1800000000
# bytes per open of an admin cookie handed over as bytes, with touch and pending (measured: about
# 1000 on the 32-bit faithful build, 1580 on the 64-bit unix port; 4.7 KB on 32-bit before)
OPEN_BOUND = 1800 if sys.maxsize > 2**32 else 1200


def _b64u(b):
    return binascii.b2a_base64(b).decode().strip().replace("+", "-").replace("/", "_")


def test_b64_into_twins_agree_and_refuse_every_other_spelling():
    out = bytearray(64)
    out2 = bytearray(64)
    for n in range(0, 40):
        raw = bytes((i * 37 + n) & 0xFF for i in range(n))
        text = _b64u(raw)
        if not text:
            continue
        for f, o in ((tok.b64_into, out), (_plain.b64_into, out2)):
            m = f(text, len(text), o, tok._DECODE)
            assert m == n and bytes(o[:m]) == raw, (n, f)
            assert f(text.encode(), len(text), o, tok._DECODE) == n
        if text.endswith("="):
            i = len(text.rstrip("=")) - 1
            c = tok._ALPHABET.decode()[tok._DECODE[ord(text[i])] | 1]
            stray = text[:i] + c + text[i + 1 :]
            if stray != text:
                assert tok.b64_into(stray, len(stray), out, tok._DECODE) == -1
                assert _plain.b64_into(stray, len(stray), out2, tok._DECODE) == -1
    for bad in ("A=AA", "AA=A", "AAA+", "AAA/", "AA\x00A", "AAé="):
        assert tok.b64_into(bad, len(bad), out, tok._DECODE) == -1, bad
        assert _plain.b64_into(bad, len(bad), out2, tok._DECODE) == -1, bad
        assert fernet.b64u_decode(bad) is None


def test_xor_into_twins_agree():
    src = bytes(range(7, 107))
    for n in (0, 1, 16, 33):
        a = bytearray(range(50))
        b = bytearray(range(50))
        tok.xor_into(a, 3, src, 9, n)
        _plain.xor_into(b, 3, src, 9, n)
        assert a == b
        assert all(a[3 + i] == (3 + i) ^ src[9 + i] for i in range(n))


def _admin_cookie(st):
    v = st.create("admin", ROLE_ADMIN)
    v["c"] = "x" * 32
    v["a"] = "192.168.4.2"
    return st.pending(v)


def test_opening_into_a_view_uses_its_own_buffer_and_allocates_little():
    st = SealedStore(keys=[bytes(range(32))], clock=Wall())
    cookie = _admin_cookie(st)
    view = st.view()
    got = st.get(cookie, view)
    assert got is view and view._p is view.buf  # the plaintext landed in the view's buffer
    assert view["c"] == "x" * 32 and view.user == "admin"
    wire = cookie.encode()  # as a server hands it over
    if _total is None:
        return
    st.get(wire, view)
    before = _total()
    for _ in range(10):
        assert st.get(wire, view) is view
        st.touch(view)
        assert st.pending(view) is None
    per = (_total() - before) // 10
    assert 0 < per <= OPEN_BOUND, per


def test_a_cookie_larger_than_the_buffers_still_opens():
    st = SealedStore(keys=[bytes(range(32))], clock=Wall(), view_bytes=64)
    v = st.create("admin")
    v["big"] = "y" * 200
    cookie = st.pending(v)
    view = st.view()
    got = st.get(cookie, view)
    assert got is view and view._p is not view.buf and view["big"] == "y" * 200
    small = st.create("admin").token
    assert st.get(small, view) is view and view._p is view.buf
