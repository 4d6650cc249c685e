"""What every subcommand shares: the error meant for the terminal, and running a coroutine with
the database open (and the schema migrated)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from aftersales.commands.credentials import any_shop_has_credentials
from aftersales.settings import SECRET_KEY_NAME, Settings
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


async def _warn_of_a_new_key_beside_old_credentials(settings: Settings) -> None:
    """Development on PostgreSQL keeps its key in the working directory's secrets file: a
    command run from another folder generates a second key, which cannot read what the first
    encrypted. Say so the moment it happens, not at the first failed decryption."""
    if not settings.secret_key_generated or not await any_shop_has_credentials():
        return
    print(
        f"warning: {SECRET_KEY_NAME} was generated just now in {settings.secrets_file()}, but"
        " shops in this database already have credentials encrypted with another key, which"
        f" this one cannot read: set {SECRET_KEY_NAME} to the key they were stored with (or run"
        " from the folder whose aftersales.secrets holds it)",
        file=sys.stderr,
        flush=True,
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
            await _warn_of_a_new_key_beside_old_credentials(settings)
            return await coro
        finally:
            await db.close()

    return asyncio.run(main())
