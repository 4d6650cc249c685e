"""Dispute sweep over a backlog of N expired rejections on PostgreSQL, against bare baselines on
the same database in the same run:

- `bare UPDATE`: one raw UPDATE of the same rows on the driver connection, no history, one
  transaction: the least work that closes them (the floor).
- `bare UPDATE + history`: the same, writing the history rows too, in one statement and one
  giant transaction: the same work as the sweep without batching.
- `sweep`: `sweep_expired_disputes` through Tortoise, in batches of `--batch-size`.

Each run starts from a freshly loaded table (COPY). Time is wall clock; memory is the Python
heap peak (tracemalloc) and the growth of the process's peak RSS during the run.

Database: a fresh database on the server of BENCH_POSTGRES_URL (the admin connection, default
postgres://postgres@127.0.0.1:5432/postgres), created for the run and dropped after it.
`python -m bench.sweep --sizes 100000` runs it alone; `make bench` runs it at 100,000 rows.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import resource
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from aftersales.commands.sweep import DEFAULT_BATCH_SIZE, sweep_expired_disputes
from aftersales.store import db
from bench import data

DEFAULT_SIZES = (100_000, 1_000_000)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
COLUMNS = (
    "id",
    "shop_id",
    "return_id",
    "order_id",
    "type",
    "status",
    "return_status",
    "dispute_deadline",
    "dispute_status",
    "last_event_at",
    "sync_status",
    "version",
    "created_at",
    "updated_at",
)
EXPIRY = "dispute_deadline <= $1 AND dispute_status <> 'IN_PROGRESS'"
BARE_UPDATE = f"""
UPDATE after_sale SET status = 'REQUEST_CLOSED', version = version + 1, updated_at = $1
WHERE status IN ('REJECTED', 'RECEIPT_REJECTED') AND {EXPIRY}
"""
BARE_UPDATE_WITH_HISTORY = f"""
WITH closed AS (
    UPDATE after_sale AS s
    SET status = 'REQUEST_CLOSED', version = s.version + 1, updated_at = $1
    FROM (SELECT id, status FROM after_sale
          WHERE status IN ('REJECTED', 'RECEIPT_REJECTED') AND {EXPIRY}) AS old
    WHERE s.id = old.id
    RETURNING s.id, old.status
)
INSERT INTO history_entry (after_sale_id, at, actor, action, from_status, to_status, source)
SELECT id, $1, 'SYSTEM', 'DISPUTE_WINDOW_EXPIRED', status, 'REQUEST_CLOSED', 'SCHEDULER'
FROM closed
"""


@dataclass(frozen=True)
class Result:
    size: int
    method: str
    seconds: float
    py_peak_mib: float
    rss_growth_mib: float


def _rows(n: int) -> Iterator[tuple[object, ...]]:
    """N expired rejections, generated lazily (COPY streams them; nothing is held)."""
    for i in range(1, n + 1):
        rejected_at = NOW - timedelta(days=3, seconds=i % 2_592_000)
        yield (
            i,
            1,
            f"{5764863169484_00000 + i}",
            f"{5764863169484_00000 + i}",
            "RETURN_AND_REFUND",
            "RECEIPT_REJECTED" if i % 10 == 0 else "REJECTED",
            "OTHER",
            rejected_at + timedelta(hours=48),
            "NONE",
            rejected_at,
            "LOCAL_ONLY",
            2,
            rejected_at - timedelta(days=1),
            rejected_at,
        )


async def load(url: str, n: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "TRUNCATE history_entry, after_sale_item, note, stock_movement, after_sale,"
            " shop, seller RESTART IDENTITY CASCADE"
        )
        await conn.execute("INSERT INTO seller (id, name, created_at) VALUES (1, 'bench', $1)", NOW)
        await conn.execute(
            "INSERT INTO shop (id, seller_id, shop_id, region, name, created_at)"
            " VALUES (1, 1, '7000000000000000009', 'MY', 'Bench', $1)",
            NOW,
        )
        await conn.copy_records_to_table("after_sale", records=_rows(n), columns=COLUMNS)
        await conn.execute("SELECT setval(pg_get_serial_sequence('after_sale', 'id'), $1)", n)
        await conn.execute("VACUUM ANALYZE after_sale")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()


async def check(url: str, n: int, *, history: bool) -> None:
    conn = await asyncpg.connect(url)
    try:
        closed = await conn.fetchval(
            "SELECT count(*) FROM after_sale WHERE status = 'REQUEST_CLOSED'"
        )
        logged = await conn.fetchval("SELECT count(*) FROM history_entry")
    finally:
        await conn.close()
    assert closed == n, f"{closed} of {n} closed"
    assert logged == (n if history else 0), f"{logged} history rows for {n} closes"


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def measure(size: int, method: str, run: Callable[[], Awaitable[None]]) -> Result:
    rss_before = _maxrss_mib()
    tracemalloc.start()
    t0 = time.perf_counter()
    await run()
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Result(size, method, seconds, peak / 2**20, _maxrss_mib() - rss_before)


async def bench_size(url: str, n: int, batch_sizes: list[int]) -> list[Result]:
    results = []

    async def raw(sql: str) -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(sql, NOW)
        finally:
            await conn.close()

    for method, sql, history in (
        ("bare UPDATE, no history (1 statement)", BARE_UPDATE, False),
        ("bare UPDATE + history (1 statement)", BARE_UPDATE_WITH_HISTORY, True),
    ):
        await load(url, n)
        results.append(await measure(n, method, functools.partial(raw, sql)))
        await check(url, n, history=history)

    for batch in batch_sizes:

        async def sweep(batch: int = batch) -> None:
            closed = await sweep_expired_disputes(NOW, batch_size=batch)
            assert closed == n, closed

        await load(url, n)
        results.append(await measure(n, f"sweep, batches of {batch}", sweep))
        await check(url, n, history=True)
    return results


def table(results: list[Result]) -> str:
    floor = {r.size: r.seconds for r in results if r.method.startswith("bare UPDATE, no")}
    lines = [
        "| rows | method | time (s) | rows/s | vs bare UPDATE | Python heap peak (MiB)"
        " | peak RSS growth (MiB) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.size:,} | {r.method} | {r.seconds:.2f} | {r.size / r.seconds:,.0f}"
            f" | {r.seconds / floor[r.size]:.2f} | {r.py_peak_mib:.2f} | {r.rss_growth_mib:.1f} |"
        )
    return "\n".join(lines)


async def run(sizes: list[int], batch_sizes: list[int]) -> list[Result]:
    admin = os.environ.get("BENCH_POSTGRES_URL", "").strip() or data.ADMIN_URL
    database = await data.create(admin)
    try:
        await db.migrate(database.url)
        try:
            results = []
            for n in sizes:
                print(f"{n:,} expired rows ...", flush=True)
                results += await bench_size(database.url, n, batch_sizes)
            return results
        finally:
            await db.close()
    finally:
        await data.drop(database)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sweep", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[DEFAULT_BATCH_SIZE, 10 * DEFAULT_BATCH_SIZE]
    )
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.sizes, args.batch_sizes))
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
