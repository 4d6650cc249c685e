"""The schema's migrations (aftersales/store/migrations/): a database made by 0001 alone, with rows
in it, upgraded by `migrate` keeps them, and ends with the schema an empty database gets; on
SQLite and on PostgreSQL (each test on a database of its own, created and dropped here)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api import migrate as run_migrations

from aftersales.store import db
from aftersales.store.models import ApiToken, InventoryLevel, StockMovement

FIRST = "0001_initial"
SECOND = "0002_token_management_and_64bit_stock"
MIGRATIONS = Path(db.__file__).parent / "migrations"
BIG = 2**40  # past a 32-bit column
T = "'2026-11-20 10:00:00+00:00'"

# Rows as a database running the code of 0001 holds them (raw SQL: the ORM is the new code's).
# Each is the first of its table: id 1.
ROWS_OF_0001 = [
    "INSERT INTO seller (name, created_at) VALUES ('acme', {t})",
    "INSERT INTO api_token (seller_id, token_hash, created_at) VALUES (1, 'h1', {t})",
    "INSERT INTO shop (seller_id, shop_id, region, name, created_at)"
    " VALUES (1, '7494049642642441621', 'MY', 'Shop', {t})",
    "INSERT INTO after_sale (shop_id, return_id, order_id, type, return_status,"
    " dispute_status, sync_status, version, created_at, updated_at) VALUES (1, 'r1', 'o1',"
    " 'RETURN_AND_REFUND', 'RETURNED', 'NONE', 'LOCAL_ONLY', 1, {t}, {t})",
    "INSERT INTO after_sale_item (after_sale_id, sku, quantity) VALUES (1, 'SKU-1', 3)",
    "INSERT INTO warehouse (seller_id, code, name, created_at)"
    " VALUES (1, 'KL', 'Kuala Lumpur', {t})",
    "INSERT INTO inventory_level (warehouse_id, sku, sellable, damaged)"
    " VALUES (1, 'SKU-1', 2147483647, 1)",
    "INSERT INTO stock_movement (warehouse_id, after_sale_id, sku, quantity, condition,"
    " created_at) VALUES (1, 1, 'SKU-1', 2, 'GOOD', {t})",
]


@pytest.fixture
async def empty_database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> AsyncIterator[str]:
    """The URL of a database without any table; closed (and dropped) afterwards."""
    if backend == "sqlite":
        try:
            yield f"sqlite://{tmp_path / 'empty.sqlite3'}"
        finally:
            await db.close()
        return
    server: str = request.getfixturevalue("postgres_url")
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield server.rsplit("/", 1)[0] + "/" + name
        finally:
            await db.close()
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _migrate_to_first_only(url: str) -> None:
    try:
        await run_migrations(config=db.tortoise_config(url), target=f"models.{FIRST}")
    finally:
        await db.close()


async def _schema(url: str) -> dict[str, object]:
    """Tables, their columns' types and their indexes, as the database describes them."""
    conn = connections.get("default")
    if url.startswith("sqlite://"):
        _, tables = await conn.execute_query(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index')"
            " AND name NOT LIKE 'sqlite_%' AND name != 'tortoise_migrations' ORDER BY name"
        )
        return {row["name"]: row["sql"] for row in tables}
    _, columns = await conn.execute_query(
        "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public' ORDER BY table_name, column_name"
    )
    _, indexes = await conn.execute_query(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname"
    )
    return {
        "columns": [tuple(row.values()) for row in columns],
        "indexes": [tuple(row.values()) for row in indexes],
    }


def test_the_second_migration_is_the_last_one_shipped() -> None:
    # If a newer one is added, these tests still hold; the names below must exist.
    names = sorted(p.stem for p in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
    assert names[:2] == [FIRST, SECOND]


async def test_an_empty_database_is_created_by_every_migration(empty_database: str) -> None:
    done = await db.migrate(empty_database)

    assert done.created
    assert done.applied[:2] == (FIRST, SECOND)
    again = await db.migrate(empty_database)
    assert again == db.Migrated(applied=(), created=False)


async def test_a_database_of_the_first_migration_is_upgraded_and_keeps_its_rows(
    empty_database: str,
) -> None:
    url = empty_database
    await _migrate_to_first_only(url)
    await db.connect(url)
    for statement in ROWS_OF_0001:
        await connections.get("default").execute_script(statement.format(t=T))
    await db.close()

    done = await db.migrate(url)

    assert not done.created
    assert done.applied[:1] == (SECOND,)
    token = await ApiToken.get(id=1)
    assert (token.token_hash, token.seller_id, token.revoked_at) == ("h1", 1, None)
    assert (token.name, token.expires_at, token.last_used_at) == (None, None, None)
    level = await InventoryLevel.get(id=1)
    assert (level.sku, level.sellable, level.damaged) == ("SKU-1", 2147483647, 1)
    movement = await StockMovement.get(id=1)
    assert (movement.sku, movement.quantity) == ("SKU-1", 2)

    # The counters are 64-bit now.
    await InventoryLevel.filter(id=1).update(sellable=BIG, damaged=BIG + 1)
    await StockMovement.create(
        warehouse_id=1,
        after_sale_id=1,
        sku="SKU-2",
        quantity=BIG,
        condition="GOOD",
        created_at=datetime(2026, 11, 21, tzinfo=UTC),
    )
    level = await InventoryLevel.get(id=1)
    assert (level.sellable, level.damaged) == (BIG, BIG + 1)
    assert (await StockMovement.get(sku="SKU-2")).quantity == BIG
    # What concurrent first stock-ins of a SKU rely on is still there.
    with pytest.raises(IntegrityError):
        await InventoryLevel.create(warehouse_id=1, sku="SKU-1", sellable=1, damaged=0)
    # The token's new columns are usable.
    await ApiToken.filter(id=1).update(name="erp", expires_at=datetime(2027, 1, 1, tzinfo=UTC))
    assert (await ApiToken.get(id=1)).name == "erp"
    # On PostgreSQL the per-status counts start from the after-sales already there (0004).
    if url.startswith("sqlite://"):
        return
    by_status = await connections.get("default").execute_query_dict(
        "SELECT shop_id, type, status, sum(n) AS n FROM after_sale_count"
        " GROUP BY shop_id, type, status"
    )
    expected = await connections.get("default").execute_query_dict(
        "SELECT shop_id, type, COALESCE(status, '') AS status, count(*) AS n FROM after_sale"
        " GROUP BY shop_id, type, COALESCE(status, '')"
    )
    assert expected and sorted(map(_plain, by_status)) == sorted(map(_plain, expected))


async def test_an_upgraded_database_has_the_schema_of_a_new_one(
    empty_database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    upgraded = empty_database
    await _migrate_to_first_only(upgraded)
    await db.migrate(upgraded)
    upgraded_schema = await _schema(upgraded)
    await db.close()

    if upgraded.startswith("sqlite://"):
        fresh = f"sqlite://{tmp_path / 'fresh.sqlite3'}"
    else:  # the session's database, made from empty by every migration
        fresh = str(request.getfixturevalue("postgres_url"))
    await db.migrate(fresh)
    fresh_schema = await _schema(fresh)

    assert upgraded_schema == fresh_schema
    if not upgraded.startswith("sqlite://"):
        _, rows = await connections.get("default").execute_query(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        )
        columns = {(r["table_name"], r["column_name"]): r["data_type"] for r in rows}
        assert columns[("inventory_level", "sellable")] == "bigint"
        assert columns[("inventory_level", "damaged")] == "bigint"
        assert columns[("stock_movement", "quantity")] == "bigint"
        assert columns[("api_token", "expires_at")] == "timestamp with time zone"


def _plain(row: dict[str, object]) -> tuple[str, ...]:
    return tuple(str(v) for v in row.values())
