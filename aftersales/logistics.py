"""The logistics-feed command: apply one return-parcel event (SPEC §3.2).

Like every command it loads the after-sale, asks the pure rules (aftersales.parcels) what
changes, and saves with a version check and a history entry in one transaction, retried when
it loses a race.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from aftersales import parcels
from aftersales.concurrency import Lost, retrying
from aftersales.domain import Actor, EventSource
from aftersales.parcels import Parcel, ParcelEvent
from aftersales.store import deliveries as store
from aftersales.store import repository as repo
from aftersales.store.models import AfterSale, Shop


class ParcelOutcome(enum.Enum):
    CREATED = "created"
    APPLIED = "applied"
    STALE = "stale"
    UNMAPPED = "unmapped"
    UNMATCHED = "unmatched"
    UNKNOWN_SHOP = "unknown_shop"


@dataclass(frozen=True)
class ParcelResult:
    outcome: ParcelOutcome
    after_sale_id: int | None = None
    reason: str | None = None
    # A tracking number the after-sale did not have before this event (it was created with it, or
    # the event set it): parcel events that waited for it can now be matched.
    gained_tracking: str | None = None


def _parcel(row: AfterSale) -> Parcel:
    return Parcel(
        status=row.status,
        return_status=row.return_status,
        tracking_number=row.tracking_number,
        carrier=row.carrier,
        parcel_event_at=row.parcel_event_at,
        returned_at=row.returned_at,
    )


async def _find(conn: repo.Connection, shop: Shop, event: ParcelEvent) -> AfterSale | None:
    """Matched by return_id, else by tracking number."""
    if event.return_id:
        row = await repo.load_by_return_id(conn, shop, event.return_id)
        if row is not None:
            return row
    if event.tracking_number:
        return await store.load_by_tracking(conn, shop, event.tracking_number, event.order_id)
    return None


async def apply_parcel_event(event: ParcelEvent, *, now: datetime) -> ParcelResult:
    """Move the parcel forward, or create the abnormal return a RETURN_TO_SENDER announces."""
    if event.status not in parcels.PARCEL_RETURN_STATUSES:
        return ParcelResult(ParcelOutcome.UNMAPPED, reason=f"unknown parcel status {event.status}")
    shop = await store.shop_by_tiktok_id(event.shop_id)
    if shop is None:
        return ParcelResult(ParcelOutcome.UNKNOWN_SHOP)

    async def attempt() -> ParcelResult:
        async with repo.transaction() as conn:
            row = await _find(conn, shop, event)
            if row is None:
                return await _create_abnormal(conn, shop, event, now)
            change = parcels.interpret(_parcel(row), event)
            if change is None:
                return ParcelResult(ParcelOutcome.STALE, row.id)
            saved = await repo.save_change(
                conn,
                row,
                change,
                at=now,
                actor=Actor.LOGISTICS,
                source=EventSource.LOGISTICS_WEBHOOK,
                detail=event.detail(),
            )
            if not saved:
                raise Lost
            gained = change.fields.get("tracking_number")
            return ParcelResult(ParcelOutcome.APPLIED, row.id, gained_tracking=gained)

    return await retrying(attempt)


async def _create_abnormal(
    conn: repo.Connection, shop: Shop, event: ParcelEvent, now: datetime
) -> ParcelResult:
    why_not = parcels.why_not_abnormal(event)
    if why_not is not None:
        return ParcelResult(ParcelOutcome.UNMATCHED, reason=why_not)
    row = await repo.create_sale(conn, shop, parcels.new_abnormal_fields(event), at=now)
    if row is None:  # a concurrent event for the same parcel created it first: match it
        raise Lost
    await repo.append_history(
        conn,
        row.id,
        at=now,
        actor=Actor.LOGISTICS,
        action=parcels.ABNORMAL_RETURN_CREATED,
        from_status=None,
        to_status=None,
        source=EventSource.LOGISTICS_WEBHOOK,
        detail=dict(event.detail(), abnormal_reason=event.abnormal_reason or ""),
    )
    return ParcelResult(ParcelOutcome.CREATED, row.id, gained_tracking=event.tracking_number)
