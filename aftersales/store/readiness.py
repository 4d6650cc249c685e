"""Is the database ready to serve: reachable, and its schema at the latest migration (GET /readyz).

Read-only and cheap: `SELECT 1`, one catalog lookup, one small SELECT of Tortoise's own record of
the applied migrations (`tortoise_migrations`), compared with the migration files shipped in
aftersales/store/migrations. It never migrates: `aftersales serve` and `aftersales migrate` do.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import pkgutil
from dataclasses import dataclass, field

from aftersales.store.db import MIGRATIONS
from aftersales.store.sql import Connection, dialect

# Where Tortoise records each applied migration, and the app label of ours (store/db.py's config).
RECORD_TABLE = "tortoise_migrations"
APP_LABEL = "models"
DEFAULT_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Readiness:
    """`problem` says what is wrong, for an operator; None when ready."""

    problem: str | None
    reachable: bool
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.problem is None


@functools.cache
def shipped_migrations() -> tuple[str, ...]:
    """The migrations this code needs, in order: the modules of aftersales/store/migrations
    (the names Tortoise's loader takes: not packages, not starting with `_` or `~`)."""
    package = importlib.import_module(MIGRATIONS)
    return tuple(
        sorted(
            name
            for _, name, is_package in pkgutil.iter_modules(package.__path__)
            if not is_package and name[0] not in "_~"
        )
    )


class Health:
    """The database's readiness, on the read handle (`reading()` in aftersales/store/uow.py)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def check(self, *, within: float | None = None) -> Readiness:
        """Whether the database answers within `within` seconds (DEFAULT_TIMEOUT_SECONDS) and
        has every shipped migration. A database that hangs makes a probe fail, not hang."""
        within = DEFAULT_TIMEOUT_SECONDS if within is None else within
        try:
            async with asyncio.timeout(within):
                return await _check(self._conn)
        except TimeoutError:
            return Readiness(f"the database did not answer within {within:g} s", reachable=False)


async def _check(conn: Connection) -> Readiness:
    try:
        await conn.execute_query("SELECT 1")
    except Exception as exc:  # whatever the driver raises: refused, timed out, not connected
        return Readiness(f"cannot reach the database: {_one_line(exc)}", reachable=False)
    shipped = shipped_migrations()
    try:
        applied = await _applied(conn)
    except Exception as exc:
        return Readiness(
            f"cannot read the applied migrations: {_one_line(exc)}",
            reachable=True,
            pending=list(shipped),
        )
    if applied is None:
        return Readiness(
            "the schema was never migrated: run `aftersales migrate`",
            reachable=True,
            pending=list(shipped),
        )
    pending = [name for name in shipped if name not in applied]
    if pending:
        return Readiness(
            f"{len(pending)} migration(s) not applied: {', '.join(pending)};"
            " run `aftersales migrate`",
            reachable=True,
            applied=sorted(applied),
            pending=pending,
        )
    return Readiness(None, reachable=True, applied=sorted(applied))


async def _applied(conn: Connection) -> set[str] | None:
    """The names of our applied migrations; None when the record table does not exist."""
    if dialect(conn) == "postgres":
        exists = f"SELECT to_regclass('{RECORD_TABLE}') IS NOT NULL AS found"
    else:
        exists = (
            "SELECT count(*) > 0 AS found FROM sqlite_master"
            f" WHERE type = 'table' AND name = '{RECORD_TABLE}'"
        )
    _, rows = await conn.execute_query(exists)
    if not rows or not rows[0]["found"]:
        return None
    placeholder = "$1" if dialect(conn) == "postgres" else "?"
    _, rows = await conn.execute_query(
        f'SELECT "name" FROM "{RECORD_TABLE}" WHERE "app" = {placeholder}', [APP_LABEL]
    )
    return {str(row["name"]) for row in rows}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
