"""What the logistics feed reports about a return parcel, and what it does (docs/webhooks.md). Pure.

A parcel only moves forward (TO_RETURN -> RETURNING -> RETURNED), whatever order the events
arrive in: an event older than the newest one applied may still move the parcel forward (a late
DELIVERED scan is still a delivery) but never back, and never overwrites newer details. Applying
a set of events therefore ends in the same state in any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftersales.domain.model import (
    AbnormalReason,
    AfterSaleType,
    Change,
    ChangeAction,
    ChangeFields,
    LineItem,
    Parcel,
    ReturnStatus,
)
from aftersales.domain.rules import advance_return_status

IN_TRANSIT = "IN_TRANSIT"
DELIVERED = "DELIVERED"
RETURN_TO_SENDER = "RETURN_TO_SENDER"

PARCEL_RETURN_STATUSES: dict[str, ReturnStatus] = {
    IN_TRANSIT: ReturnStatus.RETURNING,
    DELIVERED: ReturnStatus.RETURNED,
    RETURN_TO_SENDER: ReturnStatus.RETURNING,
}

ABNORMAL_RETURN_CREATED = ChangeAction.ABNORMAL_RETURN_CREATED


@dataclass(frozen=True)
class ParcelItem:
    sku: str
    quantity: int


@dataclass(frozen=True)
class ParcelEvent:
    """One tracking event from the logistics feed, typed."""

    event_id: str
    occurred_at: datetime
    shop_id: str
    status: str
    order_id: str | None = None
    return_id: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    abnormal_reason: str | None = None
    items: tuple[ParcelItem, ...] | None = None

    @property
    def action(self) -> ChangeAction:
        """The history action: PARCEL_IN_TRANSIT, PARCEL_DELIVERED, ... (a ValueError for a
        status outside PARCEL_RETURN_STATUSES, which `interpret` never gets to)."""
        return ChangeAction(f"PARCEL_{self.status.upper()}")

    def detail(self) -> dict[str, str]:
        detail = {"event_id": self.event_id, "occurred_at": self.occurred_at.isoformat()}
        if self.tracking_number:
            detail["tracking_number"] = self.tracking_number
        return detail


def parcel_key(order_id: str, tracking_number: str) -> str:
    """Keeps abnormal returns unique per shop: one per order and tracking number."""
    return f"{order_id}/{tracking_number}"


def abnormal_reason(event: ParcelEvent) -> AbnormalReason | None:
    try:
        return AbnormalReason((event.abnormal_reason or "").upper())
    except ValueError:
        return None


def why_not_abnormal(event: ParcelEvent) -> str | None:
    """None when this unmatched event starts an abnormal return, else why it does not."""
    if event.status.upper() != RETURN_TO_SENDER:
        return f"no after-sale matches this {event.status} event"
    if event.return_id:
        return f"no after-sale has return_id {event.return_id}"
    if abnormal_reason(event) is None:
        names = ", ".join(r.value for r in AbnormalReason)
        return f"a RETURN_TO_SENDER without return_id needs an abnormal_reason ({names})"
    if not event.order_id or not event.tracking_number:
        return "a RETURN_TO_SENDER without return_id needs order_id and tracking_number"
    return None


def new_abnormal_fields(event: ParcelEvent) -> dict[str, Any]:
    """The fields of the ABNORMAL_RETURN an unmatched RETURN_TO_SENDER event creates."""
    assert event.order_id and event.tracking_number, "check why_not_abnormal first"
    fields: dict[str, Any] = {
        "type": AfterSaleType.ABNORMAL_RETURN,
        "return_id": None,
        "order_id": event.order_id,
        "status": None,
        "return_status": ReturnStatus.RETURNING,
        "abnormal_reason": abnormal_reason(event),
        "tracking_number": event.tracking_number,
        "carrier": event.carrier,
        "parcel_key": parcel_key(event.order_id, event.tracking_number),
        "parcel_event_at": event.occurred_at,
        "created_at": event.occurred_at,
    }
    if event.items:
        fields["items"] = tuple(LineItem(i.sku, None, i.quantity) for i in event.items)
    return fields


def group_items(items: list[ParcelItem]) -> tuple[ParcelItem, ...]:
    """One line per SKU, quantities added up."""
    totals: dict[str, int] = {}
    for item in items:
        totals[item.sku] = totals.get(item.sku, 0) + item.quantity
    return tuple(ParcelItem(sku, quantity) for sku, quantity in totals.items())


def interpret(parcel: Parcel, event: ParcelEvent) -> Change | None:
    """What a matched event changes, or None when it changes nothing (stale or repeated).

    A newer event that changes nothing else than the time of the newest scan (a repeated scan)
    still moves `parcel_event_at`, so that an older event arriving later cannot overwrite its
    details, but that change is not `recorded`: a repeated scan adds no history, however many
    times and in whatever order it arrives. The parcel's first scan is always recorded."""
    reported = PARCEL_RETURN_STATUSES.get(event.status.upper())
    if reported is None:
        return None
    fresh = parcel.parcel_event_at is None or event.occurred_at > parcel.parcel_event_at
    fields: ChangeFields = {}
    moved = advance_return_status(parcel.return_status, reported)
    if moved is not parcel.return_status:
        fields["return_status"] = moved
    arrived = reported is ReturnStatus.RETURNED
    if arrived and (parcel.returned_at is None or event.occurred_at < parcel.returned_at):
        fields["returned_at"] = event.occurred_at  # the first delivery scan is the arrival
    if event.tracking_number and not parcel.tracking_number:
        fields["tracking_number"] = event.tracking_number
    if fresh:
        fields["parcel_event_at"] = event.occurred_at
        if event.carrier and event.carrier != parcel.carrier:
            fields["carrier"] = event.carrier
    elif not fields:
        return None
    return Change(
        fields=fields,
        action=event.action,
        from_status=parcel.status,
        to_status=parcel.status,
        recorded=parcel.parcel_event_at is None or set(fields) != {"parcel_event_at"},
    )
