"""The parcel-event rematch's SQL: `unmatched` deliveries whose after-sale exists by now.

A parcel event and the TikTok report that creates its return (or gives it its tracking number)
can commit at the same moment on PostgreSQL: neither transaction sees the other, so the event
is logged `unmatched` and nothing in the live path looks at it again. These queries find such
events from the current state (aftersales.rematch applies them through aftersales.backlog).

- `candidates` walks the `unmatched` deliveries in `id` (arrival) order from a cursor, through
  the (outcome, shop_id) index, and keeps those for which an after-sale of the same shop has
  their return_id or tracking number (the rule aftersales.logistics matches by), probed through
  after_sale's (shop_id, return_id) and tracking_number indexes. Only ids and keys are loaded.
  A run costs a walk of the unmatched rows, which are few: an event waits there only until its
  return is reported.
- `hold_matching` locks, before any delivery is claimed, the after-sales the events will move,
  in the order every live writer takes them (after-sale first, then the deliveries it matches),
  so a rematch never deadlocks with a TikTok report applying the same events. On PostgreSQL it
  is `FOR UPDATE SKIP LOCKED`: an after-sale being written right now is left to its writer
  (which applies the waiting events itself when it is a report) or to the next run. SQLite has
  one writer at a time and needs no lock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from aftersales.store.repository import Connection, transaction

_CANDIDATES = """
SELECT d.id, d.shop_id, d.match_return_id, d.match_tracking_number
FROM webhook_delivery AS d
WHERE d.outcome = ? AND d.source = ? AND d.received_at <= ? AND d.id > ?
  AND d.shop_id IS NOT NULL
  AND (d.match_return_id IS NOT NULL OR d.match_tracking_number IS NOT NULL)
  AND EXISTS (
    SELECT 1 FROM after_sale AS a JOIN shop AS s ON s.id = a.shop_id
    WHERE s.shop_id = d.shop_id
      AND (a.return_id = d.match_return_id OR a.tracking_number = d.match_tracking_number)
  )
ORDER BY d.id
LIMIT ?
"""

_PG_HOLD = """
WITH matched AS (
    SELECT a.id FROM after_sale AS a JOIN shop AS s ON s.id = a.shop_id
    WHERE s.shop_id = $1 AND (a.return_id = $2 OR a.tracking_number = $3)
), held AS (
    SELECT id FROM after_sale WHERE id IN (SELECT id FROM matched)
    ORDER BY id
    FOR UPDATE SKIP LOCKED
)
SELECT (SELECT count(*) FROM matched) AS matched, (SELECT count(*) FROM held) AS held
"""


@dataclass(frozen=True)
class Candidate:
    """An `unmatched` parcel event whose after-sale exists now, and the keys it matches by."""

    delivery_id: int
    shop_id: str
    return_id: str | None
    tracking_number: str | None


def _dialect(conn: Connection) -> str:
    return str(conn.capabilities.dialect)


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...`."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


async def candidates(
    source: str, outcome: str, *, received_before: datetime, after_id: int, limit: int
) -> list[Candidate]:
    """At most `limit` deliveries of `source` still at `outcome`, received at or before
    `received_before`, with an id above `after_id`, whose after-sale exists; lowest id first."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    # SQLite compares the stored UTC text, so the bound must be UTC too.
    params = [outcome, source, received_before.astimezone(UTC), after_id, limit]
    async with transaction() as conn:
        sql = _numbered(_CANDIDATES) if _dialect(conn) == "postgres" else _CANDIDATES
        _, rows = await conn.execute_query(sql, params)
    return [
        Candidate(
            delivery_id=int(row["id"]),
            shop_id=str(row["shop_id"]),
            return_id=row["match_return_id"],
            tracking_number=row["match_tracking_number"],
        )
        for row in rows
    ]


async def hold_matching(conn: Connection, candidate: Candidate) -> bool:
    """Lock, in `conn`'s transaction, every after-sale `candidate` matches; False (nothing
    held that matters) when one of them is being written by another transaction right now."""
    if _dialect(conn) != "postgres":
        return True
    _, rows = await conn.execute_query(
        _PG_HOLD, [candidate.shop_id, candidate.return_id, candidate.tracking_number]
    )
    matched, held = int(rows[0]["matched"]), int(rows[0]["held"])
    return matched > 0 and held == matched
