"""A pooled PostgreSQL connection goes back to the pool without a reset round trip: Tortoise
takes one from the pool for every statement outside a transaction (aftersales/store/db.py)."""

from __future__ import annotations

import asyncpg
import pytest
from tortoise import connections

from aftersales.store import db

pytestmark = pytest.mark.postgres

MARK = "SELECT 'pool-release-marker'"


async def test_a_statement_is_the_last_thing_its_connection_sent(postgres_url: str) -> None:
    await db.connect(postgres_url)
    try:
        conn = connections.get("default")
        pid = (await conn.execute_query_dict("SELECT pg_backend_pid() AS pid"))[0]["pid"]
        await conn.execute_query(MARK)  # the pool's one idle connection again (min_size 1)

        watcher = await asyncpg.connect(postgres_url)
        try:
            last = await watcher.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
        finally:
            await watcher.close()
    finally:
        await db.close()

    assert (
        last == MARK
    )  # asyncpg's default reset would have sent `SELECT pg_advisory_unlock_all(); ...`


async def test_a_transaction_left_open_is_still_rolled_back(postgres_url: str) -> None:
    await db.connect(postgres_url)
    try:
        pool = connections.get("default")._pool
        async with pool.acquire() as raw:
            await raw.execute("BEGIN")
            await raw.execute("SELECT 1")
        async with pool.acquire() as raw:
            in_transaction = raw.is_in_transaction()
    finally:
        await db.close()

    assert not in_transaction
