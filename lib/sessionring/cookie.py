# Cookies (RFC 6265): read the Cookie request header, write Set-Cookie response headers.
#
# Reading is tolerant: browsers send whatever other sites on the same host name set (analytics
# cookies, quoted values, odd spacing, junk), so a malformed pair is skipped, never an error.
# get() and parse() never raise. The session cookie alone is read strictly, by token_at():
# one form, and its name twice is an error (the server answers 400). Writing is strict: build()
# refuses a name or value that a browser could misread, and never emits a Domain attribute
# (host-only cookies).
from micropython import const

_MAX_PAIR = const(4096)  # browsers drop a cookie whose name + value exceed 4096 bytes
_TOKEN = const(1)  # RFC 6265 / RFC 2616 token character (cookie names)
_OCTET = const(2)  # cookie-octet (cookie values)
_AV = const(4)  # attribute value character (Path): any CHAR except CTLs and ";"

# ASCII code -> character class bits
_CLASS = bytearray(128)
for _c in range(0x21, 0x7F):
    if chr(_c) not in '()<>@,;:\\"/[]?={}':
        _CLASS[_c] |= _TOKEN
    if _c != 0x22 and _c != 0x2C and _c != 0x3B and _c != 0x5C:
        _CLASS[_c] |= _OCTET
for _c in range(0x20, 0x7F):
    if _c != 0x3B:
        _CLASS[_c] |= _AV
_CLASS = bytes(_CLASS)

_BYTES = (bytes, bytearray, memoryview)
_TEXT = (str, bytes, bytearray)
HOST_PREFIX = "__Host-"
SECURE_PREFIX = "__Secure-"


def _all_in(s, bit):
    # True when every character of s (str or bytes) belongs to the class `bit`.
    for c in s:
        if isinstance(c, str):
            c = ord(c)
        if c >= 128 or not _CLASS[c] & bit:
            return False
    return True


def valid_name(n):
    # A cookie name: a non-empty RFC 6265 token (no separators, spaces or controls).
    return isinstance(n, _TEXT) and len(n) > 0 and _all_in(n, _TOKEN)


def valid_value(v):
    # A cookie value: zero or more cookie-octets (printable ASCII except space, DQUOTE, comma,
    # semicolon and backslash). The quoted form is not produced by build().
    return isinstance(v, _TEXT) and _all_in(v, _OCTET)


def name_for(base, secure):
    # The cookie name to use: the __Host- prefix over TLS (browsers then insist on Secure,
    # Path=/ and no Domain, so no other host or path can plant or shadow the cookie).
    return HOST_PREFIX + base if secure else base


# -- reading ---------------------------------------------------------------------------------
def _kinds(h):
    # (header as str or bytes, whitespace, "=", '"', ";") for the header's type, or None.
    if isinstance(h, str):
        return h, " \t", "=", '"', ";"
    if isinstance(h, _BYTES):
        if not isinstance(h, bytes):
            h = bytes(h)
        return h, b" \t", 0x3D, 0x22, b";"
    return None


def _value(h, vs, ve, ws, quote):
    # The value in h[vs:ve] without surrounding whitespace or one pair of double quotes, as str;
    # None when bytes are not UTF-8.
    while vs < ve and h[vs] in ws:
        vs += 1
    while ve > vs and h[ve - 1] in ws:
        ve -= 1
    if ve - vs >= 2 and h[vs] == quote and h[ve - 1] == quote:
        vs += 1
        ve -= 1
    v = h[vs:ve]
    if isinstance(v, bytes):
        try:
            v = v.decode()
        except UnicodeError:
            return None
    return v


def get(header_value, name):
    # The value of the first cookie called `name` in a Cookie header value (str, bytes,
    # bytearray or memoryview), as str; None when absent or on any bad input. Walks the header
    # in place: no dict, no list, one slice for the value found.
    k = _kinds(header_value)
    if k is None or not isinstance(name, str) or not name:
        return None
    h, ws, eq, quote, semi = k
    if isinstance(h, bytes):
        try:
            name = name.encode()
        except UnicodeError:
            return None
    n = len(name)
    end = len(h)
    pos = 0
    while pos < end:
        stop = h.find(semi, pos)
        if stop < 0:
            stop = end
        while pos < stop and h[pos] in ws:
            pos += 1
        if pos + n <= stop and h.startswith(name, pos):
            j = pos + n
            while j < stop and h[j] in ws:
                j += 1
            if j < stop and h[j] == eq:
                v = _value(h, j + 1, stop, ws, quote)
                if v is not None:
                    return v
        pos = stop + 1
    return None


# span(buf, s, e, name): where the value of the first cookie called name (bytes) sits in
# buf[s:e], a Cookie header value inside a bytes or bytearray shorter than 16 KB: start << 16 |
# end, without the surrounding whitespace or one pair of double quotes; -1 when absent.
# Allocates nothing (the server finds the session cookie with it). The same pair as get(),
# except that get() also skips a value that is not UTF-8.
try:
    from ._viper import cookie_span as span
except Exception:  # noqa: BLE001 - no native emitter in this build (or CPython)
    from ._plain import cookie_span as span  # noqa: F401 - API (the tolerant reader in place)


DUPLICATE = const(-2)  # token_at(): the name is there twice (the request gets 400)


def token_at(buf, s, e, name):
    # The strict reader of a session cookie: where the value of the one cookie called name
    # (bytes) starts in buf[s:e], a Cookie header value; -1 when there is none that is a token,
    # DUPLICATE when name is there twice. The value runs to the next ";" (or e). One form only:
    # the pair starts the header or follows ";" and spaces, the name is followed at once by
    # "=", and the value holds no space, tab, double quote, comma or backslash. So "\tsid=",
    # "sid =", 'sid="..."' and "sid= x" name no token (a proxy reading the header loosely and
    # this server must not disagree on the credential), and "__Host-sid" is not "sid".
    # Allocates nothing (bytearray.find with bytes constants).
    n = len(name)
    if not n:
        return -1
    at = -1
    seen = False
    p = s
    while True:
        p = buf.find(name, p, e)
        if p < 0:
            return at
        q = p + n
        b = p
        while b > s and buf[b - 1] == 0x20:
            b -= 1
        if q < e and buf[q] == 0x3D and (b == s or buf[b - 1] == 0x3B):
            if seen:
                return DUPLICATE
            seen = True
            q += 1
            v = buf.find(b";", q, e)
            if v < 0:
                v = e
            if (
                v > q
                and buf.find(b" ", q, v) < 0
                and buf.find(b"\t", q, v) < 0
                and buf.find(b'"', q, v) < 0
                and buf.find(b",", q, v) < 0
                and buf.find(b"\\", q, v) < 0
            ):
                at = q
        p = q


def token_end(buf, at, e):
    # The end of the value token_at() found at `at` in a header value ending at e.
    v = buf.find(b";", at, e)
    return e if v < 0 else v


def parse(header_value):
    # Every well-formed pair of a Cookie header value as a dict of str; the first occurrence
    # of a name wins (as in get). Pairs without "=", with a name that is not a token, or with
    # bytes that are not UTF-8 are skipped. Several Cookie headers may be joined with "; ".
    out = {}
    k = _kinds(header_value)
    if k is None:
        return out
    h, ws, eq, quote, semi = k
    eqs = b"=" if isinstance(h, bytes) else "="
    end = len(h)
    pos = 0
    while pos < end:
        stop = h.find(semi, pos)
        if stop < 0:
            stop = end
        e = h.find(eqs, pos, stop)
        if e > 0:
            ks = pos
            ke = e
            while ks < ke and h[ks] in ws:
                ks += 1
            while ke > ks and h[ke - 1] in ws:
                ke -= 1
            key = h[ks:ke]
            if valid_name(key):
                if isinstance(key, bytes):
                    key = key.decode()
                if key not in out:
                    v = _value(h, e + 1, stop, ws, quote)
                    if v is not None:
                        out[key] = v
        pos = stop + 1
    return out


# -- writing ---------------------------------------------------------------------------------
def build(name, value, max_age=None, path="/", http_only=True, same_site="Strict", secure=False):
    # A Set-Cookie header value. max_age None makes a session cookie (gone when the browser
    # closes); an int >= 0 is a lifetime in seconds (0 deletes). No Expires (a board rarely
    # knows the date) and never a Domain (the cookie stays with this exact host).
    # same_site: "Strict", "Lax", "None" (needs secure) or None to leave the attribute out.
    if not valid_name(name):
        raise ValueError("cookie name must be a non-empty RFC 6265 token")
    if not valid_value(value):
        # the value is not echoed: it may be a secret
        raise ValueError(
            "cookie %s: value must be printable ASCII without space, '\"', ',', ';' or '\\'" % name
        )
    if isinstance(name, _BYTES):
        name = bytes(name).decode()
    if isinstance(value, _BYTES):
        value = bytes(value).decode()
    if len(name) + len(value) > _MAX_PAIR:
        raise ValueError("cookie %s: name and value exceed %d bytes" % (name, _MAX_PAIR))
    if not isinstance(path, str) or not path.startswith("/") or not _all_in(path, _AV):
        raise ValueError("cookie %s: path must start with '/' and hold no ';' or control" % name)
    low = name.lower()
    if low.startswith("__host-") and (not secure or path != "/"):
        raise ValueError("cookie %s: the __Host- prefix needs secure=True and path='/'" % name)
    if low.startswith("__secure-") and not secure:
        raise ValueError("cookie %s: the __Secure- prefix needs secure=True" % name)
    parts = [name + "=" + value]
    if max_age is not None:
        if type(max_age) is not int or max_age < 0:
            raise ValueError("cookie %s: max_age must be None or an int >= 0" % name)
        parts.append("Max-Age=%d" % max_age)
    parts.append("Path=" + path)
    if secure:
        parts.append("Secure")
    if http_only:
        parts.append("HttpOnly")
    if same_site is not None:
        s = same_site.lower() if isinstance(same_site, str) else None
        if s == "strict":
            parts.append("SameSite=Strict")
        elif s == "lax":
            parts.append("SameSite=Lax")
        elif s == "none":
            if not secure:
                raise ValueError("cookie %s: SameSite=None needs secure=True" % name)
            parts.append("SameSite=None")
        else:
            raise ValueError(
                "cookie %s: same_site must be 'Strict', 'Lax', 'None' or None (left out)" % name
            )
    return "; ".join(parts)


def clear(name, path="/", secure=False, same_site="Strict"):
    # A Set-Cookie header value that deletes the cookie: empty value, Max-Age=0, and the same
    # name, path and Secure flag it was set with (else the browser keeps the old one).
    return build(name, "", 0, path, True, same_site, secure)
