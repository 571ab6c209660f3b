# The head parser: one request head, parsed in place in its connection's buffer, with the
# checks that refuse a bad one (400, 411, 414, 417, 421, 431, 501, 505), the Host check
# against DNS rebinding (the rule is host.py's), and percent-decoding for paths, queries and
# forms. Credentials are read in one place and one form: two Cookie headers, two Authorization
# headers or the session cookie's name twice get 400 (cookie.token_at reads the session cookie).
#
# The head is scanned once with bytearray.find (C speed): the request line, then each header
# line, noting only where the few headers the server needs start and end (request.py reads
# the rest on first use). What the parser needs of the server comes in one Limits object.
from micropython import const

from .cookie import DUPLICATE, token_at
from .host import hex_digit as _hex
from .host import host_ok
from .host import name_is as _name_is

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
