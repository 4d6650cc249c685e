"""The dispute-window sweep (docs/timers.md): close every rejection whose window ran out undisputed.

State-based: a run closes whatever is expired at `now`, so runs missed while the service was
down are caught up by the next one. The rule is `rules.dispute_expired`; the store applies it
as conditional, batched SQL (aftersales/store/sweeps.py), one transaction per batch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from aftersales.domain.model import (
    DISPUTABLE_STATUSES,
    Actor,
    AfterSaleStatus,
    ChangeAction,
    DisputeStatus,
    EventSource,
)
from aftersales.store import sweeps
from aftersales.store.uow import exclusive, uow

log = logging.getLogger(__name__)

SWEEP_JOB = "dispute_sweep"
# The history action of a close made by the sweep.
EXPIRED_ACTION = ChangeAction.DISPUTE_WINDOW_EXPIRED
DEFAULT_BATCH_SIZE = 1000


class SweepBusy(Exception):
    """Another process (a replica, a cron `aftersales sweep`) is sweeping right now."""


async def sweep_expired_disputes(
    now: datetime,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Move every REJECTED / RECEIPT_REJECTED after-sale whose dispute deadline is at or before
    `now` and whose dispute is not IN_PROGRESS to REQUEST_CLOSED (actor SYSTEM, source
    SCHEDULER, one history entry each). Returns how many it closed.

    Works in transactions of at most `batch_size` rows; `on_batch` is told the running total
    after each committed batch. Raises `SweepBusy` when another process holds the sweep.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = 0
    async with exclusive(sweeps.SWEEP_LOCK_KEY) as acquired:
        if not acquired:
            raise SweepBusy("another process is sweeping expired disputes")
        for from_status in sorted(DISPUTABLE_STATUSES, key=lambda s: s.value):
            closing = sweeps.Closing(
                from_status=from_status,
                to_status=AfterSaleStatus.REQUEST_CLOSED,
                unless_dispute=DisputeStatus.IN_PROGRESS,
                actor=Actor.SYSTEM,
                source=EventSource.SCHEDULER,
                action=EXPIRED_ACTION,
            )
            while True:
                async with uow() as tx:
                    closed = await tx.sweeps.close_expired_batch(closing, now=now, limit=batch_size)
                total += closed
                if closed:
                    log.debug("closed %d %s after-sales (%d so far)", closed, from_status, total)
                    if on_batch is not None:
                        on_batch(total)
                # A short batch means nothing expired is left, except rows another transaction
                # holds right now (skipped on PostgreSQL): the next run sees what it committed.
                if closed < batch_size:
                    break
    return total
