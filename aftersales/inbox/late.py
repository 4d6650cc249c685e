"""Parcel events that arrived before their after-sale ("nothing is lost", docs/webhooks.md).

The logistics feed often reports a return parcel before TikTok reports the return (its webhook may
lag or be retried for hours). Such an event matches nothing and is logged `unmatched`, with the
return_id and tracking number it is matched by kept in columns of their own. When an after-sale
appears or gains a tracking number, `apply_matching` applies the events that were waiting for it,
oldest `occurred_at` first, through the same command as a live event, and records each one's new
outcome on its own delivery, so the parcel ends as if the events had arrived in order.

It runs in the caller's unit of work, the one that records the delivery which made the events
match: the after-sale and the events waiting for it commit together, so no crash can leave a
matchable event behind with nothing left to apply it. Each event is claimed, applied and recorded
in a savepoint of its own (aftersales.inbox.log): one that fails is logged `failed`
(replayable) without undoing the report.

On PostgreSQL an event and the report that creates its return can commit at the same moment, so
that neither sees the other and the event stays `unmatched`: aftersales.inbox.rematch, a timer
job, finds such events from the state and applies them through `apply_matching` too.
"""

from __future__ import annotations

from datetime import datetime

from aftersales.commands.parcels import apply_parcel_event
from aftersales.domain.outcome import Outcome, Result
from aftersales.domain.parcels import ParcelEvent
from aftersales.inbox import payloads
from aftersales.inbox.log import Kept, claim_apply_record
from aftersales.store.deliveries import LOGISTICS
from aftersales.store.uow import Tx

_LISTED = 20  # deliveries named in a summary


async def apply_matching(
    tx: Tx, shop_id: str, *, return_id: str | None, tracking_number: str | None, now: datetime
) -> list[Result]:
    """Apply, in `tx`, the `unmatched` parcel events of `shop_id` that carry this return_id or
    tracking number, oldest first. An event that gives its after-sale a tracking number lets the
    events that carry only that number match in turn: they are applied next."""
    results: list[Result] = []
    tried: set[int] = set()
    keys: list[tuple[str | None, str | None]] = [(return_id, tracking_number)]
    while keys:
        by_return_id, by_tracking = keys.pop(0)
        for delivery_id, event in await _waiting(tx, shop_id, by_return_id, by_tracking, tried):
            tried.add(delivery_id)
            result = await _apply(tx, delivery_id, event, now)
            if result is None:  # another writer took it first
                continue
            results.append(result)
            if result.outcome is not Outcome.FAILED and result.gained_tracking:
                keys.append((None, result.gained_tracking))
    return results


def summary(results: list[Result]) -> str | None:
    """A line for the delivery that made these events match, or None if there were none."""
    if not results:
        return None
    named = ", ".join(f"{r.delivery_id} {r.outcome.value}" for r in results[:_LISTED])
    more = ", ..." if len(results) > _LISTED else ""
    return f"parcel events that arrived first, now matched: deliveries {named}{more}"


async def _waiting(
    tx: Tx, shop_id: str, return_id: str | None, tracking_number: str | None, tried: set[int]
) -> list[tuple[int, ParcelEvent]]:
    found = await tx.deliveries.matching(
        LOGISTICS, shop_id, Outcome.UNMATCHED, return_id=return_id, tracking_number=tracking_number
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


async def _apply(tx: Tx, delivery_id: int, event: ParcelEvent, now: datetime) -> Result | None:
    async def apply(sp: Tx) -> Result:
        return await apply_parcel_event(sp, event, now=now)

    claim = Kept(delivery_id, Outcome.UNMATCHED, at=now)
    return await claim_apply_record(tx.savepoint, claim, apply, now=now)
