# One HTTP request, parsed in place from its connection's buffer (head.py has the parser). The
# server keeps one Request per connection and reuses it for every request on that connection,
# so a handler must not keep `req` (or req.session) after it returns. Everything but the few
# headers the server needs (headers dict, query, form, cookies, client address) is decoded on
# first use. Session binding (finding the token, starting, rotating and ending sessions) is
# binding.py's, reached through the server's Binding that each Request is handed.
import json

from . import cookie
from .head import Limits, _name_is, parse_qs, unquote  # noqa: F401 - Limits, unquote: API


class Request:
    def __init__(self, buf, limits, binding, view):
        self.buf = buf  # the connection's buffer, reused for every request on it
        self._lim = limits
        self._bind = binding  # the server's session Binding (binding.py), or None
        self.view = view  # this connection's reusable session view (or None)
        self.client_raw = None
        self.reset()

    @classmethod
    def make(cls, method, path, headers=None, body=b"", store=None, client=None, binding=None):
        # A parsed Request from plain values, as the server hands it to a handler: for tests
        # and tools, with no socket and no buffer to build. headers: a dict or (name, value)
        # pairs (Host: localhost and Content-Length are added when missing); body: bytes or
        # str (JSON is decoded as the server does); client: (address, port). store: a session
        # store; the session its cookie "sid" or Bearer header names is bound as the server
        # binds it (binding: a Binding of your own instead). Then call the handler, and
        # finish() for the Set-Cookie values the server would send. ValueError for a request
        # the server would refuse (the status is in the message).
        if type(body) is str:
            body = body.encode()
        items = headers.items() if isinstance(headers, dict) else headers or ()
        lines = ["%s %s HTTP/1.1" % (method, path)]
        names = []
        for k, v in items:
            lines.append("%s: %s" % (k, v))
            names.append(k.lower())
        if "host" not in names:
            lines.append("Host: localhost")
        if body and "content-length" not in names:
            lines.append("Content-Length: %d" % len(body))
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        if binding is None and store is not None:
            from .binding import Binding

            binding = Binding(store, "sid", False, True, None)
        st = binding.store if binding is not None else None
        req = cls(bytearray(head), Limits(512, 24, None), binding, st.view() if st else None)
        status = req.parse(len(head) - 4)
        if status:
            raise ValueError("the server would answer %d" % status)
        req.body = body
        req.client_raw = client if client is not None else ("127.0.0.1", 0)
        if not req.decode_json():
            raise ValueError("the server would answer 400: the body is not valid JSON")
        if st is not None:
            binding.find(req)
        return req

    def reset(self):
        self.method = ""
        self.path = ""
        self.body = b""
        self.json = None
        self.json_error = None  # why the application/json body did not decode, or None
        self.session = None
        self.minor = 1  # HTTP/1.minor
        self.keep = True
        self.length = -1  # Content-Length, -1 when absent
        self.head_end = 0  # offset of the blank line ending the head
        self.expect = False  # Expect: 100-continue
        self._qs = -1  # query string start..end in the buffer (-1: none)
        self._qe = -1
        self._ck = -1  # Cookie value start..end
        self._cke = -1
        self._sid = -1  # where the session cookie's value starts (cookie.token_at), or -1
        self._ho = -1  # Host value start..end
        self._hoe = -1
        self._au = -1  # Authorization value start..end
        self._aue = -1
        self._ct = -1  # Content-Type value start..end
        self._cte = -1
        self._q = None
        self._f = None
        self._h = None
        self._c = None
        self.cookies_out = None  # Set-Cookie values queued by the session binding
        self.issued = None  # the session whose new token this request is to deliver

    # -- head parsing ------------------------------------------------------------------------
    def parse(self, end):
        # Parse buf[:end + 4] (end = offset of the blank line). Returns 0 or an error status.
        self.head_end = end
        return self._lim.parser.send(self)

    # -- what handlers read ---------------------------------------------------------------------
    def _text(self, s, e):
        # The bytes s..e as str; None when absent or not UTF-8 (treated as not sent).
        if s < 0:
            return None
        try:
            return self.buf[s:e].decode()
        except UnicodeError:
            return None

    def header_bytes(self, s, e):
        return memoryview(self.buf)[s:e]

    def content_type(self):
        # Media type in lower case without parameters, "" when absent.
        if self._ct < 0:
            return ""
        t = self._text(self._ct, self._cte)
        if t is None:
            return "?"  # not UTF-8: a type no handler accepts
        return t.split(";")[0].strip().lower()

    @property
    def query(self):
        if self._q is None:
            self._q = parse_qs(self.buf[self._qs : self._qe]) if self._qs >= 0 else {}
        return self._q

    @property
    def form(self):
        if self._f is None:
            f = {}
            if self.body and self.content_type() == "application/x-www-form-urlencoded":
                f = parse_qs(self.body)
            self._f = f
        return self._f

    @property
    def headers(self):
        # lower-case names -> values; repeated headers joined with ", " ("; " for cookie)
        if self._h is None:
            h = {}
            buf = self.buf
            end = self.head_end
            pos = buf.find(b"\r\n", 0, end + 2) + 2
            while 0 < pos < end + 2:
                e = buf.find(b"\r\n", pos, end + 2)
                c = buf.find(b":", pos, e)
                try:
                    k = bytes(buf[pos:c]).decode().lower()
                    v = bytes(buf[c + 1 : e]).decode().strip()
                except UnicodeError:
                    k = None
                if k:
                    h[k] = h[k] + ("; " if k == "cookie" else ", ") + v if k in h else v
                pos = e + 2
            self._h = h
        return self._h

    @property
    def cookies(self):
        if self._c is None:
            self._c = cookie.parse(self.buf[self._ck : self._cke]) if self._ck >= 0 else {}
        return self._c

    def cookie_value(self, bname, name):
        # The session cookie's value as a copy of its bytes (the buffer is reused), or None: the
        # head parser found it (cookie.token_at, strict) under the server's cookie name; bname,
        # name: that name (kept for callers of the older signature). Allocates only the copy.
        at = self._sid
        if at < 0:
            return None
        return self.buf[at : cookie.token_end(self.buf, at, self._cke)]

    def bearer(self):
        # The token of "Authorization: Bearer <token>", or None. One form (RFC 6750 2.1): the
        # scheme in any case, spaces, then the token with no space, tab or quote in it.
        s = self._au
        e = self._aue
        b = self.buf
        if s < 0 or e - s <= 7 or not _name_is(b, s, b"bearer "):
            return None
        s += 7
        while s < e and b[s] == 0x20:
            s += 1
        if b.find(b" ", s, e) >= 0 or b.find(b"\t", s, e) >= 0 or b.find(b'"', s, e) >= 0:
            return None
        return self._text(s, e)

    @property
    def client_addr(self):
        # client_raw: the host as text, a (host, port) tuple, or a raw sockaddr
        a = self.client_raw
        if isinstance(a, str):
            return a
        if isinstance(a, tuple):
            return a[0]
        try:  # MicroPython: a raw sockaddr
            import socket

            f = socket.sockaddr(a)
            return socket.inet_ntop(f[0], f[1])
        except Exception:  # noqa: BLE001 - an address we cannot read is not an error
            return ""

    def decode_json(self):
        # Called by the server before the handler: False (the server answers 400) when the
        # body is not UTF-8 JSON without a BOM, unless the server leaves that to the handler
        # (Server.handler_json_errors: then req.json_error says why).
        if self.body and self.content_type() == "application/json":
            try:
                text = self.body.decode()
            except UnicodeError:
                self.json_error = "the body is not UTF-8"
                return self._lim.handler_json_errors
            if text and text[0] == "\ufeff":
                self.json_error = "the body starts with a byte order mark"
                return self._lim.handler_json_errors
            try:
                self.json = json.loads(text)
            except Exception:  # noqa: BLE001 - ValueError, or CPython's RecursionError on [[[...
                self.json_error = "the body is not valid JSON"
                return self._lim.handler_json_errors
        return True

    # -- sessions (binding.py does the work) ----------------------------------------------------
    def _binding(self):
        if self._bind is None:
            raise ValueError("the server has no session store")
        return self._bind

    def start_session(self, user, role=1):
        # A new session (new token: no fixation) for user; the request's own session, if any,
        # is revoked first. Sets the cookie. Raises ring.RingFull (503 if not caught).
        return self._binding().start(self, user, role)

    def end_session(self):
        # Revoke the current session (if any) and clear the cookie.
        self._binding().end(self)

    def rotate_session(self):
        # A new token for the current session (same user, role and data); re-sets the cookie.
        return self._binding().rotate(self)

    def finish(self):
        # What the server does once the handler returned: the Set-Cookie values to send with
        # the answer (a list, maybe empty). For a Request.make() request; the server calls
        # its Binding itself.
        self._binding().finish(self)
        out = self.cookies_out or []
        self.cookies_out = None
        return out
