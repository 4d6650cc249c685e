"""Cancellations as TikTok holds them (docs/tiktok-sandbox.md, "Cancellations"): a full Search
Cancellations object from a partial one, the search, Approve and Reject Cancellation, and the
type-11 webhook each status change pushes.

A buyer (or the seller, or the system) starts one; the buyer may withdraw it, TikTok may approve
it on its own, and an order marked shipped answers an approval with 25001045. TikTok retired
Reject Cancellation for US shops: there it is refused.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from devtools.sandbox.envelope import BAD_PARAM, NOT_FOUND, OK, Answer, refuse
from devtools.sandbox.returns import digits, page_token, paging

PENDING = "CANCELLATION_REQUEST_PENDING"
SUCCESS = "CANCELLATION_REQUEST_SUCCESS"
COMPLETE = "CANCELLATION_REQUEST_COMPLETE"
CANCELLED = "CANCELLATION_REQUEST_CANCELLED"
STATUSES = (PENDING, SUCCESS, COMPLETE, CANCELLED)
# The search filter spells the closed status `…_CANCEL`.
_FILTER_SPELLING = {"CANCELLATION_REQUEST_CANCEL": CANCELLED}
ALREADY_SHIPPED = 25001045  # Approve Cancellation: the order has already been shipped
ROLES = ("BUYER", "SELLER", "SYSTEM")
DAY = 86400
RESPOND_WITHIN = DAY  # the seller's time to answer before TikTok approves on its own

# Get Reject Reasons for a cancellation (`return_or_cancel_id`): the names Reject Cancellation
# takes.
REASONS = (
    ("seller_reject_apply_package_has_been_shipped", "The package has already been shipped"),
    ("seller_reject_apply_buyer_agreed_to_keep_order", "The buyer agreed to keep the order"),
)
REASON_NAMES = frozenset(name for name, _ in REASONS)


def with_defaults(obj: Mapping[str, Any], now: int) -> dict[str, Any]:
    """A full Search Cancellations object: `obj`'s fields over plausible defaults. `role`
    (BUYER, SELLER, SYSTEM) says who started it; `cancel_type` follows from it."""
    role = str(obj.get("role") or "BUYER").upper()
    currency = str((obj.get("refund_amount") or {}).get("currency") or "IDR")
    total = str((obj.get("refund_amount") or {}).get("refund_total") or "150000.00")
    create_time = int(obj.get("create_time") or now)
    base: dict[str, Any] = {
        "cancel_id": digits(19),
        "order_id": digits(18),
        "cancel_type": "BUYER_CANCEL" if role == "BUYER" else "CANCEL",
        "role": role,
        "cancel_reason": "ecom_order_unpaid_cancel_reason_no_longer_needed",
        "cancel_reason_text": "No longer needed",
        "cancel_status": PENDING,
        "refund_amount": {"currency": currency, "refund_total": total},
        "cancel_line_items": [
            {
                "cancel_line_item_id": digits(19),
                "order_line_item_id": digits(19),
                "sku_id": digits(19),
                "seller_sku": "SKU-SANDBOX-1",
                "product_name": "Sandbox product",
                "refund_amount": {"currency": currency, "refund_total": total},
            }
        ],
        "create_time": create_time,
        "update_time": create_time,
    }
    merged = base | copy.deepcopy(dict(obj))
    merged["role"] = role
    merged["cancel_id"] = str(merged["cancel_id"])
    merged["order_id"] = str(merged["order_id"])
    merged["seller_next_action_response"] = next_actions(merged)
    return merged


def problem(obj: Mapping[str, Any]) -> str | None:
    """What a control request's cancellation gets wrong, or None."""
    role = obj.get("role", "BUYER")
    if not isinstance(role, str) or role.upper() not in ROLES:
        return "role must be BUYER, SELLER or SYSTEM"
    status = obj.get("cancel_status", PENDING)
    if status not in STATUSES:
        return f"cancel_status must be one of {', '.join(STATUSES)}"
    for name in ("cancel_id", "order_id"):
        value = obj.get(name)
        if value is not None and not (isinstance(value, str) and value.isdigit()):
            return f"{name} must be a string of digits"
    return None


def next_actions(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """SELLER_RESPOND_CANCEL with its deadline while a buyer's request is pending."""
    if obj.get("cancel_status") != PENDING or obj.get("role") != "BUYER":
        return []
    deadline = int(obj.get("create_time") or 0) + RESPOND_WITHIN
    return [{"action": "SELLER_RESPOND_CANCEL", "deadline": deadline}]


def matches(obj: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    """Whether a cancellation passes a Search Cancellations body's filters."""
    ids = filters.get("cancel_ids")
    if isinstance(ids, list) and ids and obj.get("cancel_id") not in ids:
        return False
    statuses = filters.get("cancel_status")
    if isinstance(statuses, list) and statuses:
        wanted = {_FILTER_SPELLING.get(s, s) for s in statuses if isinstance(s, str)}
        if obj.get("cancel_status") not in wanted:
            return False
    for attribute in ("create_time", "update_time"):
        value = int(obj.get(attribute) or 0)
        low, high = filters.get(f"{attribute}_ge"), filters.get(f"{attribute}_lt")
        if isinstance(low, int) and value < low:
            return False
        if isinstance(high, int) and value >= high:
            return False
    return True


def search(found: list[dict[str, Any]], query: Mapping[str, str], body: Any) -> Answer:
    """One page of Search Cancellations over the shop's cancellations (`found`)."""
    if not isinstance(body, dict):
        return refuse(BAD_PARAM, "invalid param: the body must be a JSON object")
    paged = paging(query)
    if isinstance(paged, Answer):
        return paged
    sort_field, descending, size, offset = paged
    hits = [obj for obj in found if matches(obj, body)]
    hits.sort(key=lambda o: (int(o.get(sort_field) or 0), o["cancel_id"]), reverse=descending)
    page = hits[offset : offset + size]
    more = offset + size < len(hits)
    data = {
        "cancellations": copy.deepcopy(page),
        "next_page_token": page_token(offset + size) if more else "",
        "total_count": len(hits),
    }
    return Answer(OK, data=data)


def check_decision(
    obj: Mapping[str, Any] | None, verb: str, body: Any, *, region: str, shipped: bool
) -> Answer | str:
    """The status an approve or reject moves the cancellation to, or TikTok's refusal."""
    if obj is None:
        return refuse(NOT_FOUND, "Order not found.")
    if not isinstance(body, dict):
        return refuse(BAD_PARAM, "invalid param: the body must be a JSON object")
    if verb == "reject":
        if region.upper() == "US":
            return refuse(
                BAD_PARAM,
                "Reject Cancellation is not available for US shops: ship the package instead",
            )
        reason = body.get("reject_reason")
        if not (isinstance(reason, str) and reason in REASON_NAMES):
            return refuse(
                BAD_PARAM, "invalid param: reject_reason must be a name from Get Reject Reasons"
            )
    if obj.get("cancel_status") != PENDING:
        return refuse(BAD_PARAM, "the cancellation is not pending: it cannot be decided")
    if verb == "approve":
        if shipped:
            return refuse(ALREADY_SHIPPED, "The order has already been shipped.")
        return SUCCESS
    # A rejected cancellation closes: the order goes on (TikTok has no rejected status).
    return CANCELLED


def webhook_body(shop_id: str, obj: Mapping[str, Any], now: int) -> bytes:
    """A type-11 webhook "Cancellation status change", in TikTok's layout: no update_time,
    and `cancellations_role` is who started the cancellation."""
    payload = {
        "type": 11,
        "tts_notification_id": digits(19),
        "shop_id": shop_id,
        "timestamp": now,
        "data": {
            "order_id": obj["order_id"],
            "cancel_id": obj["cancel_id"],
            "cancel_status": obj["cancel_status"],
            "cancellations_role": obj["role"],
            "create_time": obj["create_time"],
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()
