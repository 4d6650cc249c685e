"""The store's repositories for tests that call one method at a time: `read("sales")` runs each
call on the read handle, `write("credentials")` each in a unit of work of its own, as the
service's callers do (aftersales/store/uow.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from aftersales.store.uow import reading, uow


class _EachCallItsOwn:
    def __init__(self, door: Callable[[], AbstractAsyncContextManager[Any]], repo: str) -> None:
        self._door = door
        self._repo = repo

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            async with self._door() as handle:
                return await getattr(getattr(handle, self._repo), name)(*args, **kwargs)

        return call


def read(repo: str) -> Any:
    """`reading()`'s repository `repo`, each call on the read handle."""
    return _EachCallItsOwn(reading, repo)


def write(repo: str) -> Any:
    """`uow()`'s repository `repo`, each call in a unit of work of its own."""
    return _EachCallItsOwn(uow, repo)
