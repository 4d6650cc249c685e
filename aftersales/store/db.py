"""Connecting to the database and bringing its schema up to date."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import PlanStep

from aftersales.store import urls

MODELS = "aftersales.store.models"
MIGRATIONS = "aftersales.store.migrations"


class DatabaseUnavailable(Exception):
    """The database cannot be reached or migrated; the message says where and why."""


# Key of the PostgreSQL advisory lock held while one process migrates ("AFMIGRT1" as an int64):
# two replicas starting together on a new release take turns, the second finding nothing to do.
MIGRATE_LOCK_KEY = 0x41464D4947525431


async def _keep_session(_connection: Any) -> None:
    """asyncpg's pool, given this as `reset`, still rolls back a transaction left open and
    drops listeners, but no longer sends `RESET ALL; CLOSE ALL; UNLISTEN *;
    pg_advisory_unlock_all()` each time a connection goes back to the pool: Tortoise takes a
    pooled connection for every statement outside a transaction, so that was one more round
    trip per statement (4 more for a page of 50). Nothing here changes session state: no SET,
    LISTEN or cursor, and the session-level advisory locks (store/uow.py's `exclusive`, the
    migration lock here) are unlocked by the code that took them."""


def _connection(url: str) -> str | dict[str, Any]:
    """What Tortoise is given for `url`: for PostgreSQL, the URL's settings expanded, with the
    libpq options asyncpg spells otherwise (`sslmode`, `connect_timeout`) translated and
    `_keep_session` as the pool's reset; for SQLite, a busy timeout; any other URL as it is."""
    if url.startswith("sqlite://"):
        return _sqlite(url)
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return url
    plain, extra = urls.for_postgres(url)
    try:
        expanded: dict[str, Any] = expand_db_url(plain)
    except Exception:  # Tortoise.init reports a bad URL the way it always did
        return url
    if expanded.get("engine") != "tortoise.backends.asyncpg":
        return url
    expanded["credentials"].update(extra)
    expanded["credentials"]["reset"] = _keep_session
    return expanded


# How long a SQLite writer waits for another (the service's jobs, a CLI command) before "database
# is locked": sqlite3's own 5 s is short on a busy machine. A `busy_timeout` in the URL wins.
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite(url: str) -> str | dict[str, Any]:
    try:
        expanded: dict[str, Any] = expand_db_url(url)
    except Exception:  # Tortoise.init reports a bad URL the way it always did
        return url
    expanded["credentials"].setdefault("busy_timeout", SQLITE_BUSY_TIMEOUT_MS)
    return expanded


def tortoise_config(url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(url)},
        "apps": {
            "models": {
                "models": [MODELS],
                "default_connection": "default",
                "migrations": MIGRATIONS,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# What Tortoise's own command line reads to generate the next migration from models.py (it never
# opens this database): `.venv/bin/tortoise -c aftersales.store.db.TORTOISE_ORM makemigrations`.
TORTOISE_ORM = tortoise_config("sqlite://:memory:")


_describe = urls.describe


def _why(url: str, exc: BaseException) -> str:
    """The driver's reason, in one line, without the password should the driver repeat it."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc.__cause__, asyncpg.InvalidCatalogNameError):
        name = urls.database_name(url)
        return f"database {name} does not exist: create it (createdb {name}) or fix DATABASE_URL"
    for password in urls.passwords(url):
        reason = reason.replace(password, "***")
    return reason


async def connect(url: str) -> None:
    """Open the connections (the schema must already be migrated).

    The context is made global so that every task (uvicorn runs the lifespan and the requests
    in different tasks) sees the same connections.
    """
    try:
        urls.check(url)
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:  # any driver's refusal: asyncpg's, sqlite3's, a bad URL
        # Closing matters: a SQLite file that is not a database leaves aiosqlite's thread
        # running, and the process would never exit.
        with contextlib.suppress(Exception):
            await close()
        raise DatabaseUnavailable(
            f"cannot connect to the database at {_describe(url)}: {_why(url, exc)}"
        ) from None


@dataclass(frozen=True)
class Migrated:
    """What `migrate` did: the migrations it applied, in order (none: already up to date)."""

    applied: tuple[str, ...]
    created: bool  # the database had no schema yet: the initial migration was among them


async def migrate(url: str) -> Migrated:
    """Create or upgrade the schema to the latest migration, then leave connections open."""
    await connect(url)  # fails early, with a clear message, on a bad or unreachable URL
    await close()
    initial: set[str] = set()
    applied: list[str] = []

    def planned(_connection: str, plan: list[PlanStep], _fake: bool, _dry_run: bool) -> None:
        initial.update(step.migration.name for step in plan if step.migration.initial)

    def progress(event: str, _app: str, name: str) -> None:
        if event == "apply_done":
            applied.append(name)

    try:
        async with _migrating_alone(url):
            await run_migrations(config=tortoise_config(url), reporter=planned, progress=progress)
    except (DBConnectionError, OperationalError, OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(
            f"cannot migrate the database at {_describe(url)}: {_why(url, exc)}"
        ) from None
    finally:
        await close()
    await connect(url)
    return Migrated(tuple(applied), created=bool(initial.intersection(applied)))


@contextlib.asynccontextmanager
async def _migrating_alone(url: str) -> AsyncIterator[None]:
    """On PostgreSQL, hold a session advisory lock on a connection of its own while migrating:
    a second process waits, then finds every migration applied. SQLite serialises writers."""
    if not url.startswith("postgres"):
        yield
        return
    plain, extra = urls.for_postgres(url)
    credentials = expand_db_url(plain)["credentials"]
    lock = await asyncpg.connect(
        host=credentials.get("host"),
        port=credentials.get("port"),
        user=credentials.get("user"),
        password=credentials.get("password"),
        database=credentials.get("database"),
        **extra,
    )
    try:
        await lock.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK_KEY)
        yield
    finally:
        await lock.close()  # ends the session, which releases the lock


async def close() -> None:
    # Forget the models' bindings and cached SQL too, so that a later connect() to another kind
    # of database (the tests switch between SQLite and PostgreSQL) uses the right dialect.
    await Tortoise._reset_apps()
    await Tortoise.close_connections()
    EXECUTOR_CACHE.clear()
