"""Pruning the webhook delivery log: processed deliveries after one age, and, when asked,
deliveries that still wait (for their shop, their after-sale or a replay) after another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.domain.errors import Invalid
from aftersales.store.deliveries import PRUNE_BATCH
from aftersales.store.uow import uow


@dataclass(frozen=True)
class Pruned:
    deleted: int
    received_before: datetime
    waiting_received_before: datetime | None  # None: waiting deliveries were all kept


async def prune_deliveries(
    now: datetime,
    *,
    older_than: timedelta,
    waiting_older_than: timedelta | None = None,
    batch_size: int = PRUNE_BATCH,
) -> Pruned:
    """Delete what the log no longer needs. Waiting deliveries go only after an age at least
    that of the processed ones: giving up on a delivery is never quicker than forgetting one."""
    if waiting_older_than is not None and waiting_older_than < older_than:
        raise Invalid(
            "the age for waiting deliveries must be at least the age for processed ones",
            field="waiting_older_than",
        )
    cutoff = now - older_than
    waiting_cutoff = now - waiting_older_than if waiting_older_than is not None else None
    deleted = 0
    while True:  # one short transaction per batch: the log stays writable while it runs
        async with uow() as tx:
            done = await tx.deliveries.prune_batch(
                cutoff, batch_size, waiting_received_before=waiting_cutoff
            )
        deleted += done
        if done < batch_size:
            return Pruned(deleted, cutoff, waiting_cutoff)
