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
        self.cookies = None  # Set-Cookie values: (value, add Secure when the server is on TLS)

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
        # as given (add the __Host- prefix yourself; cookie.name_for helps).
        v = cookie.build(name, value, max_age, path, http_only, same_site, bool(secure))
        if self.cookies is None:
            self.cookies = []
        self.cookies.append((v, secure is None))
        return v
