"""What TikTok reports about a return, and what it does to an after-sale (docs/webhooks.md).

TikTok is the source of truth for what it reports: a newer report is applied even when it skips
steps we never heard of; an equal or older one is stale: its status is ignored, but it still
fills in the details the after-sale lacks (`stale.fill_missing`), so no arrival order loses data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.domain import cancellations
from aftersales.domain.errors import Invalid
from aftersales.domain.model import (
    Actor,
    AfterSaleStatus,
    AfterSaleType,
    Change,
    ChangeAction,
    ChangeFields,
    DisputeStatus,
    LineItem,
    ReturnStatus,
    Sale,
)
from aftersales.domain.rules import (
    advance_return_status,
    must_not_ship,
    seller_response_deadline,
)
from aftersales.domain.sync import SyncStatus

S = AfterSaleStatus

PLATFORM_TYPES: dict[str, AfterSaleType] = {
    "REFUND": AfterSaleType.REFUND_ONLY,
    "RETURN_AND_REFUND": AfterSaleType.RETURN_AND_REFUND,
    "REPLACEMENT": AfterSaleType.EXCHANGE,
    cancellations.REPORT_TYPE: AfterSaleType.CANCELLATION,
}

# TikTok `return_status` -> our status. Spellings differ between TikTok's docs and SDKs, so
# every spelling seen in the wild is listed .
PLATFORM_STATUSES: dict[str, AfterSaleStatus] = {
    "RETURN_OR_REFUND_REQUEST_PENDING": S.PENDING_REQUEST,
    "REPLACEMENT_REQUEST_PENDING": S.PENDING_REQUEST,
    "AWAITING_BUYER_RESPONSE": S.AWAITING_BUYER_RESPONSE,
    "REFUND_OR_RETURN_REQUEST_REJECT": S.REJECTED,
    "RETURN_OR_REFUND_REQUEST_REJECT": S.REJECTED,
    "REFUND_OR_RETURN_REQUEST_REJECTED": S.REJECTED,
    "RETURN_OR_REFUND_REQUEST_REJECTED": S.REJECTED,
    "REPLACEMENT_REQUEST_REJECT": S.REJECTED,
    "AWAITING_BUYER_SHIP": S.AWAITING_BUYER_SHIPMENT,
    "BUYER_SHIPPED_ITEM": S.SHIPPED_BY_BUYER,
    "REJECT_RECEIVE_PACKAGE": S.RECEIPT_REJECTED,
    "RETURN_OR_REFUND_REQUEST_SUCCESS": S.REFUNDED,
    "RETURN_OR_REFUND_REQUEST_COMPLETE": S.REFUNDED,
    "REPLACEMENT_REQUEST_REFUND_SUCCESS": S.REFUNDED,
    "RETURN_OR_REFUND_REQUEST_CANCEL": S.REQUEST_CLOSED,
    "RETURN_OR_REFUND_REQUEST_CANCELLED": S.REQUEST_CLOSED,
    "REPLACEMENT_REQUEST_CANCEL": S.REQUEST_CLOSED,
    "REPLACEMENT_REQUEST_COMPLETE": S.EXCHANGE_ACCEPTED,
    **cancellations.STATUSES,
}

PLATFORM_RETURN_STATUSES: dict[str, ReturnStatus] = {
    "AWAITING_BUYER_SHIP": ReturnStatus.TO_RETURN,
    "BUYER_SHIPPED_ITEM": ReturnStatus.RETURNING,
}

ROLE_ACTORS: dict[str, Actor] = {
    "BUYER": Actor.BUYER,
    "SELLER": Actor.SELLER,
    "SYSTEM": Actor.SYSTEM,
    "OPERATOR": Actor.PLATFORM,
}

ARBITRATION_STATUSES: dict[str, DisputeStatus] = {
    s.value: s for s in DisputeStatus if s is not DisputeStatus.NONE
}

PLATFORM_STATUS_ACTION = ChangeAction.PLATFORM_STATUS_REPORTED
UNMAPPED_STATUS_ACTION = ChangeAction.PLATFORM_STATUS_UNMAPPED
DETAILS_FILLED_ACTION = ChangeAction.PLATFORM_DETAILS_FILLED


@dataclass(frozen=True)
class ReturnReport:
    """One type-12 report, typed. Optional fields come from a relay that called Search Returns."""

    return_id: str
    order_id: str
    return_type: str
    return_status: str
    update_time: datetime
    create_time: datetime | None = None
    role: str | None = None
    currency: str | None = None
    refund_total: Decimal | None = None
    items: tuple[LineItem, ...] | None = None
    reason_text: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    arbitration_status: str | None = None
    partial_refund: Decimal | None = None
    buyer_rejected_partial_refund: bool = False
    seller_deadline: datetime | None = None
    # Quick refund and edited requests (domain/edits.py): None when the report does not say.
    quick_refund: bool | None = None
    pre_return_id: str | None = None
    next_return_id: str | None = None
    # A cancellation's `cancel_type` (Search Cancellations only): BUYER_CANCEL or CANCEL.
    cancel_type: str | None = None

    @property
    def buyer_started(self) -> bool:
        """Not a cancellation, or one the buyer asked for (domain/cancellations.py)."""
        if not self.is_cancellation:
            return True
        return cancellations.buyer_started(self.role, self.cancel_type)

    @property
    def is_cancellation(self) -> bool:
        return self.return_type == cancellations.REPORT_TYPE

    @property
    def actor(self) -> Actor:
        return ROLE_ACTORS.get((self.role or "").upper(), Actor.PLATFORM)

    def actor_from(self, before: AfterSaleStatus | None) -> Actor:
        """Who acted, for a report applied to an after-sale in status `before`."""
        if self.is_cancellation:
            return cancellations.actor(self.return_status, self.role, before)
        return self.actor


def acting_status(
    status: AfterSaleStatus | None, platform_status: str | None, sync_status: str
) -> AfterSaleStatus | None:
    """The status a seller acts from (`availableActions`, the check of a new decision): ours,
    or, while our last decision FAILED, the one TikTok reports (`platform_status` mapped), since
    that is where the request stands on TikTok. Ours when TikTok's is one we do not map."""
    if sync_status != SyncStatus.FAILED.value or platform_status is None:
        return status
    return PLATFORM_STATUSES.get(platform_status.upper(), status)


def is_thin(report: ReturnReport) -> bool:
    """A report without the full return object (TikTok's own webhooks): no lines or amount."""
    return report.items is None or report.refund_total is None


def new_sale_fields(report: ReturnReport) -> dict[str, Any]:
    """The fields of an after-sale first seen through this report."""
    type_ = PLATFORM_TYPES.get(report.return_type.upper())
    if type_ is None:
        raise Invalid(
            f"unknown return_type {report.return_type!r}: cannot create an after-sale",
            field="return_type",
        )
    created_at = report.create_time or report.update_time
    return {
        "type": type_,
        "return_id": report.return_id,
        "order_id": report.order_id,
        "status": S.PENDING_REQUEST,
        "return_status": ReturnStatus.OTHER,
        "created_at": created_at,
        "seller_response_deadline": seller_response_deadline(type_, created_at),
    }


def new_sale(
    report: ReturnReport, *, region: str, dispute_window: timedelta
) -> tuple[dict[str, Any], Change]:
    """An after-sale first seen through this report, as it is created: its fields (the key
    `items` its lines), those of `new_sale_fields` with what the report says applied on top
    (`interpret`), and the history entry that records it (from no status)."""
    fields = new_sale_fields(report)
    sale = Sale(
        type=fields["type"],
        status=fields["status"],
        return_status=fields["return_status"],
        region=region,
        seller_response_deadline=fields["seller_response_deadline"],
        created_at=fields["created_at"],
    )
    change = interpret(sale, report, dispute_window=dispute_window)
    return {**fields, **change.fields}, Change(change.fields, change.action, None, change.to_status)


def interpret(sale: Sale, report: ReturnReport, *, dispute_window: timedelta) -> Change:
    """What a (fresh, not stale) report changes on `sale`."""
    raw = report.return_status.upper()
    if report.is_cancellation and cancellations.confirms_rejection(raw, sale.status):
        # TikTok closed the cancellation the seller rejected: the rejection stands, final.
        seen: ChangeFields = {
            "platform_status": report.return_status,
            "platform_updated_at": report.update_time,
            "last_event_at": report.update_time,
        }
        return Change(seen, PLATFORM_STATUS_ACTION, sale.status, sale.status, recorded=False)
    to_status = PLATFORM_STATUSES.get(raw)
    offer_open = sale.status is S.AWAITING_BUYER_RESPONSE
    if report.buyer_rejected_partial_refund and offer_open and to_status in (None, *_OFFER_OPEN):
        to_status = S.PENDING_REQUEST
    fields: ChangeFields = {
        "platform_status": report.return_status,
        "platform_updated_at": report.update_time,
        "last_event_at": report.update_time,
    }
    if to_status is not None:
        fields["status"] = to_status
        if to_status in (S.REJECTED, S.RECEIPT_REJECTED) and sale.status is not to_status:
            fields["dispute_deadline"] = report.update_time + dispute_window
        if to_status is S.PENDING_REQUEST and offer_open:
            fields["partial_refund_offer"] = None
    reported_parcel = PLATFORM_RETURN_STATUSES.get(raw)
    if reported_parcel is not None:
        fields["return_status"] = advance_return_status(sale.return_status, reported_parcel)
    if to_status is S.REFUNDED:
        # Once refunded, refund_total is what was refunded, no longer what the buyer asked for
        # (SUCCESS then COMPLETE both report REFUNDED): it only fills a request never seen open.
        if sale.status is not S.REFUNDED:
            if offer_open and sale.partial_refund_offer is not None:
                fields["refund_amount"] = sale.partial_refund_offer
            elif report.refund_total is not None:
                fields["refund_amount"] = report.refund_total
            else:
                fields["refund_amount"] = sale.refund_requested
        if sale.refund_requested is None and report.refund_total is not None:
            fields["refund_requested"] = report.refund_total
    elif report.refund_total is not None:
        fields["refund_requested"] = report.refund_total
    if report.currency:
        fields["currency"] = report.currency.upper()
    if report.partial_refund is not None and to_status is S.AWAITING_BUYER_RESPONSE:
        fields["partial_refund_offer"] = report.partial_refund
    if report.arbitration_status:
        dispute = ARBITRATION_STATUSES.get(report.arbitration_status.upper())
        if dispute is not None:
            fields["dispute_status"] = dispute
    if report.reason_text:
        fields["reason"] = report.reason_text
    if report.tracking_number:
        fields["tracking_number"] = report.tracking_number
    if report.carrier:
        fields["carrier"] = report.carrier
    if report.seller_deadline is not None:
        fields["seller_response_deadline"] = report.seller_deadline
    if report.items is not None:
        fields["items"] = report.items
    edit_fields(fields, sale, report, only_missing=False)
    if to_status is not None and sale.type is AfterSaleType.CANCELLATION:
        fields["must_not_ship"] = must_not_ship(sale.type, to_status)
    return Change(
        fields=fields,
        action=PLATFORM_STATUS_ACTION if to_status is not None else UNMAPPED_STATUS_ACTION,
        from_status=sale.status,
        to_status=to_status if to_status is not None else sale.status,
    )


_OFFER_OPEN = (S.AWAITING_BUYER_RESPONSE, S.PENDING_REQUEST)


def edit_fields(
    fields: ChangeFields, sale: Sale, report: ReturnReport, *, only_missing: bool
) -> None:
    """The quick-refund flag and the edited-request links a report carries (domain/edits.py):
    a link, once known, is never cleared; a stale report (`only_missing`) only fills what the
    after-sale lacks."""
    quick = report.quick_refund
    if (
        quick is not None
        and quick != sale.quick_refund
        and not (only_missing and sale.quick_refund)
    ):
        fields["quick_refund"] = quick
    pre, nxt = report.pre_return_id, report.next_return_id
    if pre and pre != sale.pre_return_id and not (only_missing and sale.pre_return_id):
        fields["pre_return_id"] = pre
    if nxt and nxt != sale.next_return_id and not (only_missing and sale.next_return_id):
        fields["next_return_id"] = nxt


def group_line_items(lines: list[tuple[str, str | None, Decimal | None]]) -> tuple[LineItem, ...]:
    """TikTok sends one line per unit; we keep one line per SKU with a quantity."""
    grouped: dict[str, LineItem] = {}
    for sku, name, unit_refund in lines:
        seen = grouped.get(sku)
        if seen is None:
            grouped[sku] = LineItem(sku=sku, product_name=name, quantity=1, unit_refund=unit_refund)
        else:
            grouped[sku] = LineItem(
                sku=sku,
                product_name=seen.product_name or name,
                quantity=seen.quantity + 1,
                unit_refund=seen.unit_refund if seen.unit_refund is not None else unit_refund,
            )
    return tuple(grouped.values())
