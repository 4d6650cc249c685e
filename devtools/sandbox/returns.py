"""Returns as TikTok's Search Returns shows them: a full object from a partial one, what a
control request may set, and the search's filters and pages."""

from __future__ import annotations

import base64
import binascii
import copy
import secrets
from collections.abc import Mapping
from typing import Any

from devtools.sandbox.envelope import BAD_PARAM, Answer, refuse
from devtools.sandbox.statuses import RETURN_AND_REFUND, next_actions, pending_status

LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z: later Unix seconds are no date at all

_IDS = ("return_id", "order_id")
_TEXTS = ("return_type", "return_status")
_TIMES = ("create_time", "update_time")


def with_defaults(obj: Mapping[str, Any], now: int) -> dict[str, Any]:
    """A full Search Returns object: `obj`'s fields over plausible defaults."""
    return_type = str(obj.get("return_type") or RETURN_AND_REFUND)
    currency = str((obj.get("refund_amount") or {}).get("currency") or "IDR")
    total = str((obj.get("refund_amount") or {}).get("refund_total") or "150000.00")
    create_time = int(obj.get("create_time") or now)
    base: dict[str, Any] = {
        "return_id": digits(19),
        "order_id": digits(18),
        "return_type": return_type,
        "return_status": pending_status(return_type),
        "role": "BUYER",
        "return_reason": "ecom_order_delivered_refund_and_return_reason_damaged_product",
        "return_reason_text": "Damaged product",
        "refund_amount": {
            "currency": currency,
            "refund_total": total,
            "refund_subtotal": total,
            "refund_shipping_fee": "0.00",
            "refund_tax": "0.00",
        },
        "return_line_items": [_default_line(currency, total)],
        "shipment_type": "PLATFORM",
        "handover_method": "DROP_OFF",
        "can_buyer_keep_item": False,
        "create_time": create_time,
        "update_time": create_time,
    }
    merged = base | copy.deepcopy(dict(obj))
    merged["refund_amount"] = base["refund_amount"] | dict(obj.get("refund_amount") or {})
    merged["return_id"] = str(merged["return_id"])
    merged["order_id"] = str(merged["order_id"])
    if "seller_next_action_response" not in obj:
        merged["seller_next_action_response"] = next_actions(merged)
    return merged


def problem(obj: Mapping[str, Any]) -> str | None:
    """What is wrong with a return a control request sends, if anything.

    Only the fields the sandbox itself reads are checked; every other field is stored as given,
    so odd answers can still be rehearsed.
    """
    for name in _IDS:
        value = obj.get(name)
        if value is not None and not ((isinstance(value, str) and value) or _whole(value)):
            return f"return.{name} must be a non-empty string or a whole number"
    for name in _TEXTS:
        value = obj.get(name)
        if value is not None and not isinstance(value, str):
            return f"return.{name} must be a string"
    for name in _TIMES:
        value = obj.get(name)
        if value is not None and not (_whole(value) and value <= LAST_SECOND):
            return f"return.{name} must be Unix seconds (0 to {LAST_SECOND})"
    amount = obj.get("refund_amount")
    if amount is not None and not (
        isinstance(amount, dict)
        and all(isinstance(amount.get(k), str | None) for k in ("currency", "refund_total"))
    ):
        return "return.refund_amount must be an object whose currency and refund_total are strings"
    return None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def digits(count: int) -> str:
    """A random id of `count` digits, as TikTok's ids are."""
    return str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(count - 1)
    )


def _default_line(currency: str, total: str) -> dict[str, Any]:
    return {
        "return_line_item_id": digits(19),
        "order_line_item_id": digits(19),
        "sku_id": digits(19),
        "seller_sku": "SBX-TSHIRT-M",
        "sku_name": "Black, M",
        "product_name": "Sandbox cotton T-shirt",
        "product_image": {
            "url": "https://example.com/sandbox/tshirt.jpg",
            "width": 600,
            "height": 600,
        },
        "refund_amount": {"currency": currency, "refund_total": total},
    }


# --- Search Returns: filters and pages ---------------------------------------------------

_LIST_FILTERS = {
    "return_ids": "return_id",
    "order_ids": "order_id",
    "return_types": "return_type",
    "return_status": "return_status",
    "arbitration_status": "arbitration_status",
}


def matches(obj: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    """Whether a return passes a Search Returns body's filters."""
    for name, attribute in _LIST_FILTERS.items():
        wanted = filters.get(name)
        if isinstance(wanted, list) and wanted and obj.get(attribute) not in wanted:
            return False
    for attribute in _TIMES:
        value = int(obj.get(attribute) or 0)
        low, high = filters.get(f"{attribute}_ge"), filters.get(f"{attribute}_lt")
        if isinstance(low, int) and value < low:
            return False
        if isinstance(high, int) and value >= high:
            return False
    return True


def paging(query: Mapping[str, str]) -> Answer | tuple[str, bool, int, int]:
    """Search Returns' query: (sort field, descending, page size, offset), or a refusal."""
    sort_field = query.get("sort_field", "create_time")
    sort_order = query.get("sort_order", "ASC")
    if sort_field not in _TIMES or sort_order not in ("ASC", "DESC"):
        return refuse(BAD_PARAM, "invalid param: sort_field or sort_order")
    try:
        size = int(query.get("page_size", ""))
    except ValueError:
        size = 0
    if not 10 <= size <= 50:
        return refuse(BAD_PARAM, "invalid param: page_size must be 10 to 50")
    offset = _page_offset(query.get("page_token", ""))
    if offset is None:
        return refuse(BAD_PARAM, "invalid param: page_token")
    return sort_field, sort_order == "DESC", size, offset


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _page_offset(token: str) -> int | None:
    if not token:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = decoded.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return offset if prefix == "offset" and offset >= 0 else None
