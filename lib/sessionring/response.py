# What a handler returns when a plain str, bytes, dict or list is not enough.
import json

from . import cookie

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"


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
