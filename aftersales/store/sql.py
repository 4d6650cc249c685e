"""Small SQL helpers shared by the repositories: the dialect, placeholders, insert-or-existing."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError

Connection = BaseDBAsyncClient
T = TypeVar("T")


def dialect(conn: Connection) -> str:
    """ "postgres" or "sqlite"."""
    return str(conn.capabilities.dialect)


def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...`."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


async def insert_or_none(
    conn: Connection, insert: Callable[[Connection], Awaitable[T]]
) -> T | None:
    """Run `insert` in a savepoint of `conn`'s transaction; None when a unique constraint says
    the row exists already (a concurrent writer inserted it first). The savepoint keeps the
    caller's transaction usable after the refused insert (PostgreSQL aborts it otherwise)."""
    try:
        async with conn._in_transaction() as savepoint:
            return await insert(savepoint)
    except IntegrityError:
        return None
