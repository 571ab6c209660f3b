# Answers: what a handler returns (Response, or a plain str, bytes, dict, list or None), and
# the wire format every answer is written in.
#
# The server keeps one Wire (the Content-Type lines it has made). An answer's head and, when it
# fits, its body are assembled in the scratch buffer of the work slot that serves the request
# and sent with one write(): head() writes the status line and the framing headers for every
# answer, the fast path (fast_answer) included, so the format lives in this one place. The
# helpers are plain functions with few locals: on MicroPython such a call keeps its frame on
# the C stack instead of allocating one on the heap.
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
    421: b"Misdirected Request",
    422: b"Unprocessable Content",
    429: b"Too Many Requests",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
    501: b"Not Implemented",
    503: b"Service Unavailable",
    505: b"HTTP Version Not Supported",
}

# Sent straight to a socket when no slot or no memory is left for anything better.
E503 = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 20\r\nRetry-After: 1\r\nConnection: close\r\n\r\nService Unavailable\n"
)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
HTML_LINE = b"Content-Type: text/html; charset=utf-8\r\n"

# The Connection header of an answer: none, close, or keep-alive (said to HTTP/1.0 clients).
_CONN = (b"", b"Connection: close\r\n", b"Connection: keep-alive\r\n")

_STR = (str,)
_BYTES = (bytes, bytearray, memoryview)
_JSONABLE = (dict, list)


class Response:
    # Attributes most answers leave alone are class defaults: an instance stores only what it
    # sets (on MicroPython every instance attribute grows the instance's own table).
    _h = None
    content_type = HTML  # (a subclass may change the defaults and set less per answer)
    cookies = None  # set_cookie() arguments
    lines = None  # header lines encoded once (encode_headers()), sent before .headers

    def __init__(self, body=b"", status=200, headers=None, content_type=HTML):
        self.body = body  # str or bytes
        self.status = status
        if headers is not None:
            self._h = headers
        self.content_type = content_type

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
        # secure None: Secure exactly when the server runs with secure (TLS). The name is used
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

    def header_lines(self):
        # The extra headers as "Name: value\r\n" bytes; ValueError for a name or value that
        # would split the head.
        out = []
        if self._h:
            for k, v in self._h.items():
                line = "%s: %s\r\n" % (k, v)
                if line.count("\r") != 1 or line.count("\n") != 1 or k.find(":") >= 0:
                    raise ValueError("bad response header %r" % k)
                out.append(line.encode())
        return out


def encode_headers(headers):
    # Headers every answer of a kind sends (an app's security headers), as the bytes to put in
    # Response.lines: checked and encoded once instead of at every answer. ValueError as for
    # Response.headers.
    return b"".join(Response(headers=dict(headers)).header_lines())


# -- the wire format ---------------------------------------------------------------------------
def put(out, p, b):
    # b into out at p; the offset after it.
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


def conn_mode(keep, minor):
    # Index into _CONN: 1 close, 2 keep-alive (HTTP/1.0 asked for it), 0 nothing to say.
    return 1 if not keep else (2 if minor == 0 else 0)


def status_line(out, status):
    # "HTTP/1.1 200 OK\r\n" into out from 0; the offset after it.
    r = REASONS.get(status, b"")
    p = digits(out, 9, status)
    out[0:9] = b"HTTP/1.1 "
    out[p] = 32
    p = put(out, p + 1, r)
    return put(out, p, b"\r\n")


def head(out, status, ctline, n, conn):
    # Status line, Content-Type (ctline: a whole line, or None), Content-Length (n < 0: none)
    # and Connection (conn_mode()) into out from 0; the offset after them. Extra headers and
    # the blank line come next. (Few locals, shallow expressions: a frame this small stays on
    # the C stack on MicroPython, so the call allocates nothing.)
    p = status_line(out, status)
    if ctline:
        p = put(out, p, ctline)
    if n >= 0:
        p = put(out, p, b"Content-Length: ")
        p = digits(out, p, n)
        p = put(out, p, b"\r\n")
    return put(out, p, _CONN[conn])


def place(w, out, p, body):
    # Head out[:p] (ending with the blank line) and body, for work slot w to send: the body
    # goes after the head when it fits (one write), else it is sent on its own. The offset of
    # the end of what is in out.
    if body and p + len(body) <= len(out):
        p = put(out, p, body)
        body = None
    w.head = out
    w.body = body or None
    return p


def _plain(r, room):
    # r is a Response whose answer fast_answer can make: no header dict, no cookies, a
    # status with a body and a type, and its encoded lines and type fit the scratch with the
    # status line, the framing headers and the Date.
    return (
        isinstance(r, Response)
        and r._h is None
        and r.cookies is None
        and r.content_type
        and 200 <= r.status
        and r.status != 204
        and r.status != 304
        and (len(r.lines) if r.lines else 0) + len(r.content_type) + 240 <= room
    )


def fast_answer(wire, w, req, r, keep):
    # The common answer, made in work slot w's scratch without Wire.answer's frame: a handler's
    # str or bytes (HTML), or a plain Response, with no cookies to set. The offset of the end
    # of the answer's bytes in w.out (w.body: a body that did not fit after the head), or -1
    # when the answer is not that simple.
    if req.cookies_out is not None:
        return -1
    out = w.out
    t = type(r)
    if t is str:
        r = r.encode()
        t = bytes
    if t is bytes:
        p = wire.date(out, head(out, 200, HTML_LINE, len(r), conn_mode(keep, req.minor)))
    elif _plain(r, len(out)):
        b = r.body
        if type(b) is str:
            b = b.encode()
        p = head(out, r.status, wire.ctype(r.content_type), len(b), conn_mode(keep, req.minor))
        p = wire.date(out, p)
        if r.lines:
            p = put(out, p, r.lines)
        r = b
    else:
        return -1
    p = put(out, p, b"\r\n")
    return place(w, out, p, b"" if req.method == "HEAD" else r)


def set_cookie_lines(out, p, values):
    for v in values:
        p = put(out, p, b"Set-Cookie: ")
        p = put(out, p, v.encode())
        p = put(out, p, b"\r\n")
    return p


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_line(wall_s, gmtime):
    # b"Date: Mon, 07 Dec 2026 19:05:00 GMT\r\n" for wall_s seconds of the port's epoch, or
    # b"" when the clock reads a year before 2024: a clock that was never set (a board boots
    # at its epoch) must not put a date on an answer (RFC 9110 6.6.1).
    t = gmtime(wall_s)
    if t[0] < 2024:
        return b""
    return (
        "Date: %s, %02d %s %d %02d:%02d:%02d GMT\r\n"
        % (_DAYS[t[6]], t[2], _MONTHS[t[1] - 1], t[0], t[3], t[4], t[5])
    ).encode()


class Wire:
    # The server's answer format: whether it runs over TLS (cookies), the Date line and the
    # Content-Type lines made so far. Answers are made in the scratch of the work slot that
    # serves them. The Date line is made again when a second has passed on the ticks clock
    # (reading the wall clock at every answer would allocate: its seconds are no small int on
    # a 32-bit board), from wall: an object with time() and gmtime(), or None for no Date.
    def __init__(self, secure, wall=None, clock=None):
        self.secure = secure
        self.wall = wall
        self.clock = clock
        self._at = 0  # ticks_ms when the Date line was made
        self.dline = None
        self._ctypes = {HTML: HTML_LINE}

    def date(self, out, p):
        # The Date line into out at p, when the wall clock is set; the offset after it.
        w = self.wall
        if w is None:
            return p
        now = self.clock.ticks_ms()
        if self.dline is None or self.clock.ticks_diff(now, self._at) >= 1000:
            self._at = now
            self.dline = date_line(int(w.time()), w.gmtime)
        return put(out, p, self.dline)

    def ctype(self, ct):
        line = self._ctypes.get(ct)
        if line is None:
            if "\r" in ct or "\n" in ct:
                raise ValueError("bad content type")
            line = b"Content-Type: " + ct.encode() + b"\r\n"
            if len(self._ctypes) < 8:
                self._ctypes[ct] = line
        return line

    def answer(self, w, req, status, r, keep, extra=None):
        # Make one answer in work slot w (w.head, w.body); the offset of its end in w.head.
        # r: the handler's answer (Response, str, bytes, dict, list or None),
        # or None for the server's own status answers; extra: more header lines (bytes).
        # TypeError for anything else a handler returned, ValueError for a bad header.
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
        lines = None
        cookies = req.cookies_out
        pre = None
        if resp is not None:
            if resp._h:
                lines = resp.header_lines()
            pre = resp.lines
            if resp.cookies:
                c = resp.cookie_values(self.secure)
                cookies = c if cookies is None else c + cookies
        need = 200 + (len(ct) if ct else 0) + (len(extra) if extra else 0)
        if pre:
            need += len(pre)
        for line in lines or ():
            need += len(line)
        for v in cookies or ():
            need += len(v) + 14
        out = w.out
        if need > len(out):
            out = bytearray(need)
        p = head(
            out,
            status,
            None if bare or not ct else self.ctype(ct),
            -1 if bare else len(body),
            conn_mode(keep, req.minor),
        )
        p = self.date(out, p)
        if extra:
            p = put(out, p, extra)
        if pre:
            p = put(out, p, pre)
        for line in lines or ():
            p = put(out, p, line)
        if cookies:
            p = set_cookie_lines(out, p, cookies)
        p = put(out, p, b"\r\n")
        return place(w, out, p, b"" if bare or req.method == "HEAD" else body)
