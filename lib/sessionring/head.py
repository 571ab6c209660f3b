# The head parser: one request head, parsed in place in its connection's buffer, with the
# checks that refuse a bad one (400, 411, 414, 417, 421, 431, 501, 505), the Host check
# against DNS rebinding, and percent-decoding for paths, queries and forms. Credentials are
# read in one place and one form: two Cookie headers, two Authorization headers or the session
# cookie's name twice get 400 (cookie.token_at reads the session cookie).
#
# The head is scanned once with bytearray.find (C speed): the request line, then each header
# line, noting only where the few headers the server needs start and end (request.py reads
# the rest on first use). What the parser needs of the server comes in one Limits object.
from micropython import const

from .cookie import DUPLICATE, token_at

_CR = const(13)
_LF = const(10)
_SP = const(32)
_HT = const(9)

_METHODS = (b"GET", b"POST", b"HEAD", b"PUT", b"DELETE", b"PATCH", b"OPTIONS")
_NAMES = {m: m.decode() for m in _METHODS}  # str names, made once
NEED_BODY = ("POST", "PUT", "PATCH")  # no Content-Length on these: 411

# token characters of a method name (RFC 9110 tchar), for 400 vs 501
_TCHAR = b"!#$%&'*+-.^_`|~"


# 1 for each byte that may appear in a header name (a token), 0 for the rest
_TOKTAB = bytearray(256)
for _c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" + _TCHAR:
    _TOKTAB[_c] = 1


try:
    from ._viper import names_ok
except Exception:  # noqa: BLE001 - no native emitter in this build (or CPython)
    from ._plain import names_ok


def _is_token(buf, s, e):
    if s >= e:
        return False
    for i in range(s, e):
        c = buf[i]
        if not (48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 or c in _TCHAR):
            return False
    return True


def _name_is(buf, p, low):
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
        while j < e and j - i < 5 and _hex(buf[j]) >= 0:
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
        if len(n) == e - s and _name_is(buf, s, n):
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


def _hex(c):
    if 48 <= c <= 57:
        return c - 48
    c |= 0x20
    if 97 <= c <= 102:
        return c - 87
    return -1


def unquote(b, plus=True):
    # Percent-decode bytes (and "+" as space in forms and queries) to str. A bad escape is kept
    # as it is; bytes that are not UTF-8 raise UnicodeError.
    if b.find(b"%") < 0 and (not plus or b.find(b"+") < 0):
        return bytes(b).decode()
    out = bytearray()
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if c == 0x25 and i + 2 < n and _hex(b[i + 1]) >= 0 and _hex(b[i + 2]) >= 0:
            out.append(_hex(b[i + 1]) * 16 + _hex(b[i + 2]))
            i += 3
            continue
        out.append(32 if c == 0x2B and plus else c)
        i += 1
    return bytes(out).decode()


def parse_qs(b):
    # "a=1&b=two" (bytes) -> {"a": "1", "b": "two"}; the first of repeated names wins; pairs
    # that are not UTF-8 are skipped.
    out = {}
    for part in bytes(b).split(b"&"):
        if not part:
            continue
        k, _, v = part.partition(b"=")
        try:
            k = unquote(k)
            if k not in out:
                out[k] = unquote(v)
        except UnicodeError:
            pass
    return out


class Limits:
    # What parsing a head needs to know of its server, made by Server.serve().
    def __init__(self, max_request_line, max_headers, hosts):
        self.max_request_line = max_request_line  # bytes of the request line -> 414
        self.max_headers = max_headers  # header lines -> 431
        # host names a Host header may carry, as lower-case bytes (IP literals always may);
        # None: any -> 421
        self.hosts = None if hosts is None else tuple(h.lower().encode() for h in hosts)
        self.handler_json_errors = False  # Server.handler_json_errors (request.py reads it)
        self.parser = _parser(self)
        next(self.parser)


def _parser(cfg):
    # The head parser, one per server: send it a Request whose head ends at r.head_end, it
    # answers 0 or an error status. On MicroPython a function with this many locals would
    # allocate its frame on the heap at every call; a generator's frame is allocated once, and
    # one is enough because parsing never waits.
    st = 0
    while True:
        r = yield st
        st = 0
        try:
            buf = r.buf
            end = r.head_end
            # request line: METHOD SP target SP HTTP/1.x
            rl = buf.find(b"\r\n", 0, end + 2)
            sp = buf.find(b" ", 0, rl)
            sp2 = buf.rfind(b" ", sp + 1, rl)
            r.method = None
            for m in _METHODS:
                if len(m) == sp and buf.startswith(m):
                    r.method = _NAMES[m]
                    break
            if rl > cfg.max_request_line:
                st = 414
            elif r.method is None:
                st = 501 if sp > 0 and _is_token(buf, 0, sp) else 400
            elif sp2 <= sp + 1 or rl - sp2 != 9 or not buf.startswith(b"HTTP/", sp2 + 1):
                st = 400
            elif buf[sp2 + 7] != 0x2E or not 48 <= buf[sp2 + 8] <= 57:
                st = 400
            elif buf[sp2 + 6] != 49:  # only HTTP/1.x
                st = 505 if 48 <= buf[sp2 + 6] <= 57 else 400
            if st:
                continue
            r.minor = buf[sp2 + 8] - 48
            # target: origin-form "/path?query"; absolute-form "http://host/path" is
            # reduced to it; "*" only for OPTIONS
            ts = sp + 1
            if buf[ts] != 0x2F:
                if buf.startswith(b"http://", ts) or buf.startswith(b"https://", ts):
                    ts = buf.find(b"/", buf.find(b"//", ts) + 2, sp2)
                elif not (buf[ts] == 0x2A and sp2 == ts + 1 and r.method == "OPTIONS"):
                    ts = -1
                if ts < 0:
                    st = 400
                    continue
            for i in range(ts, sp2):
                if buf[i] <= _SP or buf[i] == 0x7F:
                    st = 400
            if st:
                continue
            q = buf.find(b"?", ts, sp2)
            if q >= 0:
                r._qs = q + 1
                r._qe = sp2
                sp2 = q
            if buf.find(b"%", ts, sp2) < 0:
                r.path = buf[ts:sp2].decode()
            else:
                r.path = unquote(buf[ts:sp2], False)
            # header lines; a bare CR or LF anywhere in the head is refused (smuggling)
            n = 0
            hosts = 0
            keep = r.minor >= 1
            lim = end + 2
            pos = buf.find(b"\r\n", 0, lim) + 2
            if not names_ok(buf, pos, lim, _TOKTAB):  # a name is a token, then a colon
                st = 400
                continue
            while pos < lim:
                e = buf.find(b"\r\n", pos, lim)
                n += 1
                c = buf.find(b":", pos, e)
                if n > cfg.max_headers:  # (names_ok saw to the names and colons)
                    st = 431
                    break
                vs = c + 1
                while vs < e and (buf[vs] == _SP or buf[vs] == _HT):
                    vs += 1
                ve = e
                while ve > vs and (buf[ve - 1] == _SP or buf[ve - 1] == _HT):
                    ve -= 1
                k = c - pos
                f = buf[pos] | 0x20
                pos = e + 2
                if k == 4 and f == 0x68 and _name_is(buf, c - k, b"host"):
                    hosts += 1
                    r._ho = vs
                    r._hoe = ve
                elif f == 0x63 and k == 6 and _name_is(buf, c - k, b"cookie"):
                    if r._ck >= 0:  # two Cookie headers: which holds the credential?
                        st = 400
                        break
                    r._ck = vs
                    r._cke = ve
                elif f == 0x61 and k == 13 and _name_is(buf, c - k, b"authorization"):
                    if r._au >= 0:  # two Authorization headers: the same question
                        st = 400
                        break
                    r._au = vs
                    r._aue = ve
                elif f == 0x63 and k == 14 and _name_is(buf, c - k, b"content-length"):
                    if ve == vs or ve - vs > 9:
                        st = 400 if ve == vs else 413
                        break
                    v = 0
                    for i in range(vs, ve):
                        d = buf[i] - 48
                        if not 0 <= d <= 9:
                            st = 400
                        v = v * 10 + d
                    if st or 0 <= r.length != v:
                        st = 400
                        break
                    r.length = v
                elif f == 0x63 and k == 12 and _name_is(buf, c - k, b"content-type"):
                    r._ct = vs
                    r._cte = ve
                elif f == 0x63 and k == 10 and _name_is(buf, c - k, b"connection"):
                    for t in bytes(buf[vs:ve]).lower().split(b","):
                        t = t.strip()
                        if t == b"close":
                            keep = False
                            break
                        if t == b"keep-alive":
                            keep = True
                elif f == 0x74 and k == 17 and _name_is(buf, c - k, b"transfer-encoding"):
                    st = 501
                    break
                elif f == 0x65 and k == 6 and _name_is(buf, c - k, b"expect"):
                    if bytes(buf[vs:ve]).lower() != b"100-continue":
                        st = 417
                        break
                    r.expect = True
            if st:
                continue
            if buf.count(b"\n", 0, end) != n or buf.count(b"\r", 0, end) != n:
                st = 400
            elif buf.find(b"\x00", 0, end) >= 0:  # NUL in a value (RFC 9110 5.5): refused
                st = 400
            elif hosts > 1 or hosts != 1 and (r.minor >= 1 or cfg.hosts is not None):
                st = 400  # one Host; HTTP/1.0 may omit it, but not where names are checked
            elif cfg.hosts is not None and hosts and not host_ok(buf, r._ho, r._hoe, cfg.hosts):
                st = 421
            elif r.length < 0 and r.method in NEED_BODY:
                st = 411
            else:
                r.keep = keep
                if r._ck >= 0 and r._bind is not None:
                    # the session cookie, read once and strictly: its name twice is 400
                    r._sid = token_at(buf, r._ck, r._cke, r._bind.cname)
                    if r._sid == DUPLICATE:
                        st = 400
        except MemoryError:
            st = 503
        except Exception:  # noqa: BLE001 - a head that cannot be read is a bad request
            st = 400
