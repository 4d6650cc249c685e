"""The two delivery formats, parsed: raw webhook bytes -> typed values. Pure.

`parse_tiktok` reads TikTok's envelope and, for type 12 (a return) or 11 (a cancellation), the
`data` object into a `tiktok.ReturnReport`; `parse_parcel_event` reads the logistics feed. Both
raise `Malformed` with a reason naming the field at fault (docs/webhooks.md has both formats).
They live in the inbox, not in the webhook package, because kept deliveries are parsed again
when replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftersales.domain import cancellations
from aftersales.domain.model import LineItem
from aftersales.domain.parcels import ParcelEvent, ParcelItem, group_items
from aftersales.domain.stock import MAX_LINE_QUANTITY
from aftersales.domain.tiktok import ReturnReport, group_line_items
from aftersales.inbox import jsonfields as f
from aftersales.inbox.jsonfields import Malformed

RETURN_STATUS_CHANGE = 12
CANCELLATION_STATUS_CHANGE = 11
# The shop's authorization (aftersales/domain/connection.py): revoked by the seller, or about to
# end. Both name the shop; neither is ever replayed when a shop is registered later.
DEAUTHORIZATION = 6
AUTHORIZATION_EXPIRING = 7
AUTHORIZATION_TYPES = (DEAUTHORIZATION, AUTHORIZATION_EXPIRING)
_NEEDS_SHOP = (RETURN_STATUS_CHANGE, CANCELLATION_STATUS_CHANGE, *AUTHORIZATION_TYPES)
MAX_LINES = 1000

__all__ = [
    "Malformed",
    "TikTokNotification",
    "parse_parcel_event",
    "parse_return_object",
    "parse_tiktok",
]


@dataclass(frozen=True)
class TikTokNotification:
    type: int
    notification_id: str | None
    shop_id: str | None
    timestamp: datetime | None
    report: ReturnReport | None = None  # types 12 and 11 only
    expiration_time: datetime | None = None  # type 7 only: when the authorization ends

    @property
    def event_time(self) -> datetime | None:
        """When it happened: the report's update_time, else the envelope's timestamp."""
        return self.report.update_time if self.report else self.timestamp


def parse_tiktok(body: bytes) -> TikTokNotification:
    envelope = f.loads_object(body)
    type_ = f.integer(envelope.get("type"), "type")
    assert type_ is not None
    data = f.obj(envelope.get("data"), "data")
    assert data is not None
    # FBT topics carry seller_open_id instead of shop_id: only types 6, 7, 11 and 12 need a shop.
    shop_id = f.identifier(envelope.get("shop_id"), "shop_id", required=type_ in _NEEDS_SHOP)
    if type_ in AUTHORIZATION_TYPES:
        f.text(data.get("message"), "data.message", limit=2000)
    # Type 11 has no update_time: its reports are ordered by the envelope's timestamp.
    timestamp = f.unix_time(
        envelope.get("timestamp"), "timestamp", required=type_ == CANCELLATION_STATUS_CHANGE
    )
    report = None
    if type_ == RETURN_STATUS_CHANGE:
        report = _return_report(data)
    elif type_ == CANCELLATION_STATUS_CHANGE:
        assert timestamp is not None
        report = _cancel_report(data, update_time=timestamp)
    return TikTokNotification(
        type=type_,
        notification_id=f.identifier(
            envelope.get("tts_notification_id"), "tts_notification_id", required=False
        ),
        shop_id=shop_id,
        timestamp=timestamp,
        report=report,
        expiration_time=_expiration(data) if type_ == AUTHORIZATION_EXPIRING else None,
    )


def _expiration(data: dict[str, Any]) -> datetime:
    """Type 7's `data.expiration_time`: Unix seconds, as a string (TikTok's) or an integer."""
    raw = data.get("expiration_time")
    if isinstance(raw, str):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 20:
            raise Malformed("data.expiration_time must be Unix seconds (a string of digits)")
        raw = f.JsonInt(raw)
    when = f.unix_time(raw, "data.expiration_time")
    assert when is not None
    return when


def parse_return_object(obj: dict[str, Any]) -> ReturnReport:
    """A return object of TikTok's Search Returns (the same names as a full type-12 report), or
    a cancellation object of Search Cancellations (it has a `cancel_id`)."""
    if "cancel_id" in obj:
        update_time = f.unix_time(obj.get("update_time"), "data.update_time")
        assert update_time is not None
        return _cancel_report(obj, update_time=update_time)
    return _return_report(obj)


def _cancel_report(data: dict[str, Any], *, update_time: datetime) -> ReturnReport:
    """A type-11 `data` object (thin: ids, status, who started it, when) or a Search
    Cancellations object (with the amount, the lines and TikTok's deadline)."""
    currency, refund_total = _money(data.get("refund_amount"), "data.refund_amount", "refund_total")
    items, items_currency = _line_items(data.get("cancel_line_items"), "data.cancel_line_items")
    return ReturnReport(
        return_id=_required_id(data, "cancel_id"),
        order_id=_required_id(data, "order_id"),
        return_type=cancellations.REPORT_TYPE,
        return_status=_required_text(data, "cancel_status", 64),
        update_time=update_time,
        create_time=f.unix_time(data.get("create_time"), "data.create_time", required=False),
        # `cancellations_role` in webhooks, `role` in Search Cancellations objects
        role=f.text(
            data.get("cancellations_role", data.get("role")), "data.cancellations_role", limit=16
        ),
        cancel_type=f.text(data.get("cancel_type"), "data.cancel_type", limit=32),
        currency=currency or items_currency,
        refund_total=refund_total,
        items=items,
        reason_text=f.text(data.get("cancel_reason_text"), "data.cancel_reason_text", limit=2000),
        seller_deadline=_seller_deadline(data.get("seller_next_action_response")),
    )


def _money(value: Any, where: str, field: str) -> tuple[str | None, Decimal | None]:
    money = f.obj(value, where, required=False)
    if money is None:
        return None, None
    return (
        f.currency(money.get("currency"), f"{where}.currency"),
        f.amount(money.get(field), f"{where}.{field}"),
    )


def _return_report(data: dict[str, Any]) -> ReturnReport:
    update_time = f.unix_time(data.get("update_time"), "data.update_time")
    assert update_time is not None
    currency, refund_total = _money(data.get("refund_amount"), "data.refund_amount", "refund_total")
    offer_currency, offer = _money(data.get("partial_refund"), "data.partial_refund", "amount")
    items, items_currency = _line_items(data.get("return_line_items"), "data.return_line_items")
    return ReturnReport(
        return_id=_required_id(data, "return_id"),
        order_id=_required_id(data, "order_id"),
        return_type=_required_text(data, "return_type", 32),
        return_status=_required_text(data, "return_status", 64),
        update_time=update_time,
        create_time=f.unix_time(data.get("create_time"), "data.create_time", required=False),
        # `return_role` in webhooks, `role` in Search Returns objects
        role=f.text(data.get("return_role", data.get("role")), "data.return_role", limit=16),
        currency=currency or offer_currency or items_currency,
        refund_total=refund_total,
        items=items,
        reason_text=f.text(data.get("return_reason_text"), "data.return_reason_text", limit=2000),
        tracking_number=f.text(
            data.get("return_tracking_number"), "data.return_tracking_number", limit=64
        ),
        carrier=f.text(data.get("return_provider_name"), "data.return_provider_name", limit=100),
        arbitration_status=f.text(
            data.get("arbitration_status"), "data.arbitration_status", limit=32
        ),
        partial_refund=offer,
        buyer_rejected_partial_refund=f.boolean(
            data.get("buyer_rejected_partial_refund"), "data.buyer_rejected_partial_refund"
        ),
        seller_deadline=_seller_deadline(data.get("seller_next_action_response")),
        # Quick refund and edited requests (domain/edits.py).
        quick_refund=(
            None
            if data.get("is_quick_refund") is None
            else f.boolean(data.get("is_quick_refund"), "data.is_quick_refund")
        ),
        pre_return_id=_edit_link(data, "pre_return_id"),
        next_return_id=_edit_link(data, "next_return_id"),
    )


def _edit_link(data: dict[str, Any], name: str) -> str | None:
    """An edited request's link; TikTok writes "0" or "" where there is none."""
    value = f.identifier(data.get(name), f"data.{name}", required=False)
    return None if value is None or value.strip("0") == "" else value


def _required_id(data: dict[str, Any], name: str) -> str:
    value = f.identifier(data.get(name), f"data.{name}")
    assert value is not None
    return value


def _required_text(data: dict[str, Any], name: str, limit: int) -> str:
    value = f.text(data.get(name), f"data.{name}", limit=limit, required=True)
    assert value is not None
    return value


def _line_items(value: Any, path: str) -> tuple[tuple[LineItem, ...] | None, str | None]:
    """TikTok's one-line-per-unit list at `path`, grouped by SKU (seller_sku, else sku_id)."""
    lines = f.array(value, path, limit=MAX_LINES)
    if lines is None:
        return None, None
    units: list[tuple[str, str | None, Decimal | None]] = []
    currency = None
    for n, raw in enumerate(lines):
        where = f"{path}[{n}]"
        line = f.obj(raw, where)
        assert line is not None
        sku = f.text(line.get("seller_sku"), f"{where}.seller_sku", limit=100) or f.identifier(
            line.get("sku_id"), f"{where}.sku_id", required=False
        )
        if sku is None:
            raise Malformed(f"{where} needs a seller_sku or a sku_id")
        name = f.text(line.get("product_name"), f"{where}.product_name", limit=300)
        line_currency, unit_refund = _money(
            line.get("refund_amount"), f"{where}.refund_amount", "refund_total"
        )
        currency = currency or line_currency
        units.append((sku, name, unit_refund))
    return group_line_items(units), currency


def _seller_deadline(value: Any) -> datetime | None:
    """The earliest deadline TikTok gives the seller (the authoritative SLA)."""
    entries = f.array(value, "data.seller_next_action_response", limit=50)
    deadlines = []
    for n, raw in enumerate(entries or []):
        where = f"data.seller_next_action_response[{n}]"
        entry = f.obj(raw, where)
        assert entry is not None
        f.text(entry.get("action"), f"{where}.action", limit=64)
        deadline = f.unix_time(entry.get("deadline"), f"{where}.deadline", required=False)
        if deadline is not None:
            deadlines.append(deadline)
    return min(deadlines) if deadlines else None


def parse_parcel_event(body: bytes) -> ParcelEvent:
    event = f.loads_object(body)
    event_id = f.identifier(event.get("event_id"), "event_id")
    shop_id = f.identifier(event.get("shop_id"), "shop_id")
    status = f.text(event.get("status"), "status", limit=32, required=True)
    assert event_id and shop_id and status
    return_id = f.identifier(event.get("return_id"), "return_id", required=False)
    tracking_number = f.text(event.get("tracking_number"), "tracking_number", limit=64)
    if return_id is None and tracking_number is None:
        raise Malformed("an event needs a return_id or a tracking_number to be matched")
    return ParcelEvent(
        event_id=event_id,
        occurred_at=f.iso_time(event.get("occurred_at"), "occurred_at"),
        shop_id=shop_id,
        status=status.upper(),
        order_id=f.identifier(event.get("order_id"), "order_id", required=False),
        return_id=return_id,
        tracking_number=tracking_number,
        carrier=f.text(event.get("carrier"), "carrier", limit=100),
        abnormal_reason=f.text(event.get("abnormal_reason"), "abnormal_reason", limit=32),
        items=_parcel_items(event.get("items")),
    )


def _parcel_items(value: Any) -> tuple[ParcelItem, ...] | None:
    lines = f.array(value, "items", limit=MAX_LINES)
    if lines is None:
        return None
    items = []
    for n, raw in enumerate(lines):
        line = f.obj(raw, f"items[{n}]")
        assert line is not None
        sku = f.text(line.get("sku"), f"items[{n}].sku", limit=100, required=True)
        quantity = f.integer(line.get("quantity"), f"items[{n}].quantity")
        assert sku is not None and quantity is not None
        # A parcel's line holds at most what one stock-in line may move.
        if not 0 < quantity <= MAX_LINE_QUANTITY:
            raise Malformed(
                f"items[{n}].quantity must be a whole number from 1 to {MAX_LINE_QUANTITY}"
            )
        items.append(ParcelItem(sku, quantity))
    return group_items(items)
