from typing import Any

class Response:
    body: bytes | str
    status: int
    content_type: str
    cookies: list[str] | None
    def __init__(
        self,
        body: bytes | str = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        content_type: str = "text/html; charset=utf-8",
    ) -> None: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @classmethod
    def redirect(cls, location: str, status: int = 303) -> Response: ...
    @classmethod
    def json(cls, obj: Any, status: int = 200) -> Response: ...
    def set_cookie(
        self,
        name: str,
        value: str,
        max_age: int | None = None,
        path: str = "/",
        http_only: bool = True,
        same_site: str | None = "Strict",
        secure: bool | None = None,
    ) -> None: ...

def encode_headers(headers: dict[str, str]) -> bytes: ...
