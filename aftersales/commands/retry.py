"""Optimistic concurrency, shared by every command: a lost version check is retried."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aftersales.domain.errors import Conflict

MAX_ATTEMPTS = 5

R = TypeVar("R")


class Lost(Exception):
    """The version check failed (or a concurrent insert won): retry from a fresh read."""


async def retrying(attempt: Callable[[], Awaitable[R]], *, attempts: int = MAX_ATTEMPTS) -> R:
    """Run `attempt` (one unit of work or savepoint) until it does not raise `Lost`, `attempts`
    times at most; then `Conflict`. Each lost attempt means another writer won, so n writers
    racing on one row need at most n attempts each."""
    for _ in range(attempts):
        try:
            return await attempt()
        except Lost:
            continue
    raise Conflict("the after-sale kept changing while this action was applied; try again")
