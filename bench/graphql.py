"""GraphQL read path: a page of 50 after-sales with items and history, through the whole ASGI
app (auth, Strawberry, dataloaders, Tortoise), against a bare baseline on the same database in
the same run: the same three SELECTs issued directly on the driver connection and serialised
to JSON. The ratio is what the API layers cost on top of the unavoidable database work.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from aftersales.commands import accounts
from aftersales.commands.reports import apply_return_report
from aftersales.domain.model import LineItem
from aftersales.domain.tiktok import ReturnReport
from aftersales.settings import load_settings
from aftersales.store import db
from aftersales.store.uow import uow

SALES = 1000
PAGE = 50
ROUNDS = 200
T0 = datetime(2026, 11, 1, tzinfo=UTC)

QUERY = """
query Page($first: Int!) {
  afterSales(first: $first) {
    totalCount
    edges { node { id returnId status refundRequested { amount currency }
      items { sku quantity } history { action toStatus at } } }
  }
}
"""

BARE_PAGE = (
    "SELECT a.id, a.return_id, a.status, a.refund_requested, a.currency FROM after_sale a"
    " JOIN shop s ON s.id = a.shop_id WHERE s.seller_id = {p1}"
    " ORDER BY a.created_at DESC, a.id DESC LIMIT {limit}"
)
BARE_COUNT = (
    "SELECT count(*) AS n FROM after_sale a JOIN shop s ON s.id = a.shop_id"
    " WHERE s.seller_id = {p1}"
)
BARE_ITEMS = (
    "SELECT after_sale_id, sku, quantity FROM after_sale_item WHERE after_sale_id IN ({ids})"
)
BARE_HISTORY = (
    "SELECT after_sale_id, action, to_status, at FROM history_entry"
    " WHERE after_sale_id IN ({ids}) ORDER BY at, id"
)


async def seed() -> str:
    await accounts.add_shop("bench", "7000000000000000001", "MY", "Bench shop")
    token = await accounts.create_token("bench")
    windows = load_settings({}).dispute_windows
    for n in range(SALES):
        at = T0 + timedelta(minutes=n)
        rid = f"57648631694{n:08d}"
        items = (
            LineItem("SKU-A", "Mug", 1, Decimal("10.00")),
            LineItem("SKU-B", "Cup", 2, Decimal("5.00")),
        )
        for step, status in enumerate(
            ("RETURN_OR_REFUND_REQUEST_PENDING", "AWAITING_BUYER_SHIP", "BUYER_SHIPPED_ITEM")
        ):
            report = ReturnReport(
                return_id=rid,
                order_id=rid,
                return_type="RETURN_AND_REFUND",
                return_status=status,
                update_time=at + timedelta(seconds=step),
                create_time=at,
                role="BUYER",
                currency="MYR",
                refund_total=Decimal("20.00"),
                items=items,
            )
            async with uow() as tx:
                await apply_return_report(
                    tx, "7000000000000000001", report, now=at, windows=windows
                )
    return token


async def bare_page(conn: object, seller_id: int, postgres: bool) -> bytes:
    from tortoise import connections

    c = connections.get("default")
    p1 = "$1" if postgres else "?"
    rows = await c.execute_query_dict(BARE_PAGE.format(p1=p1, limit=PAGE), [seller_id])
    total = await c.execute_query_dict(BARE_COUNT.format(p1=p1), [seller_id])
    ids = ",".join(str(int(r["id"])) for r in rows)
    items = await c.execute_query_dict(BARE_ITEMS.format(ids=ids))
    history = await c.execute_query_dict(BARE_HISTORY.format(ids=ids))
    by_items: dict[int, list[dict[str, object]]] = {}
    for i in items:
        by_items.setdefault(i["after_sale_id"], []).append(
            {"sku": i["sku"], "quantity": i["quantity"]}
        )
    by_history: dict[int, list[dict[str, object]]] = {}
    for h in history:
        by_history.setdefault(h["after_sale_id"], []).append(
            {"action": h["action"], "toStatus": h["to_status"], "at": str(h["at"])}
        )
    page = {
        "totalCount": total[0]["n"],
        "edges": [
            {
                "node": {
                    "id": str(r["id"]),
                    "returnId": r["return_id"],
                    "status": r["status"],
                    "refundRequested": {
                        "amount": str(r["refund_requested"]),
                        "currency": r["currency"],
                    },
                    "items": by_items.get(r["id"], []),
                    "history": by_history.get(r["id"], []),
                }
            }
            for r in rows
        ],
    }
    return json.dumps({"data": {"afterSales": page}}).encode()


async def measure(url: str) -> dict[str, float]:
    from api.app import create_app

    await db.migrate(url)
    postgres = url.startswith("postgres")
    try:
        token = await seed()
        seller_id = 1
        app = create_app(
            load_settings({"DATABASE_URL": url}), manage_database=False, run_jobs=False
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {token}"}
            body = {"query": QUERY, "variables": {"first": PAGE}}
            check = (await client.post("/graphql", json=body, headers=headers)).json()
            assert len(check["data"]["afterSales"]["edges"]) == PAGE, check
            api_times, bare_times = [], []
            for _ in range(ROUNDS):  # interleaved, so drift hits both sides alike
                t = time.perf_counter()
                r = await client.post("/graphql", json=body, headers=headers)
                api_times.append(time.perf_counter() - t)
                assert r.status_code == 200
                t = time.perf_counter()
                await bare_page(None, seller_id, postgres)
                bare_times.append(time.perf_counter() - t)
        return {
            "api_ms": statistics.median(api_times) * 1000,
            "bare_ms": statistics.median(bare_times) * 1000,
        }
    finally:
        await db.close()


def main(argv: list[str]) -> int:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = asyncio.run(measure(f"sqlite://{Path(tmp) / 'bench.sqlite3'}"))
    pg = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/bench_graphql")
    if _recreate_postgres(pg):
        results["PostgreSQL"] = asyncio.run(measure(pg))
    print(
        f"afterSales page of {PAGE} with items + history, {SALES} after-sales, median of {ROUNDS}"
    )
    print("| database | GraphQL API (ms) | bare SQL + JSON (ms) | ratio |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        ratio = r["api_ms"] / r["bare_ms"]
        print(f"| {name} | {r['api_ms']:.2f} | {r['bare_ms']:.2f} | {ratio:.1f}x |")
    return 0


def _recreate_postgres(url: str) -> bool:
    import asyncpg

    base, _, name = url.rpartition("/")

    async def go() -> None:
        conn = await asyncpg.connect(base + "/postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    try:
        asyncio.run(go())
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL not available for the benchmark ({exc}); SQLite only")
        return False
    return True
