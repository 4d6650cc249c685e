"""The seller-action rules (docs/lifecycle.md and docs/stock.md), row by row, and every
combination the table refuses."""

from __future__ import annotations

import enum
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

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
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    ReturnStatus,
    Sale,
    SellerAction,
)
from aftersales.domain.rules import TRANSITIONS, available_actions, check, decide


def _name(value: object) -> str:
    """A readable test id: an enum member's value, else the value itself."""
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


S = AfterSaleStatus
T = AfterSaleType
A = SellerAction

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
WINDOW = timedelta(hours=48)
REQUESTED = Decimal("100.00")

# docs/lifecycle.md, copied from the contract, not the code: (type, action) -> (from, to).
CONTRACT_ROWS: dict[tuple[AfterSaleType, SellerAction], tuple[AfterSaleStatus, AfterSaleStatus]] = {
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
    # Cancellations (docs/lifecycle.md, "Cancellations").
    (T.CANCELLATION, A.APPROVE_CANCELLATION): (S.PENDING_REQUEST, S.REFUNDED),
    (T.CANCELLATION, A.REJECT_CANCELLATION): (S.PENDING_REQUEST, S.REJECTED),
}
CONTRACT_REJECTIONS = {A.REJECT_RETURN, A.REJECT_RECEIPT, A.REJECT_REFUND, A.REFUSE_EXCHANGE}
# A rejected cancellation is final: a reason, no dispute window.
CONTRACT_FINAL_REJECTIONS = {A.REJECT_CANCELLATION}
CONTRACT_FULL_REFUNDS = {
    A.CONFIRM_RECEIPT,
    A.ACCEPT_REFUND,
    A.ISSUE_FULL_REFUND,
    A.APPROVE_CANCELLATION,
}
# Actions TikTok retired in a region: refused there, never listed.
CONTRACT_RETIRED = {A.REJECT_CANCELLATION: {"US"}}
# The "also" column: which fields each action writes besides the status.
CONTRACT_SIDE_EFFECTS: dict[SellerAction, set[str]] = {
    A.ACCEPT_RETURN: {"return_status"},
    A.OFFER_PARTIAL_REFUND: {"partial_refund_offer"},
    A.ACCEPT_EXCHANGE: set(),
    **{a: {"reject_reason", "dispute_deadline", "dispute_status"} for a in CONTRACT_REJECTIONS},
    **{a: {"refund_amount"} for a in CONTRACT_FULL_REFUNDS},
    A.APPROVE_CANCELLATION: {"refund_amount", "must_not_ship"},
    A.REJECT_CANCELLATION: {"reject_reason", "dispute_status", "must_not_ship"},
}
STOCK_IN_STATUSES = {S.REFUNDED, S.REQUEST_CLOSED, S.EXCHANGE_ACCEPTED}
STATUSES: list[AfterSaleStatus | None] = [None, *S]
# The parts of an after-sale, besides type and status, that some rule reads (the region is read
# by none: every exchange TikTok opens can be accepted, US shops included).
CONTEXTS = list(
    itertools.product(["ID", "US"], [None, "JX0001"], list(ReturnStatus), [False, True])
)


def make(
    type_: AfterSaleType,
    status: AfterSaleStatus | None = S.PENDING_REQUEST,
    *,
    region: str = "ID",
    return_status: ReturnStatus = ReturnStatus.OTHER,
    tracking_number: str | None = None,
    refund_requested: Decimal | None = REQUESTED,
    quick_refund: bool = False,
) -> Sale:
    return Sale(
        type=type_,
        status=status,
        return_status=return_status,
        region=region,
        currency="MYR",
        refund_requested=refund_requested,
        tracking_number=tracking_number,
        quick_refund=quick_refund,
    )


def expected_refusal(sale: Sale, action: SellerAction) -> type[DomainError] | None:
    """What docs/lifecycle.md and docs/stock.md say `check` raises; None when it is allowed."""
    if action is A.ADD_NOTE:
        return None
    if action is A.RETRY_SYNC:  # listed by sync state, never by the rules (docs/tiktok-sync.md)
        return InvalidTransition
    if action is A.REPRINT_SHIPPING_LABEL:
        if sale.type in (T.ABNORMAL_RETURN, T.RETURN_AND_REFUND):
            return None if sale.tracking_number else InvalidTransition
        return ActionNotAllowedForType
    if action is A.STOCK_IN:
        if sale.return_status is not ReturnStatus.RETURNED:
            return NotReturnedYet
        if sale.type is T.ABNORMAL_RETURN or sale.status in STOCK_IN_STATUSES:
            return None
        return InvalidTransition
    row = CONTRACT_ROWS.get((sale.type, action))
    if row is None:
        return ActionNotAllowedForType
    if action is A.REJECT_RECEIPT and sale.quick_refund:
        return InvalidTransition
    if sale.region.upper() in CONTRACT_RETIRED.get(action, set()):
        return RegionNotSupported
    return None if sale.status is row[0] else InvalidTransition


def refusal_of(sale: Sale, action: SellerAction) -> type[DomainError] | None:
    try:
        check(sale, action)
    except DomainError as exc:
        return type(exc)
    return None


def arguments_for(action: SellerAction) -> tuple[str | None, Decimal | None]:
    """(reason, amount) that make `action` valid."""
    if action in CONTRACT_REJECTIONS or action in CONTRACT_FINAL_REJECTIONS:
        return "  item was used  ", None
    if action is A.OFFER_PARTIAL_REFUND:
        return None, Decimal("40.00")
    return None, None


def _row_id(row: tuple[AfterSaleType, SellerAction]) -> str:
    return f"{row[0].value}-{row[1].value}"


ROWS = sorted(TRANSITIONS, key=_row_id)


def test_transition_table_is_exactly_the_spec_table() -> None:
    assert dict(TRANSITIONS) == CONTRACT_ROWS


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
def test_allowed_action_moves_the_request_to_its_spec_status(
    row: tuple[AfterSaleType, SellerAction],
) -> None:
    type_, action = row
    from_status, to_status = CONTRACT_ROWS[row]
    sale = make(type_, from_status)
    reason, amount = arguments_for(action)

    change = decide(sale, action, now=NOW, dispute_window=WINDOW, reason=reason, amount=amount)

    assert change.fields["status"] is to_status
    assert (change.from_status, change.to_status) == (from_status, to_status)
    assert change.action == action.value
    assert set(change.fields) - {"status"} == CONTRACT_SIDE_EFFECTS[action]


def test_accepting_a_return_asks_the_buyer_to_ship_it() -> None:
    sale = make(T.RETURN_AND_REFUND)

    change = decide(sale, A.ACCEPT_RETURN, now=NOW, dispute_window=WINDOW)

    assert change.fields["return_status"] is ReturnStatus.TO_RETURN


@pytest.mark.parametrize("row", [r for r in ROWS if r[1] in CONTRACT_REJECTIONS], ids=_row_id)
def test_rejection_starts_the_dispute_window_now_and_keeps_the_reason(
    row: tuple[AfterSaleType, SellerAction],
) -> None:
    type_, action = row
    sale = replace(make(type_, CONTRACT_ROWS[row][0]), dispute_status=DisputeStatus.CLOSED)

    change = decide(sale, action, now=NOW, dispute_window=WINDOW, reason="  item was used  ")

    assert change.fields["dispute_deadline"] == NOW + WINDOW
    assert change.fields["dispute_status"] is DisputeStatus.NONE
    assert change.fields["reject_reason"] == "item was used"


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
@pytest.mark.parametrize("row", [r for r in ROWS if r[1] in CONTRACT_REJECTIONS], ids=_row_id)
def test_rejection_without_a_reason_is_invalid(
    row: tuple[AfterSaleType, SellerAction], reason: str | None
) -> None:
    type_, action = row
    sale = make(type_, CONTRACT_ROWS[row][0])

    with pytest.raises(Invalid) as refused:
        decide(sale, action, now=NOW, dispute_window=WINDOW, reason=reason)

    assert refused.value.field == "reason"


@pytest.mark.parametrize("row", [r for r in ROWS if r[1] in CONTRACT_FULL_REFUNDS], ids=_row_id)
def test_full_refund_refunds_what_the_buyer_asked_for(
    row: tuple[AfterSaleType, SellerAction],
) -> None:
    type_, action = row
    sale = make(type_, CONTRACT_ROWS[row][0], refund_requested=Decimal("87.50"))

    change = decide(sale, action, now=NOW, dispute_window=WINDOW)

    assert change.fields["refund_amount"] == Decimal("87.50")


PARTIAL_TYPES = [T.RETURN_AND_REFUND, T.REFUND_ONLY, T.EXCHANGE]


@pytest.mark.parametrize("amount", ["0.01", "40", "99.99", "100.00"])
@pytest.mark.parametrize("type_", PARTIAL_TYPES, ids=_name)
def test_partial_refund_up_to_the_requested_amount_is_offered(
    type_: AfterSaleType, amount: str
) -> None:
    sale = make(type_)

    change = decide(
        sale, A.OFFER_PARTIAL_REFUND, now=NOW, dispute_window=WINDOW, amount=Decimal(amount)
    )

    assert change.fields["partial_refund_offer"] == Decimal(amount)
    assert change.fields["status"] is S.AWAITING_BUYER_RESPONSE


@pytest.mark.parametrize("amount", [None, "0", "0.00", "-5", "100.01", "1000", "NaN", "Infinity"])
@pytest.mark.parametrize("type_", PARTIAL_TYPES, ids=_name)
def test_partial_refund_outside_zero_to_requested_is_an_invalid_amount(
    type_: AfterSaleType, amount: str | None
) -> None:
    sale = make(type_)

    with pytest.raises(InvalidAmount) as refused:
        decide(
            sale,
            A.OFFER_PARTIAL_REFUND,
            now=NOW,
            dispute_window=WINDOW,
            amount=None if amount is None else Decimal(amount),
        )

    assert refused.value.field == "amount"


def test_partial_refund_needs_a_known_requested_amount() -> None:
    sale = make(T.REFUND_ONLY, refund_requested=None)

    with pytest.raises(InvalidAmount):
        decide(sale, A.OFFER_PARTIAL_REFUND, now=NOW, dispute_window=WINDOW, amount=Decimal("1"))


def test_partial_refund_below_a_cent_is_an_invalid_amount() -> None:
    sale = make(T.REFUND_ONLY)

    with pytest.raises(InvalidAmount):
        decide(
            sale, A.OFFER_PARTIAL_REFUND, now=NOW, dispute_window=WINDOW, amount=Decimal("0.005")
        )


@pytest.mark.parametrize("action", sorted(SellerAction, key=_name), ids=_name)
@pytest.mark.parametrize("status", STATUSES, ids=_name)
@pytest.mark.parametrize("type_", list(T), ids=_name)
def test_check_refuses_exactly_what_the_spec_refuses_with_the_right_error(
    type_: AfterSaleType, status: AfterSaleStatus | None, action: SellerAction
) -> None:
    sales = [
        make(
            type_,
            status,
            region=region,
            tracking_number=tracking,
            return_status=parcel,
            quick_refund=quick,
        )
        for region, tracking, parcel, quick in CONTEXTS
    ]

    outcomes = [(sale, refusal_of(sale, action)) for sale in sales]

    wrong = [
        (sale.region, sale.tracking_number, sale.return_status.value, got, want)
        for sale, got in outcomes
        if got is not (want := expected_refusal(sale, action))
    ]
    assert wrong == []


# Every value of what `available_actions` groups by (quick refund or not, an empty or a real
# tracking number, each parcel status), and regions it must not group by, so a lookup keyed too
# coarsely or too finely shows up as a wrong list.
LIST_CONTEXTS = list(
    itertools.product(
        ["ID", "MY", "TH", "US", ""], [None, "", "JX0001"], list(ReturnStatus), [False, True]
    )
)


def contract_actions(sale: Sale) -> list[SellerAction]:
    """The actions docs/lifecycle.md and docs/stock.md allow on `sale`, in enum order."""
    return [a for a in SellerAction if expected_refusal(sale, a) is None]


@pytest.mark.parametrize("status", STATUSES, ids=_name)
@pytest.mark.parametrize("type_", list(T), ids=_name)
def test_available_actions_are_exactly_the_actions_the_spec_allows(
    type_: AfterSaleType, status: AfterSaleStatus | None
) -> None:
    sales = [
        make(
            type_,
            status,
            region=region,
            tracking_number=tracking,
            return_status=parcel,
            quick_refund=quick,
        )
        for region, tracking, parcel, quick in LIST_CONTEXTS
    ]

    listed = [available_actions(sale) for sale in sales]

    assert listed == [contract_actions(sale) for sale in sales]


def test_what_the_rules_do_not_read_does_not_change_the_actions() -> None:
    bare = make(T.RETURN_AND_REFUND, region="MY", refund_requested=None)
    full = replace(
        bare,
        currency="MYR",
        refund_requested=Decimal("10.00"),
        partial_refund_offer=Decimal("5.00"),
        dispute_status=DisputeStatus.IN_PROGRESS,
        refund_amount=Decimal("10.00"),
        reason="Damaged",
        carrier="J&T",
        seller_response_deadline=NOW,
        created_at=NOW - timedelta(days=1),
    )

    assert available_actions(full) == available_actions(bare) == contract_actions(full)


def test_changing_a_returned_list_does_not_change_the_next_answer() -> None:
    sale = make(T.REFUND_ONLY, region="MY")

    available_actions(sale).clear()

    assert available_actions(sale) == [
        A.OFFER_PARTIAL_REFUND,
        A.ACCEPT_REFUND,
        A.REJECT_REFUND,
        A.ADD_NOTE,
    ]


def test_a_pending_return_offers_the_spec_buttons() -> None:
    sale = make(T.RETURN_AND_REFUND, region="MY")

    actions = available_actions(sale)

    assert actions == [A.ACCEPT_RETURN, A.REJECT_RETURN, A.OFFER_PARTIAL_REFUND, A.ADD_NOTE]


@pytest.mark.parametrize("region", ["US", "ID", "MY", "GB"])
def test_every_pending_exchange_tiktok_opens_can_be_accepted(region: str) -> None:
    sale = make(T.EXCHANGE, region=region)

    change = decide(sale, A.ACCEPT_EXCHANGE, now=NOW, dispute_window=WINDOW)

    assert A.ACCEPT_EXCHANGE in available_actions(sale)
    assert change.to_status is S.EXCHANGE_ACCEPTED


def test_a_quick_refund_return_offers_no_receipt_rejection() -> None:
    sale = make(
        T.RETURN_AND_REFUND,
        S.SHIPPED_BY_BUYER,
        return_status=ReturnStatus.RETURNING,
        quick_refund=True,
    )

    with pytest.raises(InvalidTransition) as refused:
        decide(sale, A.REJECT_RECEIPT, now=NOW, dispute_window=WINDOW, reason="torn")

    assert refused.value.message == "quick-refund return: the receipt cannot be rejected"
    assert available_actions(sale) == [A.CONFIRM_RECEIPT, A.ADD_NOTE]
    assert A.REJECT_RECEIPT in available_actions(replace(sale, quick_refund=False))


def test_seller_cannot_confirm_receipt_before_buyer_ships() -> None:
    sale = make(T.RETURN_AND_REFUND, S.AWAITING_BUYER_SHIPMENT)

    with pytest.raises(InvalidTransition):
        decide(sale, A.CONFIRM_RECEIPT, now=NOW, dispute_window=WINDOW)


TRANSITION_ACTIONS = sorted({action for _, action in CONTRACT_ROWS}, key=lambda a: a.value)


@pytest.mark.parametrize("status", STATUSES, ids=_name)
@pytest.mark.parametrize("action", TRANSITION_ACTIONS, ids=_name)
def test_abnormal_return_refuses_every_accept_refuse_and_refund_action(
    action: SellerAction, status: AfterSaleStatus | None
) -> None:
    sale = make(T.ABNORMAL_RETURN, status, return_status=ReturnStatus.RETURNING)

    with pytest.raises(ActionNotAllowedForType):
        check(sale, action)


@pytest.mark.parametrize("status", STATUSES, ids=_name)
@pytest.mark.parametrize("type_", list(T), ids=_name)
def test_a_note_can_always_be_added(type_: AfterSaleType, status: AfterSaleStatus | None) -> None:
    sale = make(type_, status)

    check(sale, A.ADD_NOTE)

    assert A.ADD_NOTE in available_actions(sale)


def test_abnormal_return_label_can_be_reprinted_without_a_status() -> None:
    sale = make(T.ABNORMAL_RETURN, None, return_status=ReturnStatus.RETURNING)
    with_parcel = replace(sale, tracking_number="JX0001")

    assert refusal_of(with_parcel, A.REPRINT_SHIPPING_LABEL) is None
    assert refusal_of(sale, A.REPRINT_SHIPPING_LABEL) is InvalidTransition


def test_return_label_is_reprinted_only_once_the_return_has_a_shipment() -> None:
    without = make(T.RETURN_AND_REFUND, S.AWAITING_BUYER_SHIPMENT)
    shipped = replace(without, tracking_number="JX0001")

    assert refusal_of(without, A.REPRINT_SHIPPING_LABEL) is InvalidTransition
    assert refusal_of(shipped, A.REPRINT_SHIPPING_LABEL) is None


@pytest.mark.parametrize("type_", [T.REFUND_ONLY, T.EXCHANGE], ids=_name)
def test_requests_without_a_return_parcel_have_no_label(type_: AfterSaleType) -> None:
    sale = make(type_, tracking_number="JX0001")

    with pytest.raises(ActionNotAllowedForType):
        check(sale, A.REPRINT_SHIPPING_LABEL)


@pytest.mark.parametrize("parcel", [p for p in ReturnStatus if p is not ReturnStatus.RETURNED])
def test_goods_cannot_be_stocked_in_before_the_parcel_arrives(parcel: ReturnStatus) -> None:
    sale = make(T.RETURN_AND_REFUND, S.REFUNDED, return_status=parcel)

    with pytest.raises(NotReturnedYet):
        check(sale, A.STOCK_IN)


@pytest.mark.parametrize("status", sorted(STOCK_IN_STATUSES, key=_name), ids=_name)
@pytest.mark.parametrize("type_", [T.RETURN_AND_REFUND, T.EXCHANGE], ids=_name)
def test_returned_goods_are_stocked_in_once_the_request_is_settled(
    type_: AfterSaleType, status: AfterSaleStatus
) -> None:
    sale = make(type_, status, return_status=ReturnStatus.RETURNED)

    assert refusal_of(sale, A.STOCK_IN) is None


def test_returned_goods_wait_while_the_request_is_still_disputed() -> None:
    sale = make(T.RETURN_AND_REFUND, S.RECEIPT_REJECTED, return_status=ReturnStatus.RETURNED)

    with pytest.raises(InvalidTransition):
        check(sale, A.STOCK_IN)


def test_abnormal_return_is_stocked_in_as_soon_as_it_arrives() -> None:
    sale = make(T.ABNORMAL_RETURN, None, return_status=ReturnStatus.RETURNED)

    assert refusal_of(sale, A.STOCK_IN) is None


def test_refund_only_parcel_that_came_back_anyway_is_stocked_in_once_refunded() -> None:
    sale = make(T.REFUND_ONLY, S.REFUNDED, return_status=ReturnStatus.RETURNED)

    assert refusal_of(sale, A.STOCK_IN) is None
    check(sale, A.STOCK_IN)


@pytest.mark.parametrize("action", [A.ADD_NOTE, A.REPRINT_SHIPPING_LABEL, A.STOCK_IN], ids=_name)
def test_decide_is_only_for_status_changing_actions(action: SellerAction) -> None:
    sale = make(T.RETURN_AND_REFUND, tracking_number="JX0001")

    with pytest.raises(ValueError):
        decide(sale, action, now=NOW, dispute_window=WINDOW)


def test_refused_rejection_reports_the_status_before_the_missing_reason() -> None:
    sale = make(T.RETURN_AND_REFUND, S.REJECTED)

    with pytest.raises(InvalidTransition):
        decide(sale, A.REJECT_RETURN, now=NOW, dispute_window=WINDOW, reason="")


def test_an_approved_cancellation_must_not_ship_and_refunds_what_was_asked() -> None:
    sale = make(T.CANCELLATION, refund_requested=Decimal("25.00"))

    change = decide(sale, A.APPROVE_CANCELLATION, now=NOW, dispute_window=WINDOW)

    assert change.fields["status"] is S.REFUNDED
    assert change.fields["refund_amount"] == Decimal("25.00")
    assert change.fields["must_not_ship"] is True


def test_a_rejected_cancellation_is_final_with_no_dispute_window() -> None:
    sale = make(T.CANCELLATION)

    change = decide(sale, A.REJECT_CANCELLATION, now=NOW, dispute_window=WINDOW, reason=" sent ")

    assert change.fields["status"] is S.REJECTED
    assert change.fields["reject_reason"] == "sent"
    assert "dispute_deadline" not in change.fields
    assert change.fields["must_not_ship"] is False


@pytest.mark.parametrize("region", ["US", "us"])
def test_a_us_shop_cannot_reject_a_cancellation_and_is_not_offered_to(region: str) -> None:
    sale = make(T.CANCELLATION, region=region)

    with pytest.raises(RegionNotSupported):
        check(sale, A.REJECT_CANCELLATION)

    assert available_actions(sale) == [A.APPROVE_CANCELLATION, A.ADD_NOTE]


def test_a_pending_cancellation_elsewhere_offers_approve_and_reject() -> None:
    assert available_actions(make(T.CANCELLATION, region="MY")) == [
        A.APPROVE_CANCELLATION,
        A.REJECT_CANCELLATION,
        A.ADD_NOTE,
    ]
