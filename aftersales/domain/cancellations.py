"""TikTok's cancellations (webhook type 11, Search Cancellations), in our words. Pure.

A buyer asks to cancel an order before it ships; the seller approves or rejects, or TikTok
approves on its own when the seller does not answer in time. A cancellation is an after-sale of
type CANCELLATION whose `returnId` is TikTok's `cancel_id`, applied by the same report rules as
returns (domain/tiktok.py) with the differences below (docs/lifecycle.md, docs/webhooks.md).
"""

from __future__ import annotations

from aftersales.domain.model import Actor, AfterSaleStatus

S = AfterSaleStatus

# The `return_type` a cancellation report carries inside this service (TikTok sends none).
REPORT_TYPE = "CANCELLATION"
PENDING = "CANCELLATION_REQUEST_PENDING"

# TikTok's `cancel_status` -> our status. The Search Cancellations filter spells the closed
# status `…_CANCEL`; reports say `…_CANCELLED`. There is no rejected status: TikTok closes a
# rejected cancellation (CANCELLED), which confirms the seller's rejection (`confirms_rejection`).
STATUSES: dict[str, AfterSaleStatus] = {
    PENDING: S.PENDING_REQUEST,
    "CANCELLATION_REQUEST_SUCCESS": S.REFUNDED,
    "CANCELLATION_REQUEST_COMPLETE": S.REFUNDED,
    "CANCELLATION_REQUEST_CANCELLED": S.REQUEST_CLOSED,
    "CANCELLATION_REQUEST_CANCEL": S.REQUEST_CLOSED,
}

# Who started it: `cancellations_role` (webhooks), `role` (search objects).
_ROLES = {"BUYER": Actor.BUYER, "SELLER": Actor.SELLER, "SYSTEM": Actor.SYSTEM}
# Search Cancellations' `cancel_type` of a buyer's request (`CANCEL`: the seller or the system).
BUYER_CANCEL = "BUYER_CANCEL"


def buyer_started(role: str | None, cancel_type: str | None = None) -> bool:
    """Only a buyer's request becomes an after-sale; the seller's and the system's are recorded."""
    if cancel_type:
        return cancel_type.upper() == BUYER_CANCEL
    return (role or "").upper() == "BUYER"


def actor(cancel_status: str, role: str | None, before: AfterSaleStatus | None) -> Actor:
    """Who acted, by what TikTok reports and where the request stood (`before`): a pending
    request was opened by its `cancellations_role`; approved without our push, TikTok approved
    it (the seller did not answer in time); closed while pending, the buyer withdrew it."""
    reported = STATUSES.get(cancel_status.upper())
    if reported is S.PENDING_REQUEST:
        return _ROLES.get((role or "").upper(), Actor.PLATFORM)
    if reported is S.REFUNDED:
        return Actor.PLATFORM
    if reported is S.REQUEST_CLOSED and before in (None, S.PENDING_REQUEST):
        return Actor.BUYER
    return Actor.SYSTEM


def confirms_rejection(cancel_status: str, status: AfterSaleStatus | None) -> bool:
    """TikTok closing a cancellation the seller rejected: the rejection stands (REJECTED)."""
    return status is S.REJECTED and STATUSES.get(cancel_status.upper()) is S.REQUEST_CLOSED
