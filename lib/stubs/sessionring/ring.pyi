from typing import Any, Iterator

from .session import (
    ROLE_ADMIN as ROLE_ADMIN,
)
from .session import (
    ROLE_ANON as ROLE_ANON,
)
from .session import (
    ROLE_USER as ROLE_USER,
)
from .session import (
    RingFull as RingFull,
)
from .session import (
    SessionDataFull as SessionDataFull,
)
from .session import (
    SessionEnded as SessionEnded,
)
from .session import (
    Uptime,
    _View,
)

HEADER: int
USER_BYTES: int

class Session(_View):
    def __init__(self, ring: SessionRing) -> None: ...

class SessionRing(Uptime):
    idle_s: int
    absolute_s: int
    per_user: int
    data_bytes: int
    def __init__(
        self,
        slots: int = 16,
        data_bytes: int = 64,
        idle_s: int = 900,
        absolute_s: int = 43200,
        per_user: int = 4,
        clock: Any = ...,
    ) -> None: ...
    def tick(self) -> int: ...
    def view(self) -> Session: ...
    def pending(self, view: Session) -> str | None: ...
    @property
    def capacity(self) -> int: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[Session]: ...
    def stats(self) -> dict[str, int]: ...
    def get(self, tok: str | bytes, into: Session | None = None) -> Session | None: ...
    def touch(self, x: Session | str) -> bool: ...
    def revoke(self, x: Session | str | None) -> bool: ...
    def create(self, user: str | bytes, role: int = ...) -> Session: ...
    def rotate(self, x: Session | str) -> Session: ...
    def revoke_user(self, user: str, keep: Session | str | None = None) -> int: ...
    def by_handle(self, handle: str) -> Session | None: ...
