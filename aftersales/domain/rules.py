"""The seller actions, as a table to read next to docs/lifecycle.md, and the rules around it.

`TRANSITIONS` is `(type, action) -> (from status, to status)`, one row per seller decision.
`check` says whether an action is allowed now (and which `DomainError` forbids it);
`available_actions` is `check` applied to every action (worked out once per combination of
what `check` reads, then looked up); `decide` turns an allowed
status-changing action into the `Change` to save.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from aftersales.domain import money
from aftersales.domain.errors import (
    ActionNotAllowedForType,
    DomainError,
    Invalid,
    InvalidAmount,
    InvalidTransition,
    NotReturnedYet,
    RegionNotSupported,
)
from aftersales.domain.model import (
    DISPUTABLE_STATUSES,
    AfterSaleStatus,
    AfterSaleType,
    Change,
    ChangeAction,
    ChangeFields,
    DisputeStatus,
    ReturnStatus,
    Sale,
    SellerAction,
)

MAX_NOTE_LENGTH = 5000
MAX_REASON_LENGTH = 1000

S = AfterSaleStatus
T = AfterSaleType
A = SellerAction

# (type, action) -> (from status, to status). docs/lifecycle.md, row by row.
TRANSITIONS: dict[tuple[AfterSaleType, SellerAction], tuple[AfterSaleStatus, AfterSaleStatus]] = {
    (T.RETURN_AND_REFUND, A.ACCEPT_RETURN): (S.PENDING_REQUEST, S.AWAITING_BUYER_SHIPMENT),
    (T.RETURN_AND_REFUND, A.REJECT_RETURN): (S.PENDING_REQUEST, S.REJECTED),
    (T.RETURN_AND_REFUND, A.OFFER_PARTIAL_REFUND): (S.PENDING_REQUEST, S.AWAITING_BUYER_RESPONSE),
    (T.REFUND_ONLY, A.OFFER_PARTIAL_REFUND): (S.PENDING_REQUEST, S.AWAITING_BUYER_RESPONSE),
    (T.EXCHANGE, A.OFFER_PARTIAL_REFUND): (S.PENDING_REQUEST, S.AWAITING_BUYER_RESPONSE),
    (T.RETURN_AND_REFUND, A.CONFIRM_RECEIPT): (S.SHIPPED_BY_BUYER, S.REFUNDED),
    (T.RETURN_AND_REFUND, A.REJECT_RECEIPT): (S.SHIPPED_BY_BUYER, S.RECEIPT_REJECTED),
    (T.REFUND_ONLY, A.ACCEPT_REFUND): (S.PENDING_REQUEST, S.REFUNDED),
    (T.REFUND_ONLY, A.REJECT_REFUND): (S.PENDING_REQUEST, S.REJECTED),
    (T.EXCHANGE, A.ACCEPT_EXCHANGE): (S.PENDING_REQUEST, S.EXCHANGE_ACCEPTED),
    (T.EXCHANGE, A.REFUSE_EXCHANGE): (S.PENDING_REQUEST, S.REJECTED),
    (T.EXCHANGE, A.ISSUE_FULL_REFUND): (S.PENDING_REQUEST, S.REFUNDED),
    (T.CANCELLATION, A.APPROVE_CANCELLATION): (S.PENDING_REQUEST, S.REFUNDED),
    (T.CANCELLATION, A.REJECT_CANCELLATION): (S.PENDING_REQUEST, S.REJECTED),
}

# Actions that need a non-empty `reason` and start the dispute window.
REJECTIONS = frozenset({A.REJECT_RETURN, A.REJECT_RECEIPT, A.REJECT_REFUND, A.REFUSE_EXCHANGE})
# A rejected cancellation is final: a reason, but no dispute window (the sweep never closes it).
FINAL_REJECTIONS = frozenset({A.REJECT_CANCELLATION})
# Actions that refund what the buyer asked for.
FULL_REFUNDS = frozenset(
    {A.CONFIRM_RECEIPT, A.ACCEPT_REFUND, A.ISSUE_FULL_REFUND, A.APPROVE_CANCELLATION}
)
# TikTok retired Reject Cancellation for US shops: a US seller rejects by shipping the order.
REGION_RETIRED: dict[SellerAction, frozenset[str]] = {A.REJECT_CANCELLATION: frozenset({"US"})}
# Actions that do not move the status; who may use them is decided in `check`.
STATUS_PRESERVING = frozenset({A.ADD_NOTE, A.REPRINT_SHIPPING_LABEL, A.STOCK_IN})
# No region rule: TikTok opens replacement requests only where it offers them (today ID and
# US), so every EXCHANGE it reports can be accepted. `RegionNotSupported` stays in the error
# vocabulary (and `REGION_NOT_SUPPORTED` in the API's) for a rule that may need it again.
QUICK_REFUND_REFUSED = "quick-refund return: the receipt cannot be rejected"
STOCK_IN_STATUSES = frozenset(
    {AfterSaleStatus.REFUNDED, AfterSaleStatus.REQUEST_CLOSED, AfterSaleStatus.EXCHANGE_ACCEPTED}
)

_RETURN_RANK = {
    ReturnStatus.OTHER: 0,
    ReturnStatus.TO_RETURN: 1,
    ReturnStatus.RETURNING: 2,
    ReturnStatus.RETURNED: 3,
}


def _human(name: str) -> str:
    return name.replace("_", " ").lower()


def _a(words: str) -> str:
    """`words` with its indefinite article: "an exchange", "a refund only"."""
    return f"{'an' if words[:1] in set('aeiou') else 'a'} {words}"


def check(sale: Sale, action: SellerAction) -> None:
    """Raise the DomainError that forbids `action` on `sale` now, or return if it is allowed."""
    if action is A.ADD_NOTE:
        return
    if action is A.RETRY_SYNC:
        # Not a rule of the request's status: `retrySync` answers for itself, and
        # `availableActions` lists it while the last decision sent to TikTok is FAILED.
        raise InvalidTransition("only a decision whose sync FAILED can be retried")
    if action is A.REPRINT_SHIPPING_LABEL:
        if sale.type is T.ABNORMAL_RETURN:
            if not sale.tracking_number:
                raise InvalidTransition(
                    "this parcel has no tracking number yet, so there is no label"
                )
            return
        if sale.type is not T.RETURN_AND_REFUND:
            raise ActionNotAllowedForType(
                f"{_a(_human(sale.type.value))} request has no return parcel to label"
            )
        if not sale.tracking_number:
            raise InvalidTransition("this return has no shipment yet, so there is no label")
        return
    if action is A.STOCK_IN:
        # No type rule: whatever came back to the warehouse can be stocked in.
        if sale.return_status is not ReturnStatus.RETURNED:
            raise NotReturnedYet("the return parcel has not arrived at the warehouse yet")
        if sale.type is not T.ABNORMAL_RETURN and sale.status not in STOCK_IN_STATUSES:
            raise InvalidTransition(
                "returned goods are stocked in once the request is refunded, closed or exchanged"
            )
        return
    rule = TRANSITIONS.get((sale.type, action))
    if rule is None:
        raise ActionNotAllowedForType(
            f"{_human(action.value)} is not an action for {_a(_human(sale.type.value))} request"
        )
    if action is A.REJECT_RECEIPT and sale.quick_refund:
        # TikTok refunds a quick-refund return without waiting for the parcel, and refuses a
        # rejection of its receipt (25011025).
        raise InvalidTransition(QUICK_REFUND_REFUSED)
    if sale.region.upper() in REGION_RETIRED.get(action, ()):
        raise RegionNotSupported(
            f"TikTok does not offer {_human(action.value)} in {sale.region.upper()}:"
            " a seller there rejects a cancellation by shipping the order"
        )
    from_status, _ = rule
    if sale.status is not from_status:
        current = _human(sale.status.value) if sale.status else "no status"
        raise InvalidTransition(
            f"cannot {_human(action.value)}: the request is {current},"
            f" and this action needs {_human(from_status.value)}"
        )


# What `check` reads of a sale, and nothing else: its type and status, whether it is a quick
# refund, whether it has a tracking number, whether the parcel is back, and whether its region
# is one where TikTok retired an action (REGION_RETIRED). Each such
# combination's allowed actions are worked out once, by `check` itself (`_allowed`), then read
# from this table: no exception per refused action on every row of a page.
# tests/unit/test_transitions.py holds the table to the contract for every combination.
ActionsKey = tuple[AfterSaleType, AfterSaleStatus | None, bool, bool, bool, str]
_RETIRED_REGIONS = frozenset().union(*REGION_RETIRED.values())
_AVAILABLE: dict[ActionsKey, tuple[SellerAction, ...]] = {}


def actions_key(
    type_: AfterSaleType,
    status: AfterSaleStatus | None,
    tracking_number: str | None,
    return_status: ReturnStatus,
    *,
    quick_refund: bool = False,
    region: str = "",
) -> ActionsKey:
    region = region.upper()
    return (
        type_,
        status,
        quick_refund,
        bool(tracking_number),
        return_status is ReturnStatus.RETURNED,
        region if region in _RETIRED_REGIONS else "",
    )


def _allowed(sale: Sale) -> tuple[SellerAction, ...]:
    """`check` applied to every action, in enum order."""
    allowed = []
    for action in SellerAction:
        try:
            check(sale, action)
        except DomainError:
            continue
        allowed.append(action)
    return tuple(allowed)


def actions_for(
    type_: AfterSaleType,
    status: AfterSaleStatus | None,
    tracking_number: str | None,
    return_status: ReturnStatus,
    *,
    quick_refund: bool = False,
    region: str = "",
) -> tuple[SellerAction, ...]:
    """`available_actions` from the fields `check` reads, without building a `Sale`."""
    key = actions_key(
        type_, status, tracking_number, return_status, quick_refund=quick_refund, region=region
    )
    found = _AVAILABLE.get(key)
    if found is None:
        sale = Sale(
            type=type_,
            status=status,
            return_status=return_status,
            region=key[-1],
            tracking_number=tracking_number,
            quick_refund=quick_refund,
        )
        found = _AVAILABLE[key] = _allowed(sale)
    return found


def available_actions(sale: Sale) -> list[SellerAction]:
    """The actions a seller may take now: those `check` allows, in enum order."""
    return list(
        actions_for(
            sale.type,
            sale.status,
            sale.tracking_number,
            sale.return_status,
            quick_refund=sale.quick_refund,
            region=sale.region,
        )
    )


def decide(
    sale: Sale,
    action: SellerAction,
    *,
    now: datetime,
    dispute_window: timedelta,
    reason: str | None = None,
    amount: Decimal | None = None,
) -> Change:
    """Apply a status-changing seller action: validate, then say what changes."""
    if action in STATUS_PRESERVING:
        raise ValueError(f"{action} does not change the status; use check()")
    check(sale, action)
    _, to_status = TRANSITIONS[(sale.type, action)]
    fields: ChangeFields = {"status": to_status}
    if action in REJECTIONS or action in FINAL_REJECTIONS:
        if reason is None or not reason.strip():
            raise Invalid("a reason is required to reject", field="reason")
        fields["reject_reason"] = reason.strip()
        fields["dispute_status"] = DisputeStatus.NONE
    if action in REJECTIONS:
        fields["dispute_deadline"] = now + dispute_window
    if action is A.ACCEPT_RETURN:
        fields["return_status"] = ReturnStatus.TO_RETURN
    if action is A.OFFER_PARTIAL_REFUND:
        fields["partial_refund_offer"] = validate_partial_refund(sale, amount)
    if action in FULL_REFUNDS:
        fields["refund_amount"] = sale.refund_requested
    if sale.type is T.CANCELLATION:
        fields["must_not_ship"] = must_not_ship(sale.type, to_status)
    return Change(
        fields=fields, action=ChangeAction.of(action), from_status=sale.status, to_status=to_status
    )


def validate_partial_refund(sale: Sale, amount: Decimal | None) -> Decimal:
    if amount is None or not amount.is_finite():
        raise InvalidAmount("amount must be a decimal number", field="amount")
    if amount <= 0:
        raise InvalidAmount("a partial refund must be more than zero", field="amount")
    if sale.refund_requested is None:
        raise InvalidAmount(
            "the buyer's requested refund is not known yet, so no partial refund can be offered",
            field="amount",
        )
    if amount > sale.refund_requested:
        raise InvalidAmount(
            f"a partial refund cannot exceed the {sale.refund_requested} {sale.currency or ''}"
            " the buyer asked for".replace("  ", " "),
            field="amount",
        )
    # In the currency's own digits (CLDR): 40000.00 IDR is 40000, 40000.5 IDR is refused.
    exact = money.exact(amount, sale.currency)
    if exact is None:
        raise InvalidAmount(money.describe_digits(sale.currency), field="amount")
    return exact


def advance_return_status(current: ReturnStatus, reported: ReturnStatus) -> ReturnStatus:
    """A parcel only moves forward: TO_RETURN -> RETURNING -> RETURNED."""
    return reported if _RETURN_RANK[reported] > _RETURN_RANK[current] else current


def seller_response_deadline(type_: AfterSaleType, created_at: datetime) -> datetime | None:
    """The default SLA when TikTok gives none: 48 h, 24 h for exchanges and cancellations
    (docs/timers.md)."""
    if type_ is T.ABNORMAL_RETURN:
        return None
    short = type_ in (T.EXCHANGE, T.CANCELLATION)
    return created_at + timedelta(hours=24 if short else 48)


def must_not_ship(
    type_: AfterSaleType, status: AfterSaleStatus | None, *, already_shipped: bool = False
) -> bool:
    """A cancellation TikTok applied (REFUNDED): the warehouse must pull the parcel. Not when
    TikTok answered the approval "already shipped" (25001045): it did not cancel the order."""
    return type_ is T.CANCELLATION and status is S.REFUNDED and not already_shipped


def dispute_expired(
    status: AfterSaleStatus | None,
    dispute_status: DisputeStatus,
    dispute_deadline: datetime | None,
    now: datetime,
    *,
    sync_failed: bool = False,
) -> bool:
    """True when the sweep must close the request (docs/timers.md). The store's SQL mirrors this.
    `sync_failed`: the rejection never reached TikTok (its sync FAILED): never closed here."""
    return (
        not sync_failed
        and status in DISPUTABLE_STATUSES
        and dispute_status is not DisputeStatus.IN_PROGRESS
        and dispute_deadline is not None
        and dispute_deadline <= now
    )


def limit_text(value: str | None, name: str, limit: int) -> str | None:
    """`value` unchanged, or `Invalid` naming `name` when it is longer than `limit`."""
    if value is None:
        return None
    if len(value) > limit:
        raise Invalid(f"{name} is limited to {limit} characters", field=name)
    return value
