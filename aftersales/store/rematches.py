"""The parcel-event rematch's SQL: `unmatched` deliveries whose after-sale exists by now.

A parcel event and the TikTok report that creates its return (or gives it its tracking number)
can commit at the same moment on PostgreSQL: neither transaction sees the other, so the event
is logged `unmatched` and nothing in the live path looks at it again. These queries find such
events from the current state (aftersales.inbox.rematch applies them as the live path does).

- `candidates` walks the `unmatched` deliveries in `id` (arrival) order from a cursor, through
  the (outcome, shop_id) index, and keeps those for which an after-sale of the same shop has
  their return_id or tracking number (the rule parcel events are matched by), probed through
  after_sale's (shop_id, return_id) and tracking_number indexes. Only ids and keys are loaded.
  A run costs a walk of the unmatched rows, which are few: an event waits there only until its
  return is reported.
- `Sales.hold_matching` (in sales.py, bound to a unit of work) locks, before any delivery is
  claimed, the after-sales the events will move, in the order every live writer takes them (after-
  sale first, then the deliveries it matches), so a rematch never deadlocks with a TikTok report
  applying the same events. On PostgreSQL it is `FOR UPDATE SKIP LOCKED`: an after-sale being
  written right now is left to its writer (which applies the waiting events itself when it is a
  report) or to the next run. SQLite has one writer at a time and needs no lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aftersales.domain.outcome import Outcome
from aftersales.store.sql import Connection, dialect, numbered

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


@dataclass(frozen=True)
class Candidate:
    """An `unmatched` parcel event whose after-sale exists now, and the keys it matches by."""

    delivery_id: int
    shop_id: str
    return_id: str | None
    tracking_number: str | None


class Rematches:
    """The rematch's candidates, on the read handle (`reading()` in aftersales/store/uow.py)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def candidates(
        self, source: str, outcome: Outcome, *, received_before: datetime, after_id: int, limit: int
    ) -> list[Candidate]:
        """At most `limit` deliveries of `source` still at `outcome`, received at or before
        `received_before`, with an id above `after_id`, whose after-sale exists; lowest id first."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        # SQLite compares the stored UTC text, so the bound must be UTC too.
        params = [outcome.value, source, received_before.astimezone(UTC), after_id, limit]
        conn = self._conn
        sql = numbered(_CANDIDATES) if dialect(conn) == "postgres" else _CANDIDATES
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
