"""Parcel events that arrived before their after-sale (SPEC §3.2, and §3's "Nothing is lost").

The logistics feed often reports a return parcel before TikTok reports the return (its webhook may
lag or be retried for hours). Such an event matches nothing and is logged `unmatched`, with the
return_id and tracking number it is matched by kept in columns of their own. When an after-sale
appears or gains a tracking number, `apply_matching` applies the events that were waiting for it,
oldest `occurred_at` first, through the same command as a live event, and records each one's new
outcome on its own delivery, so the parcel ends as if the events had arrived in order.

It runs inside the caller's transaction, the one that records the delivery which made the events
match: the after-sale and the events waiting for it commit together, so no crash can leave a
matchable event behind with nothing left to apply it. Each event is applied in a savepoint of its
own: one that fails is logged `failed` (replayable) without undoing the report.

On PostgreSQL an event and the report that creates its return can commit at the same moment, so
that neither sees the other and the event stays `unmatched`: aftersales.rematch, a timer job,
finds such events from the state and applies them through `apply_matching` too.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aftersales import logistics, payloads
from aftersales.parcels import ParcelEvent
from aftersales.receipts import LOGISTICS, Outcome, Receipt
from aftersales.settling import Result, settle
from aftersales.store import deliveries as store

log = logging.getLogger(__name__)

_LISTED = 20  # deliveries named in a summary


async def apply_matching(
    shop_id: str, *, return_id: str | None, tracking_number: str | None, now: datetime
) -> list[Receipt]:
    """Apply the `unmatched` parcel events of `shop_id` that carry this return_id or tracking
    number, oldest first. An event that gives its after-sale a tracking number lets the events
    that carry only that number match in turn: they are applied next."""
    receipts: list[Receipt] = []
    tried: set[int] = set()
    keys: list[tuple[str | None, str | None]] = [(return_id, tracking_number)]
    while keys:
        by_return_id, by_tracking = keys.pop(0)
        for delivery_id, event in await _waiting(shop_id, by_return_id, by_tracking, tried):
            tried.add(delivery_id)
            receipt, gained = await _apply(delivery_id, event, now)
            if receipt is not None:
                receipts.append(receipt)
            if gained:
                keys.append((None, gained))
    return receipts


def summary(receipts: list[Receipt]) -> str | None:
    """A line for the delivery that made these events match, or None if there were none."""
    if not receipts:
        return None
    named = ", ".join(f"{r.delivery_id} {r.outcome.value}" for r in receipts[:_LISTED])
    more = ", ..." if len(receipts) > _LISTED else ""
    return f"parcel events that arrived first, now matched: deliveries {named}{more}"


async def _waiting(
    shop_id: str, return_id: str | None, tracking_number: str | None, tried: set[int]
) -> list[tuple[int, ParcelEvent]]:
    found = await store.matching(
        LOGISTICS,
        shop_id,
        Outcome.UNMATCHED.value,
        return_id=return_id,
        tracking_number=tracking_number,
    )
    events = []
    for stored in found:
        if stored.id in tried:
            continue
        try:
            events.append((stored.id, payloads.parse_parcel_event(stored.body.encode("utf-8"))))
        except payloads.Malformed:  # it was parsed when received: left as it is
            continue
    events.sort(key=lambda found: (found[1].occurred_at, found[0]))
    return events


async def _apply(
    delivery_id: int, event: ParcelEvent, now: datetime
) -> tuple[Receipt | None, str | None]:
    """Apply one waiting event; its receipt (None if another writer took it first) and the
    tracking number it gave its after-sale, if any."""
    gained: list[str | None] = [None]

    async def apply() -> Result:
        result = await logistics.apply_parcel_event(event, now=now)
        gained[0] = result.gained_tracking
        return Result(Outcome(result.outcome.value), result.after_sale_id, result.reason)

    receipt = await settle(delivery_id, kept_as=Outcome.UNMATCHED, apply=apply, now=now)
    applied = receipt is not None and receipt.outcome is not Outcome.FAILED
    return receipt, gained[0] if applied else None
