# Pure-Python twins of the viper functions in _viper.py, for runtimes without a native emitter
# (and CPython). token.py, request.py and cookie.py import from here only when _viper fails to
# load, so a board that runs viper never holds this code in RAM; the tests hold each twin
# against its viper version. Same arguments, same answers; nothing allocated per call except,
# on MicroPython, the frame of the larger ones.


def decode_into(tok, out, table):
    # 20 raw bytes of a 27-char token into out; True for a canonical token. table: ASCII code
    # -> 6-bit value, 255 outside the alphabet (token._DECODE).
    acc = 0
    nbits = 0
    j = 0
    v = 0
    for i in range(27):
        c = tok[i]
        if isinstance(c, str):
            c = ord(c)
        if c >= 128 or table[c] == 255:
            return False
        v = table[c]
        acc = ((acc << 6) | v) & 0x3FFF
        nbits += 6
        if nbits >= 8:
            nbits -= 8
            out[j] = (acc >> nbits) & 0xFF
            j += 1
    # 27 chars carry 162 bits for 160: the last char holds 4 data bits and 2 zero bits, so
    # one token has exactly one spelling
    return v & 3 == 0


def equal(a, aoff, b, boff, n):
    # Constant-time compare of a[aoff:aoff+n] and b[boff:boff+n].
    diff = 0
    for i in range(n):
        diff |= a[aoff + i] ^ b[boff + i]
    return diff == 0


def names_ok(buf, pos, end, tab):
    # Every header line in buf[pos:end] starts with a non-empty name of characters c with
    # tab[c] != 0, then a colon, and ends in LF (a last line cut off before its LF: False).
    while pos < end:
        c = buf.find(b":", pos, end)
        if c <= pos:
            return False
        for i in range(pos, c):
            if not tab[buf[i]]:
                return False
        pos = buf.find(b"\n", c, end) + 1
        if pos <= 0:
            return False
    return True


def cookie_span(buf, s, e, name):
    # Where the value of the first cookie called name (bytes) sits in buf[s:e]: start << 16 |
    # end, without surrounding whitespace or one pair of double quotes; -1 when absent.
    n = len(name)
    while s < e:
        stop = buf.find(b";", s, e)
        if stop < 0:
            stop = e
        while s < stop and (buf[s] == 32 or buf[s] == 9):
            s += 1
        j = s + n
        if j <= stop and buf.startswith(name, s):
            while j < stop and (buf[j] == 32 or buf[j] == 9):
                j += 1
            if j < stop and buf[j] == 0x3D:
                s = j + 1
                while s < stop and (buf[s] == 32 or buf[s] == 9):
                    s += 1
                while stop > s and (buf[stop - 1] == 32 or buf[stop - 1] == 9):
                    stop -= 1
                if stop - s >= 2 and buf[s] == 0x22 and buf[stop - 1] == 0x22:
                    s += 1
                    stop -= 1
                return s << 16 | stop
        s = stop + 1
    return -1


def b64_into(src, n, out, table):
    # Canonical base64url with "=" padding, src[:n] (n > 0, n % 4 == 0) into out: the byte
    # count, or -1 (a character outside the alphabet, misplaced padding, stray last bits).
    m = n
    if src[n - 1] in (61, "="):
        m = n - 1
        if src[n - 2] in (61, "="):
            m = n - 2
    acc = 0
    nb = 0
    j = 0
    for i in range(m):
        c = src[i]
        if isinstance(c, str):
            c = ord(c)
        if c >= 128 or table[c] == 255:
            return -1
        acc = ((acc << 6) | table[c]) & 0x3FFF
        nb += 6
        if nb >= 8:
            nb -= 8
            out[j] = (acc >> nb) & 0xFF
            j += 1
    if acc & ((1 << nb) - 1):
        return -1
    return j


def xor_into(dst, doff, src, soff, n):
    # dst[doff + i] ^= src[soff + i] for i < n.
    for i in range(n):
        dst[doff + i] ^= src[soff + i]
