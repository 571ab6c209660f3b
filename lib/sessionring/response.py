# What a handler returns when a plain str, bytes, dict or list is not enough (Response), and
# how the server writes any answer onto the wire (emit).
import json

from . import cookie

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"

REASONS = {
    100: b"Continue",
    200: b"OK",
    201: b"Created",
    202: b"Accepted",
    204: b"No Content",
    301: b"Moved Permanently",
    302: b"Found",
    303: b"See Other",
    304: b"Not Modified",
    307: b"Temporary Redirect",
    308: b"Permanent Redirect",
    400: b"Bad Request",
    401: b"Unauthorized",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    408: b"Request Timeout",
    409: b"Conflict",
    411: b"Length Required",
    413: b"Content Too Large",
    414: b"URI Too Long",
    415: b"Unsupported Media Type",
    417: b"Expectation Failed",
    422: b"Unprocessable Content",
    429: b"Too Many Requests",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    503: b"Service Unavailable",
    505: b"HTTP Version Not Supported",
}

# Sent straight to a socket when no slot or no memory is left for anything better.
_STR = (str,)
_BYTES = (bytes, bytearray, memoryview)
_JSONABLE = (dict, list)


def put(out, p, b):
    n = p + len(b)
    out[p:n] = b
    return n


def digits(out, p, v):
    # Decimal v into out at p without making a str.
    if v == 0:
        out[p] = 48
        return p + 1
    n = 0
    t = v
    while t:
        t //= 10
        n += 1
    e = p + n
    while v:
        e -= 1
        out[e] = 48 + v % 10
        v //= 10
    return p + n


class Response:
    def __init__(self, body=b"", status=200, headers=None, content_type=HTML):
        self.body = body  # str or bytes
        self.status = status
        self._h = headers
        self.content_type = content_type
        self.cookies = None  # set_cookie() arguments

    @property
    def headers(self):
        # Extra response headers (name -> str). Content-Type, Content-Length and Connection
        # are the server's.
        if self._h is None:
            self._h = {}
        return self._h

    @classmethod
    def redirect(cls, location, status=303):
        r = cls(b"", status, content_type=None)
        r.headers["Location"] = location
        return r

    @classmethod
    def json(cls, obj, status=200):
        return cls(json.dumps(obj), status, content_type=JSON)

    def set_cookie(
        self, name, value, max_age=None, path="/", http_only=True, same_site="Strict", secure=None
    ):
        # secure None: Secure exactly when the server runs with SECURE (TLS). The name is used
        # as given (add the __Host- prefix yourself: cookie.name_for). Checked now (ValueError),
        # written when the response is sent.
        a = (name, value, max_age, path, http_only, same_site, secure)
        cookie.build(*a[:6], secure=True if secure is None else secure)
        if self.cookies is None:
            self.cookies = []
        self.cookies.append(a)

    def cookie_values(self, secure):
        # The Set-Cookie values, for a server that runs over TLS when secure is True.
        return [
            cookie.build(*a[:6], secure=secure if a[6] is None else a[6]) for a in self.cookies
        ]


# -- writing answers (the server's slow path: anything but plain bytes or str) ----------------
def _ctype(srv, ct):
    line = srv._ctypes.get(ct)
    if line is None:
        if "\r" in ct or "\n" in ct:
            raise ValueError("bad content type")
        line = b"Content-Type: " + ct.encode() + b"\r\n"
        if len(srv._ctypes) < 8:
            srv._ctypes[ct] = line
    return line


def emit(srv, writer, req, status, r, keep, extra=None):
    # Write one response: r is the handler's answer (Response, str, bytes, dict, list or
    # None) or None for the server's own status answers.
    ct = TEXT
    resp = None
    if r is None:
        if status == 200:
            status = 204
            ct = None
            body = b""
        else:
            body = REASONS.get(status, b"Error") + b"\n"
    elif isinstance(r, _BYTES):
        body = r
        ct = HTML
    elif isinstance(r, _STR):
        body = r.encode()
        ct = HTML
    elif isinstance(r, Response):
        resp = r
        status = r.status
        ct = r.content_type
        body = r.body
        if isinstance(body, _STR):
            body = body.encode()
    elif isinstance(r, _JSONABLE):
        body = json.dumps(r).encode()
        ct = JSON
    else:
        raise TypeError("a handler returns a Response, str, bytes, dict, list or None")
    bare = status < 200 or status == 204 or status == 304
    if bare:
        body = b""
    out = srv._out
    hl = 0
    if extra is not None or req._cookies_out is not None or resp is not None:
        hl = _extras_len(req, resp, extra)
        if hl + 160 > len(out):
            out = bytearray(hl + 160 + len(ct or ""))
    p = put(out, 0, b"HTTP/1.1 ")
    p = digits(out, p, status)
    out[p] = 32
    p = put(out, p + 1, REASONS.get(status, b""))
    p = put(out, p, b"\r\n")
    if ct and not bare:
        p = put(out, p, _ctype(srv, ct))
    if not bare:
        p = put(out, p, b"Content-Length: ")
        p = digits(out, p, len(body))
        p = put(out, p, b"\r\n")
    if not keep:
        p = put(out, p, b"Connection: close\r\n")
    elif req.minor == 0:
        p = put(out, p, b"Connection: keep-alive\r\n")
    if hl:
        p = _put_extras(srv, out, p, req, resp, extra)
    p = put(out, p, b"\r\n")
    if req.method == "HEAD":
        body = b""
    if body and p + len(body) <= len(out):
        p = put(out, p, body)
        body = b""
    if out is srv._out and srv._direct:
        writer.write(srv._omv[:p])  # MicroPython's stream sends or copies at once
    else:
        writer.write(bytes(out[:p]))
    if body:
        writer.write(body)


def _extras_len(req, resp, extra):
    n = len(extra) if extra is not None else 0
    if resp is not None:
        if resp._h:
            for k, v in resp._h.items():
                n += len(k) + len(str(v)) * 3 + 4
        if resp.cookies:
            for a in resp.cookies:
                n += len(a[0]) + len(a[1]) + len(a[3]) + len(a[5] or "") + 80
    if req._cookies_out is not None:
        for v in req._cookies_out:
            n += len(v) + 22
    return n + 1


def _put_extras(srv, out, p, req, resp, extra):
    if extra is not None:
        p = put(out, p, extra)
    if resp is not None:
        if resp._h:
            for k, v in resp._h.items():
                line = "%s: %s\r\n" % (k, v)
                if line.count("\r") != 1 or line.count("\n") != 1 or k.find(":") >= 0:
                    raise ValueError("bad response header %r" % k)
                p = put(out, p, line.encode())
        if resp.cookies:
            for v in resp.cookie_values(srv.SECURE):
                p = put(out, p, b"Set-Cookie: ")
                p = put(out, p, v.encode())
                p = put(out, p, b"\r\n")
    if req._cookies_out is not None:
        for v in req._cookies_out:
            p = put(out, p, b"Set-Cookie: ")
            p = put(out, p, v.encode())
            p = put(out, p, b"\r\n")
    return p
