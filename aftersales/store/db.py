"""Connecting to the database and bringing its schema up to date."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import PlanStep

MODELS = "aftersales.store.models"
MIGRATIONS = "aftersales.store.migrations"


class DatabaseUnavailable(Exception):
    """The database cannot be reached or migrated; the message says where and why."""


async def _keep_session(_connection: Any) -> None:
    """asyncpg's pool, given this as `reset`, still rolls back a transaction left open and
    drops listeners, but no longer sends `RESET ALL; CLOSE ALL; UNLISTEN *;
    pg_advisory_unlock_all()` each time a connection goes back to the pool: Tortoise takes a
    pooled connection for every statement outside a transaction, so that was one more round
    trip per statement (4 more for a page of 50). Nothing here changes session state: no SET,
    LISTEN or cursor, and the one session-level advisory lock (store/sweeps.py) is unlocked
    by the code that took it."""


def _connection(url: str) -> str | dict[str, Any]:
    """The connection as Tortoise takes it: the URL itself, or for PostgreSQL the URL's
    settings with `_keep_session` as the pool's reset."""
    if not url.startswith(("postgres://", "asyncpg://")):
        return url
    try:
        expanded = expand_db_url(url)
    except Exception:  # Tortoise.init reports a bad URL the way it always did
        return url
    if expanded.get("engine") != "tortoise.backends.asyncpg":
        return url
    expanded["credentials"]["reset"] = _keep_session
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


def _describe(url: str) -> str:
    """The URL without its password, for error messages."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        rest = f"{creds.split(':')[0]}:***@{host}" if ":" in creds else f"{creds}@{host}"
    return f"{scheme}://{rest}"


async def connect(url: str) -> None:
    """Open the connections (the schema must already be migrated).

    The context is made global so that every task (uvicorn runs the lifespan and the requests
    in different tasks) sees the same connections.
    """
    try:
        await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
        await connections.get("default").execute_query("SELECT 1")
    except (DBConnectionError, OperationalError, OSError, ValueError) as exc:
        await close()
        raise DatabaseUnavailable(
            f"cannot connect to the database at {_describe(url)}: {exc}"
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
        await run_migrations(config=tortoise_config(url), reporter=planned, progress=progress)
    except (DBConnectionError, OperationalError, OSError) as exc:
        raise DatabaseUnavailable(
            f"cannot migrate the database at {_describe(url)}: {exc}"
        ) from None
    finally:
        await close()
    await connect(url)
    return Migrated(tuple(applied), created=bool(initial.intersection(applied)))


async def close() -> None:
    # Forget the models' bindings and cached SQL too, so that a later connect() to another kind
    # of database (the tests switch between SQLite and PostgreSQL) uses the right dialect.
    await Tortoise._reset_apps()
    await Tortoise.close_connections()
    EXECUTOR_CACHE.clear()
