"""Applying a delivery that was kept in the log: claim it, apply it, record what happened.

Shared by the replay of deliveries that waited for their shop (aftersales.inbox) and of parcel
events that waited for their return (aftersales.backlog). The claim is a conditional update
from the outcome the delivery was kept under, so two writers never apply it twice; a failure
is recorded the same way, so it never overwrites what a rival writer recorded meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aftersales.receipts import Outcome, Receipt, describe
from aftersales.store import deliveries as store
from aftersales.store import repository as repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Result:
    """What applying a delivery did."""

    outcome: Outcome
    after_sale_id: int | None = None
    reason: str | None = None


async def settle(
    delivery_id: int, *, kept_as: Outcome, apply: Callable[[], Awaitable[Result]], now: datetime
) -> Receipt | None:
    """Apply a delivery kept as `kept_as`; None when another writer claimed it first."""
    try:
        async with repo.transaction() as conn:  # a savepoint within any caller's transaction
            claimed = await store.finish(
                conn,
                delivery_id,
                outcome=Outcome.PROCESSING.value,
                reason=None,
                after_sale_id=None,
                at=now,
                expected=kept_as.value,
            )
            if not claimed:
                return None
            result = await apply()
            await store.finish(
                conn,
                delivery_id,
                outcome=result.outcome.value,
                reason=result.reason,
                after_sale_id=result.after_sale_id,
                at=now,
            )
            return Receipt(delivery_id, result.outcome, result.after_sale_id, result.reason)
    except Exception as exc:  # keep the delivery, with the error, replayable
        reason = describe(exc)
        log.warning("kept delivery %s could not be applied: %s", delivery_id, reason)
    async with repo.transaction() as conn:
        recorded = await store.finish(
            conn,
            delivery_id,
            outcome=Outcome.FAILED.value,
            reason=reason,
            after_sale_id=None,
            at=now,
            expected=kept_as.value,
        )
    return Receipt(delivery_id, Outcome.FAILED, reason=reason) if recorded else None
