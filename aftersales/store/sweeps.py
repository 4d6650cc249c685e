"""The dispute sweep's SQL (docs/timers.md): set-based, batched, conditional closes.

A batch is one transaction holding one statement that picks at most `limit` expired rows and
closes them, re-checking the expiry conditions on every row it writes, plus the history rows for
exactly the rows it closed. Nothing is loaded into Python but the count.

Why each piece is there:

- The conditions in the UPDATE itself (not only in the pick) make every close conditional: a
  dispute or any other change committed first makes the row fail them, so it is left alone.
- On PostgreSQL the pick is `FOR UPDATE SKIP LOCKED`: a row another transaction is writing right
  now (a dispute webhook, a seller action, another sweeper) is skipped rather than waited for or
  overwritten; the next run sees whatever that transaction committed. A writer that arrives
  while a batch holds its rows waits for the batch, then fails its version check (the close bumps
  `version`) and retries from a fresh read, as every command does.
- A rejection whose sync with TikTok FAILED is never closed: TikTok never took it, so its
  dispute window is not TikTok's, and the seller's decision stays visible until they retry or
  decide again, or TikTok reports a newer status (docs/tiktok-sync.md, no silent revert).
- `last_event_at` is deliberately left alone: a TikTok report newer than the last change TikTok
  made (a buyer's dispute delivered late, say) still applies after the close. TikTok is the
  source of truth for what it reports.
- Picking in `dispute_deadline` order walks the (status, dispute_deadline) index and stops after
  `limit` entries, so each batch costs O(limit), whatever the backlog.
- SQLite has one writer at a time and a statement is atomic, so it needs neither locks nor
  SKIP LOCKED; its UPDATE ... RETURNING (3.35+) feeds the history insert instead of a CTE.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from aftersales.domain.model import Actor, AfterSaleStatus, DisputeStatus, EventSource
from aftersales.store.sql import Connection, dialect

# Key of the PostgreSQL advisory lock held while one replica sweeps ("AFSWEEP1" as an int64):
# `exclusive(SWEEP_LOCK_KEY)` in aftersales/store/uow.py.
SWEEP_LOCK_KEY = int.from_bytes(b"AFSWEEP1", "big")


@dataclass(frozen=True)
class Closing:
    """What a batch does, as the core decides it: which rows it may close and what it records."""

    from_status: AfterSaleStatus
    to_status: AfterSaleStatus
    unless_dispute: DisputeStatus  # rows with this dispute status are never closed
    actor: Actor
    source: EventSource
    action: str


_PG_CLOSE = """
WITH picked AS (
    SELECT id FROM after_sale
    WHERE status = $1 AND dispute_deadline <= $2 AND dispute_status <> $3
      AND sync_status <> 'FAILED'
    ORDER BY dispute_deadline
    LIMIT $4
    FOR UPDATE SKIP LOCKED
), closed AS (
    UPDATE after_sale AS s
    SET status = $5, version = s.version + 1, updated_at = $2
    FROM picked
    WHERE s.id = picked.id
      AND s.status = $1 AND s.dispute_deadline <= $2 AND s.dispute_status <> $3
      AND s.sync_status <> 'FAILED'
    RETURNING s.id
), logged AS (
    INSERT INTO history_entry (after_sale_id, at, actor, action, from_status, to_status, source)
    SELECT id, $2, $6, $7, $1, $5, $8 FROM closed
    RETURNING 1
)
SELECT count(*) AS closed FROM logged
"""

_SQLITE_CLOSE = """
UPDATE after_sale
SET status = ?, version = version + 1, updated_at = ?
WHERE id IN (
    SELECT id FROM after_sale
    WHERE status = ? AND dispute_deadline <= ? AND dispute_status <> ?
      AND sync_status <> 'FAILED'
    ORDER BY dispute_deadline
    LIMIT ?
)
  AND status = ? AND dispute_deadline <= ? AND dispute_status <> ? AND sync_status <> 'FAILED'
RETURNING id
"""

_SQLITE_HISTORY = """
INSERT INTO history_entry (after_sale_id, at, actor, action, from_status, to_status, source)
SELECT value, ?, ?, ?, ?, ?, ? FROM json_each(?)
"""


class Sweeps:
    """The sweep's batches, in a unit of work: one batch per transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def close_expired_batch(self, closing: Closing, *, now: datetime, limit: int) -> int:
        """Close at most `limit` rows whose dispute deadline is at or before `now`, with their
        history entries. Returns how many it closed."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        now = now.astimezone(UTC)  # SQLite compares the stored UTC text: `now` must be UTC too
        return await _close(self._conn, closing, now, limit)


async def _close(conn: Connection, c: Closing, now: datetime, limit: int) -> int:
    if dialect(conn) == "postgres":
        _, rows = await conn.execute_query(
            _PG_CLOSE,
            [
                c.from_status.value,
                now,
                c.unless_dispute.value,
                limit,
                c.to_status.value,
                c.actor.value,
                c.action,
                c.source.value,
            ],
        )
        return int(rows[0]["closed"])
    condition = [c.from_status.value, now, c.unless_dispute.value]
    _, rows = await conn.execute_query(
        _SQLITE_CLOSE, [c.to_status.value, now, *condition, limit, *condition]
    )
    ids = [int(row["id"]) for row in rows]
    if ids:
        await conn.execute_query(
            _SQLITE_HISTORY,
            [
                now,
                c.actor.value,
                c.action,
                c.from_status.value,
                c.to_status.value,
                c.source.value,
                json.dumps(ids),
            ],
        )
    return len(ids)
