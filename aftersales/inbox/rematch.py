"""The parcel-event rematch ("nothing is lost", docs/webhooks.md): apply the `unmatched` parcel
events whose after-sale exists by now.

The live path (aftersales.inbox.late) applies a waiting event when the report that creates its
return commits. On PostgreSQL the two can commit at the same moment, neither seeing the other,
and the event is left `unmatched` with nothing left to look at it again (no further report comes
for an abnormal return, or none at all). This job looks again, from the current state, so a
missed or failed run is caught up by the next.

Each matched event's keys go through `late.apply_matching`, the live path's own function:
same rules, events of one parcel oldest `occurred_at` first, and the same claim of each delivery
(a conditional update from `unmatched`), so an event is applied once whoever gets there first,
this job on another replica or a TikTok report. Each parcel is one transaction, which first
locks its after-sale (aftersales/store/rematches.py says why).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from aftersales.domain.outcome import Outcome, Result
from aftersales.inbox import late
from aftersales.store import rematches
from aftersales.store.deliveries import LOGISTICS
from aftersales.store.uow import reading, uow

log = logging.getLogger(__name__)

REMATCH_JOB = "parcel_rematch"
# Deliveries looked at per run, oldest first; a longer backlog is continued by the next run.
DEFAULT_LIMIT = 500
PAGE_SIZE = 100
# Younger deliveries are left to the next run: the transaction that would match them live may
# still be committing, and a webhook transaction takes milliseconds, not seconds.
SETTLE = timedelta(seconds=10)


async def rematch_unmatched(
    now: datetime,
    *,
    limit: int = DEFAULT_LIMIT,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Apply the `unmatched` parcel events received at least `SETTLE` before `now` whose
    after-sale (same shop, by return_id or tracking number) exists now. Looks at the `limit`
    oldest such deliveries (and applies with each one the events of its parcel waiting with it).
    Returns how many deliveries it applied or recorded; `on_progress` is told the running total
    after each parcel."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    total = 0
    looked_at = 0
    cursor = 0
    handled: set[int] = set()
    while looked_at < limit:
        page = min(PAGE_SIZE, limit - looked_at)
        async with reading() as r:
            found = await r.rematches.candidates(
                LOGISTICS,
                Outcome.UNMATCHED,
                received_before=now - SETTLE,
                after_id=cursor,
                limit=page,
            )
        for candidate in found:
            cursor = candidate.delivery_id
            if candidate.delivery_id in handled:  # applied with an earlier event of its parcel
                continue
            results = await _rematch(candidate, now)
            handled.update(r.delivery_id for r in results if r.delivery_id is not None)
            total += len(results)
            if results and on_progress is not None:
                on_progress(total)
        looked_at += len(found)
        if len(found) < page:
            break
    return total


async def _rematch(candidate: rematches.Candidate, now: datetime) -> list[Result]:
    async with uow() as tx:
        held = await tx.sales.hold_matching(
            candidate.shop_id, candidate.return_id, candidate.tracking_number
        )
        if not held:
            log.debug(
                "parcel event %s: its after-sale is being written; left for the next run",
                candidate.delivery_id,
            )
            return []
        results = await late.apply_matching(
            tx,
            candidate.shop_id,
            return_id=candidate.return_id,
            tracking_number=candidate.tracking_number,
            now=now,
        )
    if results:
        log.info(
            "parcel event %s matched its after-sale late: %s",
            candidate.delivery_id,
            late.summary(results),
        )
    return results
