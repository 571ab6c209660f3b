from typing import Any, Awaitable, Callable

from .request import Request
from .response import Response as Response

_Handler = Callable[[Request], Any | Awaitable[Any]]

class Server:
    max_request_line: int
    max_head: int
    max_headers: int
    max_body: int
    buf_size: int
    out_size: int
    request_timeout_ms: int
    write_timeout_ms: int
    keepalive_ms: int
    first_request_ms: int
    linger_ms: int
    stall_ms: int
    max_conns: int
    work_slots: int
    max_per_client: int
    backlog: int
    fresh_idle_ms: int
    heap_reserve: int
    cookie_name: str
    bearer: bool
    token_param: str | None
    secure: bool
    hosts: tuple[str, ...] | None
    date: bool
    wall: Any
    handler_json_errors: bool
    tls: Any
    tls_conns: int
    tls_handshakes: int
    handshake_ms: int
    tls_keepalive_ms: int
    @property
    def requests(self) -> int: ...
    @property
    def evicted(self) -> int: ...
    @property
    def refused(self) -> int: ...
    @property
    def timeouts(self) -> int: ...
    @property
    def errors(self) -> int: ...
    store: Any
    port: int | None
    on_error: Callable[[Request, BaseException], None] | None
    def __init__(
        self, store: Any = None, clock: Any = None, ring: Any = None, **options: Any
    ) -> None: ...
    @property
    def ring(self) -> Any: ...
    @property
    def session_cookie(self) -> str: ...
    def stats(self) -> dict[str, int]: ...
    def route(
        self, path: str, methods: tuple[str, ...] = ("GET",)
    ) -> Callable[[_Handler], _Handler]: ...
    def run(self, host: str = "0.0.0.0", port: int = 80) -> None: ...
    def close(self) -> None: ...
    def check_timeouts(self) -> int: ...
    async def serve(self, host: str = "0.0.0.0", port: int = 80) -> None: ...
