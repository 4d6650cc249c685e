"""TikTok's after-sale vocabulary as the sandbox speaks it: return types, return statuses
(spelled as TikTok's Search Returns and type-12 webhook documentation spell them), the seller's
next action on each, and the reasons Get Reject Reasons lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DAY = 24 * 3600
RESPONSE_WINDOW = 2 * DAY  # a seller has 48 hours to answer a pending request or a package

# return_type
REFUND = "REFUND"
RETURN_AND_REFUND = "RETURN_AND_REFUND"
REPLACEMENT = "REPLACEMENT"
ALL_TYPES = frozenset({REFUND, RETURN_AND_REFUND, REPLACEMENT})

# return_status
PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"
REJECTED = "REFUND_OR_RETURN_REQUEST_REJECT"
AWAITING_BUYER_SHIP = "AWAITING_BUYER_SHIP"
BUYER_SHIPPED_ITEM = "BUYER_SHIPPED_ITEM"
REJECT_RECEIVE_PACKAGE = "REJECT_RECEIVE_PACKAGE"
SUCCESS = "RETURN_OR_REFUND_REQUEST_SUCCESS"
COMPLETE = "RETURN_OR_REFUND_REQUEST_COMPLETE"
CANCELLED = "RETURN_OR_REFUND_REQUEST_CANCEL"
AWAITING_BUYER_RESPONSE = "AWAITING_BUYER_RESPONSE"
REPLACEMENT_PENDING = "REPLACEMENT_REQUEST_PENDING"
REPLACEMENT_REJECT = "REPLACEMENT_REQUEST_REJECT"
REPLACEMENT_REFUND_SUCCESS = "REPLACEMENT_REQUEST_REFUND_SUCCESS"
REPLACEMENT_CANCEL = "REPLACEMENT_REQUEST_CANCEL"
REPLACEMENT_COMPLETE = "REPLACEMENT_REQUEST_COMPLETE"

CANCELLED_STATUSES = frozenset({CANCELLED, REPLACEMENT_CANCEL})
APPROVED_STATUSES = frozenset(
    {
        AWAITING_BUYER_SHIP,
        BUYER_SHIPPED_ITEM,
        SUCCESS,
        COMPLETE,
        REPLACEMENT_COMPLETE,
        REPLACEMENT_REFUND_SUCCESS,
    }
)

NEXT_ACTIONS: dict[tuple[str, str], str] = {
    (REFUND, PENDING): "SELLER_RESPOND_REFUND",
    (RETURN_AND_REFUND, PENDING): "SELLER_RESPOND_RETURN",
    (RETURN_AND_REFUND, BUYER_SHIPPED_ITEM): "SELLER_RESPOND_RECEIVE_PACKAGE",
    (REPLACEMENT, REPLACEMENT_PENDING): "SELLER_RESPOND_REPLACEMENT",
}

# Made up for the sandbox, in the style of TikTok's reason names (one is from TikTok's sample).
# Like TikTok's, they differ by stage: a request (refund, return or replacement asked for)
# and a returned package (BUYER_SHIPPED_ITEM).
REQUEST_REASONS: tuple[tuple[str, str], ...] = (
    ("seller_reject_apply_product_has_been_used", "The product has been used"),
    (
        "seller_reject_apply_you_have_reached_an_agreement_with_the_buyer",
        "You have reached an agreement with the buyer",
    ),
    ("seller_reject_apply_product_is_not_defective", "The product is not damaged or defective"),
    (
        "seller_reject_apply_missing_proof_of_issue",
        "The buyer did not provide photos or videos of the issue",
    ),
)
PACKAGE_REASONS: tuple[tuple[str, str], ...] = (
    (
        "seller_reject_receive_package_not_the_item_sold",
        "The returned item is not the item sold",
    ),
    (
        "seller_reject_receive_package_damaged_by_buyer",
        "The returned item was damaged by the buyer",
    ),
    ("seller_reject_receive_package_empty_parcel", "The parcel arrived empty"),
)
REJECT_REASONS = REQUEST_REASONS + PACKAGE_REASONS
REJECT_REASON_NAMES = frozenset(name for name, _ in REJECT_REASONS)


def reasons_for(obj: Mapping[str, Any], locale: str | None) -> list[dict[str, str]]:
    """Get Reject Reasons for a return in its current stage. The sandbox has English texts
    only: for any other locale it says which one was asked for, so that a caller can see it
    was sent (e.g. "[id-ID] The product has been used")."""
    package = obj.get("return_status") == BUYER_SHIPPED_ITEM
    mark = "" if not locale or locale.lower().startswith("en") else f"[{locale}] "
    return [
        {"name": name, "text": mark + text}
        for name, text in (PACKAGE_REASONS if package else REQUEST_REASONS)
    ]


def pending_status(return_type: str) -> str:
    """The status a new request of this type starts in."""
    return REPLACEMENT_PENDING if return_type == REPLACEMENT else PENDING


def next_actions(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """`seller_next_action_response` for a return in its current type and status."""
    action = NEXT_ACTIONS.get((str(obj.get("return_type")), str(obj.get("return_status"))))
    if action is None:
        return []
    return [{"action": action, "deadline": int(obj["update_time"]) + RESPONSE_WINDOW}]
