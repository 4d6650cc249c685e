"""`afterSaleStats` (SPEC §13): counts, refunded money per currency and the median hours to
the seller's decision, grouped by SKU, reason, shop, type or day, all in SQL on both
databases: PostgreSQL's `percentile_cont`, a window-function median on SQLite.

Money is summed exactly: as `numeric` on PostgreSQL, in integer cents on SQLite (which would
sum its stored text as floats)."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersales.store import sql
from aftersales.store.rows import money
from aftersales.store.sql import Connection, dialect


class AfterSaleStatsGroup(enum.Enum):
    SKU = "SKU"
    REASON = "REASON"
    SHOP = "SHOP"
    TYPE = "TYPE"
    DAY = "DAY"


@dataclass
class StatsRow:
    key: str
    count: int = 0
    refunded: list[tuple[Decimal, str]] = field(default_factory=list)  # (amount, currency)
    median_hours: float | None = None


_KEYS = {
    AfterSaleStatsGroup.SKU: 'i."sku"',
    AfterSaleStatsGroup.REASON: "COALESCE(a.\"reason\", '')",
    AfterSaleStatsGroup.SHOP: 's."shop_id"',
    AfterSaleStatsGroup.TYPE: 'a."type"',
}
_DAY = {
    "postgres": "to_char(a.\"created_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
    "sqlite": 'substr(a."created_at", 1, 10)',
}
_HOURS = {
    "postgres": 'EXTRACT(EPOCH FROM (d."at" - b."created_at")) / 3600.0',
    # julianday's float carries ~1e-5 s of noise: rounded to the millisecond first.
    "sqlite": 'ROUND((julianday(d."at") - julianday(b."created_at")) * 86400.0, 3) / 3600.0',
}
_REFUNDED = {
    "postgres": 'SUM(b."refund_amount")',
    "sqlite": 'SUM(CAST(ROUND(b."refund_amount" * 100) AS INTEGER))',
}
# The first entry that took the request out of PENDING_REQUEST by the seller or a rule.
_DECIDED = (
    'SELECT h."after_sale_id", MIN(h."at") AS "at" FROM "history_entry" AS h'
    " WHERE h.\"from_status\" = 'PENDING_REQUEST'"
    ' AND (h."to_status" IS NULL OR h."to_status" <> \'PENDING_REQUEST\')'
    " AND (h.\"actor\" = 'SELLER' OR h.\"source\" = 'RULE')"
    ' AND h."after_sale_id" IN (SELECT "id" FROM base) GROUP BY h."after_sale_id"'
)


class StatsReads:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def stats(
        self,
        seller_id: int,
        group: AfterSaleStatsGroup,
        *,
        shop_ids: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[StatsRow]:
        """One row per key, by key; `since` inclusive, `until` exclusive (of `createdAt`)."""
        kind = "postgres" if dialect(self._conn) == "postgres" else "sqlite"
        key = _DAY[kind] if group is AfterSaleStatsGroup.DAY else _KEYS[group]
        where = ['s."seller_id" = ?']
        params: list[Any] = [seller_id]
        if shop_ids is not None:
            if not shop_ids:
                return []
            where.append(f's."shop_id" IN ({",".join("?" * len(shop_ids))})')
            params += list(shop_ids)
        if since is not None:
            where.append('a."created_at" >= ?')
            params.append(since)
        if until is not None:
            where.append('a."created_at" < ?')
            params.append(until)
        lines = (
            ' JOIN (SELECT DISTINCT "after_sale_id", "sku" FROM "after_sale_item") AS i'
            ' ON i."after_sale_id" = a."id"'
            if group is AfterSaleStatsGroup.SKU
            else ""
        )
        base = (
            f'WITH base AS (SELECT a."id", a."created_at", a."status", a."currency",'
            f' a."refund_amount", {key} AS k FROM "after_sale" AS a'
            f' JOIN "shop" AS s ON s."id" = a."shop_id"{lines} WHERE {" AND ".join(where)})'
        )
        rows: dict[str, StatsRow] = {}
        for k, count in await sql.select(
            self._conn, f"{base} SELECT k, COUNT(*) FROM base GROUP BY k", params
        ):
            rows[str(k)] = StatsRow(str(k), int(count))
        refunded: dict[str, list[tuple[Decimal, str]]] = defaultdict(list)
        found = await sql.select(
            self._conn,
            f'{base} SELECT b.k, b."currency", {_REFUNDED[kind]} FROM base AS b'
            ' WHERE b."status" = \'REFUNDED\' AND b."refund_amount" IS NOT NULL'
            ' GROUP BY b.k, b."currency" ORDER BY b.k, b."currency"',
            params,
        )
        for k, currency, total in found:
            amount = Decimal(total) / 100 if kind == "sqlite" else Decimal(total)
            refunded[str(k)].append((money(amount) or Decimal(0), currency or ""))
        for k, entries in refunded.items():
            rows[k].refunded = entries
        for k, median in await sql.select(self._conn, self._median(base, kind), params):
            if median is not None:
                rows[str(k)].median_hours = float(median)
        return [rows[k] for k in sorted(rows)]

    def _median(self, base: str, kind: str) -> str:
        decided = (
            f", decided AS ({_DECIDED}), hours AS (SELECT b.k, {_HOURS[kind]} AS h"
            ' FROM base AS b JOIN decided AS d ON d."after_sale_id" = b."id")'
        )
        if kind == "postgres":
            return (
                f"{base}{decided} SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY h)"
                " FROM hours GROUP BY k"
            )
        return (
            f"{base}{decided}, ranked AS (SELECT k, h,"
            " ROW_NUMBER() OVER (PARTITION BY k ORDER BY h) AS rn,"
            " COUNT(*) OVER (PARTITION BY k) AS n FROM hours)"
            " SELECT k, AVG(h) FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY k"
        )
