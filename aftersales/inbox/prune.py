"""Pruning the delivery log (`aftersales deliveries prune`): what no longer waits for anything."""

from __future__ import annotations

from datetime import datetime

from aftersales.store.deliveries import PRUNE_BATCH
from aftersales.store.uow import uow


async def prune(received_before: datetime, *, batch_size: int = PRUNE_BATCH) -> int:
    """Delete the deliveries received before `received_before` that no longer wait for
    anything, `batch_size` rows per transaction (each short: the log stays writable while it
    runs); how many were deleted."""
    deleted = 0
    while True:
        async with uow() as tx:
            done = await tx.deliveries.prune_batch(received_before, batch_size)
        deleted += done
        if done < batch_size:
            return deleted
