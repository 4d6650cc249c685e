"""TikTok webhook ingestion: signed type-12 deliveries through the whole ASGI app (size and
signature checks, envelope parsing, delivery log, the report applied with history, one
transaction) against a bare baseline in the same run: verify the HMAC, parse the JSON and
INSERT the raw body into the delivery log in one transaction on the same connection, which is
the least a receiver must do before answering 200.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from aftersales.commands import accounts
from aftersales.settings import load_settings
from aftersales.store import db
from bench.graphql import _recreate_postgres

DELIVERIES = 400
KEY, SECRET = "bench-key", "bench-secret"
SHOP = "7000000000000000002"
STATUSES = ("RETURN_OR_REFUND_REQUEST_PENDING", "AWAITING_BUYER_SHIP", "BUYER_SHIPPED_ITEM")
T0 = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())


def bodies() -> list[bytes]:
    out = []
    for n in range(DELIVERIES):
        sale, step = divmod(n, len(STATUSES))
        rid = f"5764863169{sale:09d}"
        envelope = {
            "type": 12,
            "tts_notification_id": f"73271123930{n:08d}",
            "shop_id": SHOP,
            "timestamp": T0 + n,
            "data": {
                "order_id": rid,
                "return_id": rid,
                "return_role": "BUYER",
                "return_type": "RETURN_AND_REFUND",
                "return_status": STATUSES[step],
                "create_time": T0,
                "update_time": T0 + n,
            },
        }
        out.append(json.dumps(envelope, separators=(",", ":")).encode())
    return out


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), KEY.encode() + body, hashlib.sha256).hexdigest()


async def bare_receive(body: bytes, signature: str, postgres: bool) -> None:
    from tortoise import connections
    from tortoise.transactions import in_transaction

    if not hmac.compare_digest(sign(body), signature):
        raise AssertionError("bad signature")
    envelope = json.loads(body)
    p = ["$1", "$2", "$3", "$4", "$5"] if postgres else ["?"] * 5
    sql = (
        "INSERT INTO webhook_delivery (source, dedupe_key, shop_id, received_at, body, outcome)"
        f" VALUES ('bare', {p[0]}, {p[1]}, {p[2]}, {p[3]}, {p[4]})"
    )
    async with in_transaction("default"):
        await connections.get("default").execute_query(
            sql,
            [
                envelope["tts_notification_id"],
                envelope["shop_id"],
                datetime.now(UTC),
                body.decode(),
                "recorded",
            ],
        )


async def measure(url: str) -> dict[str, float]:
    from api.app import create_app

    env = {
        "DATABASE_URL": url,
        "TIKTOK_APP_KEY": KEY,
        "TIKTOK_APP_SECRET": SECRET,
        "LOGISTICS_WEBHOOK_SECRET": "bench",
    }
    await db.migrate(url)
    postgres = url.startswith("postgres")
    try:
        await accounts.add_shop("bench-webhooks", SHOP, "MY", "Bench")
        app = create_app(load_settings(env), manage_database=False, run_jobs=False)
        payloads = bodies()
        api_times, bare_times = [], []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for body in payloads:  # interleaved, so drift hits both sides alike
                headers = {"Authorization": sign(body), "Content-Type": "application/json"}
                t = time.perf_counter()
                r = await client.post("/webhooks/tiktok", content=body, headers=headers)
                api_times.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
                t = time.perf_counter()
                await bare_receive(body, headers["Authorization"], postgres)
                bare_times.append(time.perf_counter() - t)
        return {
            "api_ms": statistics.median(api_times) * 1000,
            "api_p95": statistics.quantiles(api_times, n=20)[-1] * 1000,
            "bare_ms": statistics.median(bare_times) * 1000,
        }
    finally:
        await db.close()


def main(argv: list[str]) -> int:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = asyncio.run(measure(f"sqlite://{Path(tmp) / 'bench.sqlite3'}"))
    pg = os.environ.get(
        "BENCH_POSTGRES_URL_WEBHOOKS", "postgres://postgres@127.0.0.1:5432/bench_webhooks"
    )
    if _recreate_postgres(pg):
        results["PostgreSQL"] = asyncio.run(measure(pg))
    print(f"{DELIVERIES} signed type-12 deliveries, one at a time, median per delivery")
    print("| database | webhook endpoint (ms) | p95 (ms) | bare verify + INSERT (ms) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for name, r in results.items():
        ratio = r["api_ms"] / r["bare_ms"]
        cells = f"{r['api_ms']:.2f} | {r['api_p95']:.2f} | {r['bare_ms']:.2f} | {ratio:.1f}x"
        print(f"| {name} | {cells} |")
    return 0
