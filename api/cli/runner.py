"""What every subcommand shares: the error meant for the terminal, and running a coroutine with
the database open (and the schema migrated)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from aftersales.settings import Settings
from aftersales.store import db


class UserFacingError(Exception):
    """An error meant for the person at the terminal: printed, no traceback, exit 1."""


def check_sqlite_directory(url: str) -> None:
    """A SQLite file in a missing directory fails inside aiosqlite's worker thread, which then
    prints its own traceback after the event loop is gone: say what is wrong before trying."""
    if not url.startswith("sqlite://"):
        return
    path = url.removeprefix("sqlite://").partition("?")[0]
    if path and path != ":memory:" and not Path(path).parent.is_dir():
        raise UserFacingError(
            f"cannot open the SQLite database {path}: the directory {Path(path).parent}"
            " does not exist (create it, or fix DATABASE_URL)"
        )


def run_with_database(
    coro: Coroutine[Any, Any, int], settings: Settings, *, migrate: bool = True
) -> int:
    try:
        check_sqlite_directory(settings.database_url)
    except UserFacingError:
        coro.close()
        raise

    async def main() -> int:
        try:
            if migrate:
                await db.migrate(settings.database_url)
            else:
                await db.connect(settings.database_url)
        except BaseException:
            coro.close()  # never started: no "coroutine was never awaited" warning on stderr
            raise
        try:
            return await coro
        finally:
            await db.close()

    return asyncio.run(main())
