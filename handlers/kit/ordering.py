"""One owner's events one after another, in arrival order; different owners at the same time."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Hashable, TypeVar

T = TypeVar("T")


class OwnerQueue:
    """asyncio locks are FIFO, so two quick events of one owner are never reordered, as long as
    the caller enters `turn` before it awaits anything else for that event."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}

    @asynccontextmanager
    async def turn(self, owner: Hashable) -> AsyncIterator[None]:
        lock = self._locks.setdefault(owner, asyncio.Lock())
        self._users[owner] = self._users.get(owner, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[owner] -= 1
            if not self._users[owner]:
                del self._users[owner]
                self._locks.pop(owner, None)

    async def run(self, owner: Hashable, work: Awaitable[T]) -> T:
        async with self.turn(owner):
            return await work

    def busy(self) -> int:
        """Owners with work queued or running (for tests and metrics)."""
        return len(self._users)
