"""A SQLite writer waits up to 30 s for another (the service's jobs beside a CLI command) before
"database is locked"; a `busy_timeout` in the URL is kept."""

from __future__ import annotations

from pathlib import Path

from tortoise import connections

from aftersales.store import db


async def _busy_timeout(url: str) -> int:
    await db.connect(url)
    try:
        rows = await connections.get("default").execute_query_dict("PRAGMA busy_timeout")
        return int(next(iter(rows[0].values())))
    finally:
        await db.close()


async def test_a_sqlite_database_waits_30_seconds_for_a_busy_writer(tmp_path: Path) -> None:
    assert await _busy_timeout(f"sqlite://{tmp_path}/a.db") == 30_000


async def test_a_busy_timeout_in_the_url_wins(tmp_path: Path) -> None:
    assert await _busy_timeout(f"sqlite://{tmp_path}/b.db?busy_timeout=1234") == 1234
