"""Per-status counts of after-sales (`afterSaleCounts`): on PostgreSQL read from
`after_sale_count`, on SQLite counted with GROUP BY (development-sized tables, one writer).

On PostgreSQL, triggers on `after_sale` (migration 0004) add a +1/-1 row per change of a shop,
type or status in the writer's own transaction, so a count is the sum of its key's rows. The
rows only ever grow; folding (aftersales/commands/counts.py: run by the timer jobs, and after a
count that found a key piled up with more rows than it should have) replaces the rows it reads
with one row per key, one batch per transaction (`Counts.fold_batch`) that deletes exactly the
rows it summed: a row inserted meanwhile, committed or not, stays and is counted next time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aftersales.domain.model import AfterSaleStatus, AfterSaleType
from aftersales.store.sql import Connection, dialect, numbered

COUNTS_SQL = """
SELECT c.status, sum(c.n) AS n, count(*) AS parts
FROM after_sale_count AS c JOIN shop AS s ON s.id = c.shop_id
WHERE s.seller_id = ? AND c.type = ? {shop}
GROUP BY c.status
"""
GROUPED_SQL = """
SELECT a.status, count(*) AS n, 0 AS parts,
       sum(CASE WHEN a.sync_status = 'FAILED' THEN 1 ELSE 0 END) AS failed
FROM after_sale AS a JOIN shop AS s ON s.id = a.shop_id
WHERE s.seller_id = ? AND a.type = ? {shop}
GROUP BY a.status
"""
# `syncFailed` beside the counts table's sums, in the same statement: FAILED decisions are
# rare, and the partial index on (shop_id, type, status) WHERE sync_status = 'FAILED'
# (migration 0009) holds exactly them. The literal matches the index's predicate.
COUNTS_WITH_FAILED_SQL = """
SELECT c.status, sum(c.n) AS n, count(*) AS parts, 0 AS failed
FROM after_sale_count AS c JOIN shop AS s ON s.id = c.shop_id
WHERE s.seller_id = ? AND c.type = ? {shop}
GROUP BY c.status
UNION ALL
SELECT COALESCE(a.status, '') AS status, 0 AS n, 0 AS parts, count(*) AS failed
FROM after_sale AS a JOIN shop AS s ON s.id = a.shop_id
WHERE s.seller_id = ? AND a.type = ? AND a.sync_status = 'FAILED' {shop_a}
GROUP BY a.status
"""
# Fold the rows of at most `limit` ids at a time: DELETE ... RETURNING hands back exactly the
# rows removed, whose sums are inserted in the same transaction.
FOLD_SQL = """
DELETE FROM after_sale_count WHERE id IN (
    SELECT id FROM after_sale_count ORDER BY id LIMIT ?
) RETURNING shop_id, type, status, n
"""
# Folding is worth it once a key has this many rows on average.
FOLD_AFTER = 64
FOLD_BATCH = 50_000


@dataclass(frozen=True)
class StatusCounts:
    """How many after-sales are in each status (statuses with none left out); `untidy`: the
    counts table has piled up enough rows to be worth folding now."""

    by_status: dict[AfterSaleStatus | None, int]
    untidy: bool
    # How many in each status have their last decision FAILED (`syncFailed`); none left out.
    failed: dict[AfterSaleStatus | None, int] = field(default_factory=dict)


async def count_by_status(
    conn: Connection, seller_id: int, type_: AfterSaleType, shop_id: str | None
) -> StatusCounts:
    """How many of the seller's after-sales of `type_` are in each status (optionally of one
    shop)."""
    postgres = dialect(conn) == "postgres"
    shop = "AND s.shop_id = ?" if shop_id is not None else ""
    sql = (COUNTS_WITH_FAILED_SQL if postgres else GROUPED_SQL).format(shop=shop, shop_a=shop)
    params: list[object] = [seller_id, type_.value]
    if shop_id is not None:
        params.append(shop_id)
    if postgres:
        params = params * 2
    found = await conn.execute_query_dict(numbered(sql) if postgres else sql, params)
    summed = [r for r in found if int(r["parts"]) > 0]
    untidy = postgres and sum(int(r["parts"]) for r in summed) > FOLD_AFTER * max(1, len(summed))
    by_status: dict[AfterSaleStatus | None, int] = {}
    failed: dict[AfterSaleStatus | None, int] = {}
    for row in found:
        status = AfterSaleStatus(row["status"]) if row["status"] else None
        if int(row["n"]) > 0:
            by_status[status] = by_status.get(status, 0) + int(row["n"])
        if int(row["failed"] or 0) > 0:
            failed[status] = failed.get(status, 0) + int(row["failed"])
    return StatusCounts(by_status, untidy=untidy, failed=failed)


class Counts:
    """The counts table in a unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def fold_batch(self, batch: int = FOLD_BATCH) -> int:
        """Replace at most `batch` of the +1/-1 rows by one row per key; how many rows were
        folded (fewer than `batch`: none left). Safe to run from several processes at once.
        Nothing to do on SQLite: 0."""
        if dialect(self._conn) != "postgres":
            return 0
        return await _fold_batch(self._conn, batch)


async def _fold_batch(conn: Connection, batch: int) -> int:
    removed = await conn.execute_query_dict(numbered(FOLD_SQL), [batch])
    if len(removed) <= 1:
        if removed:  # one row folds into itself: put it back
            await _insert(conn, {_key(removed[0]): int(removed[0]["n"])})
        return len(removed)
    sums: dict[tuple[int, str, str], int] = {}
    for row in removed:
        key = _key(row)
        sums[key] = sums.get(key, 0) + int(row["n"])
    await _insert(conn, {key: n for key, n in sums.items() if n != 0})
    return len(removed)


async def _insert(conn: Connection, sums: dict[tuple[int, str, str], int]) -> None:
    if not sums:
        return
    values = ",".join("(?, ?, ?, ?)" for _ in sums)
    sql = f"INSERT INTO after_sale_count (shop_id, type, status, n) VALUES {values}"
    params = [
        v for (shop_id, type_, status), n in sums.items() for v in (shop_id, type_, status, n)
    ]
    if dialect(conn) == "postgres":
        sql = numbered(sql)
    await conn.execute_query(sql, params)


def _key(row: dict[str, object]) -> tuple[int, str, str]:
    return int(row["shop_id"]), str(row["type"]), str(row["status"])  # type: ignore[call-overload]
