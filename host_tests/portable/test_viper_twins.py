# The viper fast paths (sessionring/_viper.py) and their pure-Python twins (_plain.py) give the
# same answers on every leg: 64-bit and 32-bit words, x86 and ARM (Cortex-M3, Cortex-M0).
# Where the build has no native emitter (CPython) both sides are the twin.
import sys

from sessionring import _plain, cookie, token
from sessionring import head as parser

TCHAR = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class _Rand:
    # A small deterministic generator (xorshift32): the same cases on every leg.
    def __init__(self, seed):
        self.x = seed

    def next(self, n):
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n


def _names_ok_cases():
    cases = [b"", b"A: 1\r\n", b"A: 1\r\nB: 2", b"A: 1\r\nB: 2\r", b"A: 1", b"A:\n", b":\r\n"]
    cases += [b"A: 1\r\n\r\n", b"A b: 1\r\n", b"A: 1\r\nB\r\n", b"Host: h\r\nX-Y: z:w\r\n"]
    rnd = _Rand(2463534242)
    pieces = (b"Host", b"X-a", b":", b" ", b"v", b"\r\n", b"\n", b"\r", b"\t", b"\x00", b"\xff")
    for _ in range(400):
        buf = b""
        for _ in range(rnd.next(12)):
            buf += pieces[rnd.next(len(pieces))]
        cases.append(buf)
    return cases


def test_names_ok_twins_agree():
    for head in _names_ok_cases():
        buf = bytearray(head)
        fast = bool(parser.names_ok(buf, 0, len(buf), parser._TOKTAB))
        plain = _plain.names_ok(buf, 0, len(buf), parser._TOKTAB)
        assert fast == plain, head


def test_names_ok_contract():
    tab = parser._TOKTAB
    for head, want in (
        (b"A: 1\r\nBb-c: 2\r\n", True),
        (b"A: 1\r\nB: 2", False),  # the last line has no LF: refused by both
        (b"A: 1\r\nB: 2\r", False),
        (b"nocolon\r\n", False),
        (b": empty name\r\n", False),
    ):
        buf = bytearray(head)
        assert bool(parser.names_ok(buf, 0, len(buf), tab)) == want, head
    # a range inside a bigger buffer: only buf[pos:end] counts
    buf = bytearray(b"GET / HTTP/1.1\r\nA: 1\r\nB c: 2\r\n")
    pos = buf.find(b"\r\n") + 2
    assert parser.names_ok(buf, pos, pos + 6, tab)
    assert not parser.names_ok(buf, pos, len(buf), tab)
    for c in range(256):
        buf = bytearray(b"X" + bytes([c]) + b"y: 1\r\n")
        assert bool(parser.names_ok(buf, 0, len(buf), tab)) == (c in TCHAR or c == 58), c


def test_cookie_span_twins_agree():
    rnd = _Rand(88172645)
    pieces = (b"sid", b"=", b"x", b";", b" ", b'"', b"\t", b"s", b"id2", b"abc")
    for _ in range(300):
        buf = b""
        for _ in range(rnd.next(10)):
            buf += pieces[rnd.next(len(pieces))]
        b = bytearray(buf)
        assert cookie.span(b, 0, len(b), b"sid") == _plain.cookie_span(b, 0, len(b), b"sid"), buf


def test_token_decoders_agree_on_32_bit_words():
    # random tokens put every bit pattern in the header words (4095 << 20 is -1048576 on a
    # 32-bit board, 4293918720 on a 64-bit host): both decoders must give the same bytes
    rnd = _Rand(1234567)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for _ in range(200):
        t = "".join(alphabet[rnd.next(64)] for _ in range(token.TOKEN_LEN))
        a, b = bytearray(token.RAW_BYTES), bytearray(token.RAW_BYTES)
        fast = bool(token.decode_into(t, a, token._DECODE))
        plain = bool(_plain.decode_into(t, b, token._DECODE))
        assert fast == plain and a == b, t


def _compiles_viper():
    # True where this MicroPython has a native emitter (the unix ports, both qemu images)
    if sys.implementation.name != "micropython":
        return False
    try:
        exec("import micropython\n@micropython.viper\ndef f(x: int) -> int:\n    return x + 1\n")
    except Exception:  # noqa: BLE001 - no emitter: a SyntaxError or a ValueError by port
        return False
    return True


def test_the_viper_paths_are_in_use_where_viper_compiles():
    # so the agreement above is viper against its twin on every MicroPython leg, Cortex-M0
    # included (its board folder switches the native emitter back on)
    viper = _compiles_viper()
    used = (token.decode_into, token.equal, parser.names_ok, cookie.span)
    twins = (_plain.decode_into, _plain.equal, _plain.names_ok, _plain.cookie_span)
    for i in range(len(used)):
        assert (used[i] is twins[i]) != viper, i
    assert viper == (sys.implementation.name == "micropython")
