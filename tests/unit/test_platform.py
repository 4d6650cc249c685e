"""What a TikTok return report does to an after-sale (docs/webhooks.md), row by row. Pure."""

from __future__ import annotations

import enum
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from aftersales.domain.errors import Invalid
from aftersales.domain.model import (
    Actor,
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    LineItem,
    ReturnStatus,
    Sale,
)
from aftersales.domain.rules import seller_response_deadline
from aftersales.domain.stale import fill_missing, is_stale
from aftersales.domain.tiktok import (
    DETAILS_FILLED_ACTION,
    PLATFORM_STATUS_ACTION,
    PLATFORM_STATUSES,
    UNMAPPED_STATUS_ACTION,
    group_line_items,
    interpret,
    new_sale_fields,
)
from tests.support.builders import report
from tests.support.clock import T0


def _name(value: object) -> str:
    """A readable test id: an enum member's value, else the value itself."""
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


S = AfterSaleStatus
WINDOW = timedelta(hours=48)
LATER = T0 + timedelta(hours=5)

# docs/webhooks.md, every spelling the contract names: TikTok `return_status` -> our status.
CONTRACT_STATUSES: dict[str, AfterSaleStatus] = {
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
    # Cancellations' `cancel_status` (type 11, Search Cancellations; the filter spells `…_CANCEL`).
    "CANCELLATION_REQUEST_PENDING": S.PENDING_REQUEST,
    "CANCELLATION_REQUEST_SUCCESS": S.REFUNDED,
    "CANCELLATION_REQUEST_COMPLETE": S.REFUNDED,
    "CANCELLATION_REQUEST_CANCELLED": S.REQUEST_CLOSED,
    "CANCELLATION_REQUEST_CANCEL": S.REQUEST_CLOSED,
}
CONTRACT_TYPES = {
    "REFUND": AfterSaleType.REFUND_ONLY,
    "RETURN_AND_REFUND": AfterSaleType.RETURN_AND_REFUND,
    "REPLACEMENT": AfterSaleType.EXCHANGE,
}
REJECTED_SPELLINGS = [raw for raw, status in CONTRACT_STATUSES.items() if status is S.REJECTED]
REFUNDED_SPELLINGS = [raw for raw, status in CONTRACT_STATUSES.items() if status is S.REFUNDED]


def pending(
    status: AfterSaleStatus | None = S.PENDING_REQUEST,
    *,
    return_status: ReturnStatus = ReturnStatus.OTHER,
    offer: Decimal | None = None,
) -> Sale:
    return Sale(
        type=AfterSaleType.RETURN_AND_REFUND,
        status=status,
        return_status=return_status,
        region="MY",
        currency="MYR",
        refund_requested=Decimal("100.00"),
        partial_refund_offer=offer,
    )


def test_status_table_is_exactly_the_spec_table() -> None:
    assert PLATFORM_STATUSES == CONTRACT_STATUSES


@pytest.mark.parametrize(("raw", "status"), CONTRACT_STATUSES.items(), ids=_name)
def test_reported_status_is_applied_and_recorded(raw: str, status: AfterSaleStatus) -> None:
    sale = pending()

    change = interpret(sale, report(raw, at=LATER), dispute_window=WINDOW)

    assert change.fields["status"] is status
    assert change.fields["platform_status"] == raw
    assert change.fields["last_event_at"] == LATER
    assert (change.action, change.from_status, change.to_status) == (
        PLATFORM_STATUS_ACTION,
        S.PENDING_REQUEST,
        status,
    )


def test_reported_status_is_read_whatever_its_case_and_kept_as_sent() -> None:
    sale = pending()

    change = interpret(sale, report("buyer_shipped_item"), dispute_window=WINDOW)

    assert change.fields["status"] is S.SHIPPED_BY_BUYER
    assert change.fields["platform_status"] == "buyer_shipped_item"


@pytest.mark.parametrize(("raw", "type_"), CONTRACT_TYPES.items(), ids=_name)
def test_return_type_decides_the_type_of_a_new_after_sale(raw: str, type_: AfterSaleType) -> None:
    first = report("RETURN_OR_REFUND_REQUEST_PENDING", return_type=raw)

    fields = new_sale_fields(first)

    assert fields["type"] is type_


def test_unknown_return_type_cannot_create_an_after_sale() -> None:
    first = report("RETURN_OR_REFUND_REQUEST_PENDING", return_type="TRADE_IN")

    with pytest.raises(Invalid) as refused:
        new_sale_fields(first)

    assert refused.value.field == "return_type"


@pytest.mark.parametrize(
    ("raw", "hours"), [("RETURN_AND_REFUND", 48), ("REFUND", 48), ("REPLACEMENT", 24)]
)
def test_new_after_sale_starts_pending_with_the_default_response_deadline(
    raw: str, hours: int
) -> None:
    first = report("BUYER_SHIPPED_ITEM", return_type=raw, at=LATER, create_time=T0)

    fields = new_sale_fields(first)

    assert fields["status"] is S.PENDING_REQUEST
    assert fields["return_status"] is ReturnStatus.OTHER
    assert fields["created_at"] == T0
    assert fields["seller_response_deadline"] == T0 + timedelta(hours=hours)
    assert (fields["return_id"], fields["order_id"]) == ("576486316948490001",) * 2


def test_unknown_status_keeps_the_status_and_the_raw_value() -> None:
    sale = pending(S.AWAITING_BUYER_SHIPMENT)

    change = interpret(sale, report("RETURN_OR_REFUND_REQUEST_FROZEN"), dispute_window=WINDOW)

    assert "status" not in change.fields
    assert change.fields["platform_status"] == "RETURN_OR_REFUND_REQUEST_FROZEN"
    assert (change.action, change.from_status, change.to_status) == (
        UNMAPPED_STATUS_ACTION,
        S.AWAITING_BUYER_SHIPMENT,
        S.AWAITING_BUYER_SHIPMENT,
    )


@pytest.mark.parametrize(
    ("reported", "stale"),
    [(T0 - timedelta(seconds=1), True), (T0, True), (T0 + timedelta(seconds=1), False)],
    ids=["older", "equal", "newer"],
)
def test_report_is_stale_unless_newer_than_the_last_change(reported: object, stale: bool) -> None:
    late = report("BUYER_SHIPPED_ITEM", at=reported)  # type: ignore[arg-type]

    assert is_stale(late, T0) is stale


def test_report_about_an_untouched_after_sale_is_never_stale() -> None:
    assert is_stale(report("BUYER_SHIPPED_ITEM"), None) is False


@pytest.mark.parametrize(
    ("raw", "status", "parcel"),
    [
        ("AWAITING_BUYER_SHIP", S.AWAITING_BUYER_SHIPMENT, ReturnStatus.TO_RETURN),
        ("BUYER_SHIPPED_ITEM", S.SHIPPED_BY_BUYER, ReturnStatus.RETURNING),
    ],
)
def test_return_parcel_follows_the_reported_status(
    raw: str, status: AfterSaleStatus, parcel: ReturnStatus
) -> None:
    sale = pending()

    change = interpret(sale, report(raw), dispute_window=WINDOW)

    assert change.fields["status"] is status
    assert change.fields["return_status"] is parcel


def test_reported_status_never_moves_an_arrived_parcel_backwards() -> None:
    sale = pending(S.REFUNDED, return_status=ReturnStatus.RETURNED)

    change = interpret(sale, report("AWAITING_BUYER_SHIP"), dispute_window=WINDOW)

    assert change.fields["return_status"] is ReturnStatus.RETURNED


def test_buyer_shipping_brings_the_tracking_details() -> None:
    sale = pending(S.AWAITING_BUYER_SHIPMENT, return_status=ReturnStatus.TO_RETURN)
    shipped = report(
        "BUYER_SHIPPED_ITEM", tracking_number="JX0001", carrier="J&T Express", reason_text="Broken"
    )

    change = interpret(sale, shipped, dispute_window=WINDOW)

    assert change.fields["tracking_number"] == "JX0001"
    assert change.fields["carrier"] == "J&T Express"
    assert change.fields["reason"] == "Broken"


@pytest.mark.parametrize(
    ("raw", "status", "parcel"),
    [
        ("BUYER_SHIPPED_ITEM", S.SHIPPED_BY_BUYER, ReturnStatus.RETURNING),
        ("RETURN_OR_REFUND_REQUEST_COMPLETE", S.REFUNDED, ReturnStatus.OTHER),
        ("REJECT_RECEIVE_PACKAGE", S.RECEIPT_REJECTED, ReturnStatus.OTHER),
    ],
)
def test_newer_report_is_applied_even_when_it_skips_steps(
    raw: str, status: AfterSaleStatus, parcel: ReturnStatus
) -> None:
    sale = pending()

    change = interpret(sale, report(raw), dispute_window=WINDOW)

    assert change.fields["status"] is status
    assert change.fields.get("return_status", ReturnStatus.OTHER) is parcel


@pytest.mark.parametrize("raw", [*REJECTED_SPELLINGS, "REJECT_RECEIVE_PACKAGE"])
def test_reported_rejection_starts_the_dispute_window_at_its_update_time(raw: str) -> None:
    sale = pending(S.SHIPPED_BY_BUYER)

    change = interpret(sale, report(raw, at=LATER), dispute_window=WINDOW)

    assert change.fields["dispute_deadline"] == LATER + WINDOW


def test_repeated_rejection_report_does_not_restart_the_dispute_window() -> None:
    sale = pending(S.REJECTED)

    change = interpret(sale, report("REFUND_OR_RETURN_REQUEST_REJECT"), dispute_window=WINDOW)

    assert "dispute_deadline" not in change.fields


@pytest.mark.parametrize("raw", REFUNDED_SPELLINGS)
def test_buyer_accepting_the_partial_offer_is_refunded_the_offer(raw: str) -> None:
    sale = pending(S.AWAITING_BUYER_RESPONSE, offer=Decimal("40.00"))

    change = interpret(sale, report(raw, refund_total=Decimal("100.00")), dispute_window=WINDOW)

    assert change.fields["status"] is S.REFUNDED
    assert change.fields["refund_amount"] == Decimal("40.00")


def test_refund_is_the_reported_refund_total_when_present() -> None:
    sale = pending(S.SHIPPED_BY_BUYER)

    change = interpret(
        sale,
        report("RETURN_OR_REFUND_REQUEST_SUCCESS", refund_total=Decimal("95.00"), currency="myr"),
        dispute_window=WINDOW,
    )

    assert change.fields["refund_amount"] == Decimal("95.00")
    assert change.fields["currency"] == "MYR"


def test_refund_is_the_requested_amount_when_no_total_is_reported() -> None:
    sale = pending(S.SHIPPED_BY_BUYER)

    change = interpret(sale, report("RETURN_OR_REFUND_REQUEST_SUCCESS"), dispute_window=WINDOW)

    assert change.fields["refund_amount"] == Decimal("100.00")


def test_refund_total_of_an_open_request_is_what_the_buyer_asks_for() -> None:
    sale = pending()

    change = interpret(
        sale,
        report("RETURN_OR_REFUND_REQUEST_PENDING", refund_total=Decimal("120.00")),
        dispute_window=WINDOW,
    )

    assert change.fields["refund_requested"] == Decimal("120.00")
    assert "refund_amount" not in change.fields


def test_second_refunded_report_keeps_the_refund_and_the_request() -> None:
    sale = replace(pending(S.REFUNDED), partial_refund_offer=Decimal("40.00"))
    completed = report("RETURN_OR_REFUND_REQUEST_COMPLETE", refund_total=Decimal("40.00"))

    change = interpret(sale, completed, dispute_window=WINDOW)

    assert "refund_amount" not in change.fields
    assert "refund_requested" not in change.fields


def test_first_report_of_a_refunded_request_says_what_was_asked_for() -> None:
    sale = replace(pending(), refund_requested=None)
    refunded = report("RETURN_OR_REFUND_REQUEST_SUCCESS", refund_total=Decimal("60.00"))

    change = interpret(sale, refunded, dispute_window=WINDOW)

    assert change.fields["refund_amount"] == Decimal("60.00")
    assert change.fields["refund_requested"] == Decimal("60.00")


@pytest.mark.parametrize(
    "raw", ["AWAITING_BUYER_RESPONSE", "RETURN_OR_REFUND_REQUEST_PENDING", "SELLER_OFFER_DECLINED"]
)
def test_buyer_declining_the_partial_offer_reopens_the_request(raw: str) -> None:
    sale = pending(S.AWAITING_BUYER_RESPONSE, offer=Decimal("40.00"))

    change = interpret(sale, report(raw, buyer_rejected_partial_refund=True), dispute_window=WINDOW)

    assert change.fields["status"] is S.PENDING_REQUEST
    assert change.fields["partial_refund_offer"] is None
    assert change.to_status is S.PENDING_REQUEST


def test_seller_offer_reported_by_tiktok_is_kept() -> None:
    sale = pending()

    change = interpret(
        sale,
        report("AWAITING_BUYER_RESPONSE", partial_refund=Decimal("30.00")),
        dispute_window=WINDOW,
    )

    assert change.fields["partial_refund_offer"] == Decimal("30.00")


@pytest.mark.parametrize(
    "dispute", [d for d in DisputeStatus if d is not DisputeStatus.NONE], ids=_name
)
def test_arbitration_status_is_recorded(dispute: DisputeStatus) -> None:
    sale = pending(S.REJECTED)

    change = interpret(
        sale,
        report("REFUND_OR_RETURN_REQUEST_REJECT", arbitration_status=dispute.value.lower()),
        dispute_window=WINDOW,
    )

    assert change.fields["dispute_status"] is dispute


def test_unknown_arbitration_status_leaves_the_dispute_alone() -> None:
    sale = pending(S.REJECTED)

    change = interpret(
        sale,
        report("REFUND_OR_RETURN_REQUEST_REJECT", arbitration_status="APPEALING"),
        dispute_window=WINDOW,
    )

    assert "dispute_status" not in change.fields


def test_tiktok_seller_deadline_replaces_the_default_one() -> None:
    sale = pending()
    deadline = T0 + timedelta(hours=36)

    change = interpret(
        sale,
        report("RETURN_OR_REFUND_REQUEST_PENDING", seller_deadline=deadline),
        dispute_window=WINDOW,
    )

    assert change.fields["seller_response_deadline"] == deadline


def test_reported_line_items_replace_the_items() -> None:
    sale = pending()
    items = (LineItem("SKU-1", "Blue mug", 2, Decimal("10.00")),)

    with_items = interpret(sale, report("BUYER_SHIPPED_ITEM", items=items), dispute_window=WINDOW)
    without = interpret(sale, report("BUYER_SHIPPED_ITEM"), dispute_window=WINDOW)

    assert with_items.fields["items"] == items
    assert "items" not in without.fields


def test_line_items_are_grouped_one_line_per_sku() -> None:
    units = [
        ("SKU-1", "Blue mug", Decimal("10.00")),
        ("SKU-2", None, None),
        ("SKU-1", None, Decimal("10.00")),
        ("SKU-2", "Red cup", Decimal("5.00")),
        ("SKU-1", "Blue mug", Decimal("10.00")),
    ]

    grouped = group_line_items(units)

    assert grouped == (
        LineItem("SKU-1", "Blue mug", 3, Decimal("10.00")),
        LineItem("SKU-2", "Red cup", 2, Decimal("5.00")),
    )


@pytest.mark.parametrize(
    ("role", "actor"),
    [
        ("BUYER", Actor.BUYER),
        ("Buyer", Actor.BUYER),
        ("SELLER", Actor.SELLER),
        ("SYSTEM", Actor.SYSTEM),
        ("OPERATOR", Actor.PLATFORM),
        ("", Actor.PLATFORM),
        ("ROBOT", Actor.PLATFORM),
    ],
    ids=_name,
)
def test_history_actor_comes_from_the_return_role(role: str, actor: Actor) -> None:
    reported = report("BUYER_SHIPPED_ITEM", role=role)

    assert reported.actor is actor


# A stale report: its status is ignored, what it carries fills only what the after-sale lacks.
MUGS = (LineItem("MUG-1", "Blue mug", 2, Decimal("50.00")),)
TIKTOK_DEADLINE = T0 + timedelta(hours=36)


def shipped_without_details() -> Sale:
    """Created by a BUYER_SHIPPED_ITEM report that carried no amount, lines or reason."""
    return Sale(
        type=AfterSaleType.RETURN_AND_REFUND,
        status=S.SHIPPED_BY_BUYER,
        return_status=ReturnStatus.RETURNING,
        region="ID",
        seller_response_deadline=seller_response_deadline(AfterSaleType.RETURN_AND_REFUND, T0),
        created_at=T0,
    )


def test_stale_report_fills_in_every_detail_the_after_sale_lacks() -> None:
    stale = report(
        "RETURN_OR_REFUND_REQUEST_PENDING",
        currency="idr",
        refund_total=Decimal("100.00"),
        items=MUGS,
        reason_text="Wrong size",
        tracking_number="JX0001",
        carrier="J&T Express",
        seller_deadline=TIKTOK_DEADLINE,
    )

    change = fill_missing(shipped_without_details(), stale, has_items=False)

    assert change is not None
    assert change.fields == {
        "refund_requested": Decimal("100.00"),
        "currency": "IDR",
        "items": MUGS,
        "reason": "Wrong size",
        "tracking_number": "JX0001",
        "carrier": "J&T Express",
        "seller_response_deadline": TIKTOK_DEADLINE,
    }
    assert change.action == DETAILS_FILLED_ACTION
    assert change.from_status is change.to_status is S.SHIPPED_BY_BUYER


def test_stale_report_never_overwrites_a_detail_that_has_a_value() -> None:
    sale = replace(
        shipped_without_details(),
        currency="MYR",
        refund_requested=Decimal("20.00"),
        reason="Changed my mind",
        tracking_number="JX0009",
        carrier="Ninja Van",
        seller_response_deadline=T0 + timedelta(hours=10),
    )
    stale = report(
        "RETURN_OR_REFUND_REQUEST_PENDING",
        currency="IDR",
        refund_total=Decimal("100.00"),
        items=MUGS,
        reason_text="Wrong size",
        tracking_number="JX0001",
        carrier="J&T Express",
        seller_deadline=TIKTOK_DEADLINE,
    )

    assert fill_missing(sale, stale, has_items=True) is None


def test_stale_report_without_details_brings_nothing() -> None:
    assert (
        fill_missing(shipped_without_details(), report("AWAITING_BUYER_SHIP"), has_items=False)
        is None
    )


def test_stale_report_changes_neither_the_status_nor_the_last_change_time() -> None:
    stale = report("RETURN_OR_REFUND_REQUEST_CANCEL", reason_text="Wrong size")

    change = fill_missing(shipped_without_details(), stale, has_items=False)

    assert change is not None
    assert change.fields == {"reason": "Wrong size"}


def test_stale_report_with_no_lines_leaves_the_items_alone() -> None:
    stale = report("RETURN_OR_REFUND_REQUEST_PENDING", items=())

    assert fill_missing(shipped_without_details(), stale, has_items=False) is None


def test_stale_report_gives_a_refunded_request_its_refund_when_none_was_known() -> None:
    refunded = replace(shipped_without_details(), status=S.REFUNDED)
    stale = report("RETURN_OR_REFUND_REQUEST_PENDING", currency="MYR", refund_total=Decimal("80"))

    change = fill_missing(refunded, stale, has_items=True)

    assert change is not None
    assert change.fields == {
        "refund_requested": Decimal("80"),
        "refund_amount": Decimal("80"),
        "currency": "MYR",
    }
