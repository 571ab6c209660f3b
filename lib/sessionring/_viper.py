# Viper versions of the byte loops on the hot path: token decode and compare (token.py), the
# header-name check (request.py), the session cookie's place (cookie.py), base64url decoding
# and the CBC chaining of sealed cookies (fernet.py). Machine speed,
# frames on the C stack, no heap allocation. They are kept as source and compiled when this
# module is imported, so that the file itself compiles with plain mpy-cross (no -march) and
# freezes on any port. Where the runtime has no native emitter (or on CPython) the exec
# fails, and the modules take the pure-Python twins in _plain.py (tested against these).
# ptr8 is a viper built-in.
# This module imports nothing of the package: token.py, request.py and cookie.py import it,
# and an import cycle would leave one of them with the slow fallback.
import micropython  # noqa: F401 - used by the decorators in _SRC

_SRC = """
@micropython.viper
def decode_into(tok, out, table) -> int:
    # tok: str/bytes/bytearray/memoryview whose len() is 27 (checked by the caller; a str with
    # non-ASCII characters has at least as many bytes as characters, so 27 bytes are there).
    # Writes the 20 raw bytes to out. Returns 1 for a canonical token, else 0. table: token.py's
    # _DECODE (ASCII code -> 6-bit value, 255 outside the alphabet).
    t = ptr8(tok)
    o = ptr8(out)
    d = ptr8(table)
    acc = 0
    nb = 0
    j = 0
    i = 0
    v = 0
    while i < 27:
        c = t[i]
        if c >= 128:
            return 0
        v = d[c]
        if v == 255:
            return 0
        acc = ((acc << 6) | v) & 0x3FFF
        nb += 6
        if nb >= 8:
            nb -= 8
            o[j] = (acc >> nb) & 0xFF
            j += 1
        i += 1
    if v & 3:
        return 0
    return 1


@micropython.viper
def equal(a, aoff: int, b, boff: int, n: int) -> int:
    # Constant-time compare of a[aoff:aoff+n] and b[boff:boff+n]: 1 when equal.
    pa = ptr8(a)
    pb = ptr8(b)
    diff = 0
    i = 0
    while i < n:
        diff |= pa[aoff + i] ^ pb[boff + i]
        i += 1
    if diff:
        return 0
    return 1


@micropython.viper
def names_ok(buf, pos: int, end: int, tab) -> int:
    # The header lines in buf[pos:end]: 1 when every one starts with a non-empty name of
    # characters c with tab[c] != 0 (256 entries) followed by a colon, and ends in LF (a last
    # line cut off before its LF is refused: 0). _plain.names_ok is its twin.
    b = ptr8(buf)
    t = ptr8(tab)
    i = pos
    while i < end:
        s = i
        while i < end and b[i] != 58:
            if t[b[i]] == 0:
                return 0
            i += 1
        if i == s or i >= end:
            return 0
        while i < end and b[i] != 10:
            i += 1
        if i >= end:
            return 0
        i += 1
    return 1


@micropython.viper
def cookie_span(buf, s: int, e: int, name) -> int:
    # cookie.span at machine speed: where the value of the first cookie called name sits in
    # buf[s:e], as start << 16 | end without whitespace or one pair of quotes; -1 when absent.
    b = ptr8(buf)
    m = ptr8(name)
    n = int(len(name))
    while s < e:
        stop = s
        while stop < e and b[stop] != 59:
            stop += 1
        while s < stop and (b[s] == 32 or b[s] == 9):
            s += 1
        j = s + n
        if j <= stop:
            k = 0
            while k < n and b[s + k] == m[k]:
                k += 1
            if k == n:
                while j < stop and (b[j] == 32 or b[j] == 9):
                    j += 1
                if j < stop and b[j] == 61:
                    s = j + 1
                    while s < stop and (b[s] == 32 or b[s] == 9):
                        s += 1
                    while stop > s and (b[stop - 1] == 32 or b[stop - 1] == 9):
                        stop -= 1
                    if stop - s >= 2 and b[s] == 34 and b[stop - 1] == 34:
                        s += 1
                        stop -= 1
                    return (s << 16) | stop
        s = stop + 1
    return -1

@micropython.viper
def b64_into(src, n: int, out, table) -> int:
    # Canonical base64url with "=" padding: src's first n bytes (n > 0, n % 4 == 0, checked by
    # the caller) decoded into out (room for n // 4 * 3 bytes). Returns the byte count, or -1
    # for a character outside the alphabet (table: token.py's _DECODE), padding anywhere but
    # at the end, or stray bits in the last character (one text per byte string).
    s = ptr8(src)
    o = ptr8(out)
    d = ptr8(table)
    m = n
    if s[n - 1] == 61:
        m = n - 1
        if s[n - 2] == 61:
            m = n - 2
    acc = 0
    nb = 0
    j = 0
    i = 0
    while i < m:
        c = s[i]
        if c >= 128:
            return -1
        v = d[c]
        if v == 255:
            return -1
        acc = ((acc << 6) | v) & 0x3FFF
        nb += 6
        if nb >= 8:
            nb -= 8
            o[j] = (acc >> nb) & 0xFF
            j += 1
        i += 1
    if acc & ((1 << nb) - 1):
        return -1
    return j


@micropython.viper
def xor_into(dst, doff: int, src, soff: int, n: int):
    # dst[doff + i] ^= src[soff + i] for i < n (CBC: a decrypted block XOR the one before it).
    a = ptr8(dst)
    b = ptr8(src)
    i = 0
    while i < n:
        a[doff + i] ^= b[soff + i]
        i += 1
"""

exec(_SRC, globals())
del _SRC
