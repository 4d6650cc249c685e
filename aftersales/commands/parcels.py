"""The logistics feed's parcel events (docs/webhooks.md): move a return parcel forward, or open
the abnormal return that a RETURN_TO_SENDER announces.

Like every command it loads the after-sale, asks the pure rules (aftersales.domain.parcels) what
changes, and saves with a version check and a history entry, retried when it loses a race.
"""

from __future__ import annotations

from datetime import datetime

from aftersales.commands.retry import Lost, retrying
from aftersales.domain import parcels
from aftersales.domain.model import Actor, Change, EventSource
from aftersales.domain.outcome import Outcome, Result
from aftersales.domain.parcels import ParcelEvent
from aftersales.store.records import SaleRecord, ShopRecord
from aftersales.store.sales import Entry
from aftersales.store.uow import Tx

# A carrier's feed can deliver a burst of scans of one parcel at once (repeats, retries): each
# lost race means another scan was applied, so allow as many attempts as a burst has scans.
PARCEL_ATTEMPTS = 25


async def apply_parcel_event(tx: Tx, event: ParcelEvent, *, now: datetime) -> Result:
    """Apply one event in `tx`. An attempt writes nothing before the write that may find it
    lost (the insert of an abnormal return, the version check), so it needs no savepoint."""
    if event.status not in parcels.PARCEL_RETURN_STATUSES:
        return Result(Outcome.UNMAPPED, reason=f"unknown parcel status {event.status}")
    shop = await tx.shops.by_shop_id(event.shop_id)
    if shop is None:
        return Result(Outcome.UNKNOWN_SHOP)

    async def attempt() -> Result:
        sale = await _find(tx, shop, event)
        if sale is None:
            return await _create_abnormal(tx, shop, event, now)
        change = parcels.interpret(sale.as_parcel(), event)
        if change is None:
            return Result(Outcome.STALE, sale.id)
        saved = await tx.sales.save(
            sale,
            change,
            at=now,
            actor=Actor.LOGISTICS,
            source=EventSource.LOGISTICS_WEBHOOK,
            detail=event.detail(),
        )
        if not saved:
            raise Lost
        if not change.recorded:  # a repeated scan: nothing anyone sees has changed
            return Result(Outcome.STALE, sale.id)
        gained = change.fields.get("tracking_number")
        return Result(Outcome.APPLIED, sale.id, gained_tracking=gained)

    return await retrying(attempt, attempts=PARCEL_ATTEMPTS)


async def _find(tx: Tx, shop: ShopRecord, event: ParcelEvent) -> SaleRecord | None:
    """Matched by return_id, else by tracking number."""
    if event.return_id:
        sale = await tx.sales.by_return_id(shop, event.return_id)
        if sale is not None:
            return sale
    if event.tracking_number:
        return await tx.sales.by_tracking(shop, event.tracking_number, event.order_id)
    return None


async def _create_abnormal(tx: Tx, shop: ShopRecord, event: ParcelEvent, now: datetime) -> Result:
    why_not = parcels.why_not_abnormal(event)
    if why_not is not None:
        return Result(Outcome.UNMATCHED, reason=why_not)
    entry = Entry(
        Change({}, parcels.ABNORMAL_RETURN_CREATED, from_status=None, to_status=None),
        now,
        Actor.LOGISTICS,
        EventSource.LOGISTICS_WEBHOOK,
        dict(event.detail(), abnormal_reason=event.abnormal_reason or ""),
    )
    sale = await tx.sales.create(shop, parcels.new_abnormal_fields(event), at=now, entry=entry)
    if sale is None:  # a concurrent event for the same parcel created it first: match it
        raise Lost
    return Result(Outcome.CREATED, sale.id, gained_tracking=event.tracking_number)
