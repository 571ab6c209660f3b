# The one Host rule (host_ok): what a Host header value may be, for the head parser's check
# against DNS rebinding (head.py: IP literals and the server's own names) and for the Origin
# check (auth.same_origin: IP literals and any DNS name). Byte loops that allocate nothing, on
# a value inside a larger buffer; name_is and hex_digit serve the head parser too.


def name_is(buf, p, low):
    # Header name at buf[p:] equals `low` (lower-case bytes of the same length), ignoring case
    # (of A-Z only: "_" and "@" are not "DEL" and "`" in another case).
    for i in range(len(low)):
        c = buf[p + i]
        if 65 <= c <= 90:
            c |= 0x20
        if c != low[i]:
            return False
    return True


def _v4(buf, s, e):
    # buf[s:e] is a dotted-quad IPv4 address: four decimal parts 0-255, no leading zeros.
    parts = 0
    i = s
    while True:
        j = i
        v = 0
        while j < e and 48 <= buf[j] <= 57 and j - i < 3:
            v = v * 10 + buf[j] - 48
            j += 1
        if j == i or v > 255 or (buf[i] == 48 and j - i > 1):
            return False
        parts += 1
        if j == e:
            return parts == 4
        if buf[j] != 0x2E or parts == 4:
            return False
        i = j + 1


def _v6(buf, s, e):
    # buf[s:e] is an IPv6 address (RFC 4291 text form): eight groups of 1-4 hex digits, one
    # "::" standing for one or more zero groups, the last two groups optionally an IPv4
    # address. No zone ("%25eth0"), no IPvFuture.
    groups = 0
    gap = False
    i = s
    if e - s >= 2 and buf[s] == 0x3A and buf[s + 1] == 0x3A:
        gap = True
        i += 2
        if i == e:
            return True
    while True:
        j = i
        while j < e and j - i < 5 and hex_digit(buf[j]) >= 0:
            j += 1
        if j < e and buf[j] == 0x2E:  # the embedded IPv4 address ends the literal
            if not _v4(buf, i, e):
                return False
            groups += 2
            break
        if j == i or j - i > 4:
            return False
        groups += 1
        if j == e:
            break
        if buf[j] != 0x3A or j + 1 == e:
            return False
        i = j + 1
        if buf[i] == 0x3A:
            if gap:
                return False
            gap = True
            i += 1
            if i == e:
                break
    return groups < 8 if gap else groups == 8


def _port_ok(buf, s, e):
    # buf[s:e] is a port: 1-5 decimal digits, at most 65535.
    if not 0 < e - s <= 5:
        return False
    v = 0
    for i in range(s, e):
        d = buf[i] - 48
        if not 0 <= d <= 9:
            return False
        v = v * 10 + d
    return v <= 65535


def _bracket_ok(buf, s, e):
    # buf[s:e] is "[v6]" or "[v6]:port" (buf[s] is "[")
    r = buf.find(b"]", s, e)
    if r < 0 or not _v6(buf, s + 1, r):
        return False
    return r + 1 == e or (buf[r + 1] == 0x3A and _port_ok(buf, r + 2, e))


def _name_in(buf, s, e, names):
    k = len(names)
    while k:
        k -= 1
        n = names[k]
        if len(n) == e - s and name_is(buf, s, n):
            return True
    return False


def _dns_name(buf, s, e):
    # buf[s:e] is a DNS host name: labels of letters, digits and inner hyphens, 1-63 bytes
    # each, parted by dots, at most 253 bytes in all, the last not all digits (an IPv4 address
    # that is not a strict one, as "1.2.3.4.5" or "2130706433", is no name either).
    if not 0 < e - s <= 253:
        return False
    while True:
        i = _label_end(buf, s, e)
        if i < 0:
            return False
        if i == e:
            break
        s = i + 1
    while s < e and 48 <= buf[s] <= 57:
        s += 1
    return s < e


def _label_end(buf, s, e):
    # Where the label at buf[s:] ends (e or a dot), or -1 when it is not a valid one.
    i = s
    while i < e and buf[i] != 0x2E:
        c = buf[i]
        if not (48 <= c <= 57 or 97 <= c | 0x20 <= 122 or c == 0x2D and i > s):
            return -1
        i += 1
    return i if 0 < i - s <= 63 and buf[i - 1] != 0x2D else -1


def host_ok(buf, s, e, names=None):
    # The one Host rule. The Host value buf[s:e] ("host" or "host:port") is an IP literal or a
    # name, with at most a valid port after it; the name one of names (lower-case bytes: the
    # server's allow-list against DNS rebinding), or with names None any valid DNS name (the
    # Origin check's syntax: auth.same_origin). A DNS rebinding attack needs a name of its own,
    # so IP literals pass, but only strict ones: a dotted quad (not "1.2.3.4.5", "999.1.1.1" or
    # "2130706433") or "[v6]". A name may end in one dot ("router.lan."). Allocates nothing
    # (each helper is small enough for its frame to stay off the heap).
    if s >= e:
        return False
    if buf[s] == 0x5B:
        return _bracket_ok(buf, s, e)
    he = buf.find(b":", s, e)
    if he < 0:
        he = e
    elif not _port_ok(buf, he + 1, e):
        return False
    if he > s and buf[he - 1] == 0x2E:  # "router.lan." is router.lan
        he -= 1
    if he <= s or _v4(buf, s, he):
        return he > s
    return _dns_name(buf, s, he) if names is None else _name_in(buf, s, he, names)


def hex_digit(c):
    # the value of the hex digit c (a byte), or -1
    if 48 <= c <= 57:
        return c - 48
    c |= 0x20
    if 97 <= c <= 102:
        return c - 87
    return -1
