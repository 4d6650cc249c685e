"""TikTok return reports through the commands, against the real databases (docs/webhooks.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.errors import Invalid
from aftersales.domain.model import (
    Actor,
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    DisputeWindows,
    EventSource,
    LineItem,
    ReturnStatus,
    SellerAction,
)
from aftersales.domain.outcome import Outcome, Result
from aftersales.domain.rules import available_actions, dispute_expired
from aftersales.domain.tiktok import (
    PLATFORM_STATUS_ACTION,
    PLATFORM_STATUSES,
    UNMAPPED_STATUS_ACTION,
)
from aftersales.store.models import AfterSale
from aftersales.store.records import HistoryRecord
from tests.support.builders import (
    WINDOWS,
    Seller,
    apply_report,
    make_seller,
    report,
    sale_in,
    seller_id_of,
)
from tests.support.clock import T0
from tests.support.stored import stored

pytestmark = pytest.mark.usefixtures("database")

S = AfterSaleStatus
T = AfterSaleType
NOW = T0 + timedelta(minutes=1)
LATER = T0 + timedelta(hours=2)
RID = "576486316948490001"


async def deliver(
    seller: Seller,
    status: str,
    *,
    at: datetime = LATER,
    now: datetime | None = None,
    windows: DisputeWindows = WINDOWS,
    **extra: Any,
) -> Result:
    """TikTok reports `status` for return RID of the seller's shop."""
    return await apply_report(
        seller.shop_id,
        report(status, return_id=RID, at=at, **extra),
        now=now or at,
        windows=windows,
    )


def platform_type_of(raw: str) -> str:
    return "REPLACEMENT" if raw.startswith("REPLACEMENT") else "RETURN_AND_REFUND"


@pytest.mark.parametrize(("raw", "status"), PLATFORM_STATUSES.items(), ids=str)
async def test_first_report_of_a_return_creates_it_in_the_reported_status(
    raw: str, status: AfterSaleStatus
) -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    items = (LineItem("SKU-9", "Lamp", 2, Decimal("25.00")),)

    result = await deliver(
        seller,
        raw,
        now=NOW,
        create_time=T0,
        return_type=platform_type_of(raw),
        refund_total=Decimal("50.00"),
        currency="MYR",
        items=items,
    )

    assert result.outcome is Outcome.CREATED
    assert result.after_sale_id is not None
    created = await stored(seller_id, result.after_sale_id)
    assert created.sale.status is status
    assert created.sale.platform_status == raw
    assert (created.sale.return_id, created.sale.order_id) == (RID, RID)
    assert created.sale.created_at == T0
    assert created.sale.refund_requested == Decimal("50.00")
    assert created.last_event_at == LATER
    assert [(i.sku, i.quantity) for i in created.items] == [("SKU-9", 2)]
    assert created.history == [
        HistoryRecord(
            NOW,
            Actor.BUYER,
            PLATFORM_STATUS_ACTION,
            None,
            status,
            EventSource.TIKTOK_WEBHOOK,
            platform_at=LATER,
        )
    ]


async def test_first_report_with_an_unknown_status_creates_a_pending_request() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)

    result = await deliver(seller, "RETURN_OR_REFUND_REQUEST_FROZEN")

    assert result.outcome is Outcome.CREATED
    assert result.after_sale_id is not None
    created = await stored(seller_id, result.after_sale_id)
    assert created.sale.status is S.PENDING_REQUEST
    assert created.sale.platform_status == "RETURN_OR_REFUND_REQUEST_FROZEN"
    assert created.history[-1].action == UNMAPPED_STATUS_ACTION


async def test_first_report_with_an_unknown_return_type_creates_nothing() -> None:
    seller = await make_seller()

    with pytest.raises(Invalid):
        await deliver(seller, "RETURN_OR_REFUND_REQUEST_PENDING", return_type="TRADE_IN")

    assert await AfterSale.all().count() == 0


async def test_newer_report_moves_the_after_sale_and_records_the_buyer() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID)
    before = await stored(seller_id, sale_id)

    result = await deliver(seller, "AWAITING_BUYER_SHIP")

    assert result == Result(Outcome.APPLIED, sale_id)
    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.AWAITING_BUYER_SHIPMENT
    assert after.sale.return_status is ReturnStatus.TO_RETURN
    assert after.sale.version == before.sale.version + 1
    assert after.last_event_at == LATER
    assert after.history == [
        *before.history,
        HistoryRecord(
            LATER,
            Actor.BUYER,
            PLATFORM_STATUS_ACTION,
            S.PENDING_REQUEST,
            S.AWAITING_BUYER_SHIPMENT,
            EventSource.TIKTOK_WEBHOOK,
            platform_at=LATER,
        ),
    ]


@pytest.mark.parametrize("age", [timedelta(0), timedelta(seconds=1)], ids=["equal", "older"])
async def test_report_not_newer_than_the_last_change_is_stale_and_changes_nothing(
    age: timedelta,
) -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID)
    await deliver(seller, "BUYER_SHIPPED_ITEM")
    before = await stored(seller_id, sale_id)

    result = await deliver(seller, "RETURN_OR_REFUND_REQUEST_CANCEL", at=LATER - age)

    assert result == Result(Outcome.STALE, sale_id)
    assert await stored(seller_id, sale_id) == before


async def test_report_for_an_unregistered_shop_creates_nothing() -> None:
    unregistered = Seller(name="ghost", token="", shop_id="7494049642642499999", region="MY")

    result = await deliver(unregistered, "RETURN_OR_REFUND_REQUEST_PENDING")

    assert result == Result(Outcome.UNKNOWN_SHOP)
    assert await AfterSale.all().count() == 0


async def test_unknown_status_keeps_the_status_and_records_the_raw_value() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID)
    before = await stored(seller_id, sale_id)

    result = await deliver(seller, "RETURN_OR_REFUND_REQUEST_FROZEN")

    assert result == Result(Outcome.UNMAPPED, sale_id)
    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.PENDING_REQUEST
    assert after.sale.platform_status == "RETURN_OR_REFUND_REQUEST_FROZEN"
    assert after.history[-1] == HistoryRecord(
        LATER,
        Actor.BUYER,
        UNMAPPED_STATUS_ACTION,
        S.PENDING_REQUEST,
        S.PENDING_REQUEST,
        EventSource.TIKTOK_WEBHOOK,
        platform_at=LATER,
    )
    assert len(after.history) == len(before.history) + 1


async def test_report_that_skips_steps_is_applied_with_the_requested_refund() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID)

    await deliver(seller, "RETURN_OR_REFUND_REQUEST_COMPLETE", role="SYSTEM")

    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.REFUNDED
    assert after.sale.refund_amount == Decimal("100.00")
    assert after.history[-1].actor is Actor.SYSTEM


async def test_reported_rejection_starts_the_regions_dispute_window_at_update_time() -> None:
    seller = await make_seller(region="TH")
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID)
    windows = DisputeWindows(default=timedelta(hours=48), by_region={"TH": timedelta(hours=24)})

    await deliver(
        seller,
        "REFUND_OR_RETURN_REQUEST_REJECT",
        now=LATER + timedelta(minutes=3),
        windows=windows,
        role="SELLER",
    )

    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.REJECTED
    assert after.sale.dispute_deadline == LATER + timedelta(hours=24)
    assert after.history[-1].actor is Actor.SELLER


async def test_buyer_accepting_the_partial_offer_is_refunded_the_offer() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.REFUND_ONLY, S.PENDING_REQUEST, return_id=RID)
    await seller_commands.decide(
        seller_id,
        sale_id,
        Decision(SellerAction.OFFER_PARTIAL_REFUND, amount=Decimal("40.00")),
        now=NOW,
        windows=WINDOWS,
    )

    await deliver(seller, "RETURN_OR_REFUND_REQUEST_SUCCESS", refund_total=Decimal("100.00"))
    await deliver(
        seller,
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
        at=LATER + timedelta(hours=1),
        refund_total=Decimal("40.00"),
    )

    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.REFUNDED
    assert after.sale.refund_amount == Decimal("40.00")
    assert after.sale.refund_requested == Decimal("100.00")


async def test_buyer_declining_the_partial_offer_lets_the_seller_decide_again() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.REFUND_ONLY, S.PENDING_REQUEST, return_id=RID)
    await seller_commands.decide(
        seller_id,
        sale_id,
        Decision(SellerAction.OFFER_PARTIAL_REFUND, amount=Decimal("40.00")),
        now=NOW,
        windows=WINDOWS,
    )

    await deliver(seller, "AWAITING_BUYER_RESPONSE", buyer_rejected_partial_refund=True)

    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.PENDING_REQUEST
    assert after.sale.partial_refund_offer is None
    assert SellerAction.ACCEPT_REFUND in available_actions(after.sale.as_sale())


async def test_buyer_opening_a_dispute_is_recorded() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.REFUND_ONLY, S.PENDING_REQUEST, return_id=RID)
    await deliver(seller, "REFUND_OR_RETURN_REQUEST_REJECT")

    await deliver(
        seller,
        "REFUND_OR_RETURN_REQUEST_REJECT",
        at=LATER + timedelta(hours=1),
        arbitration_status="IN_PROGRESS",
    )

    after = await stored(seller_id, sale_id)
    assert after.sale.dispute_status is DisputeStatus.IN_PROGRESS
    assert after.sale.dispute_deadline == LATER + timedelta(hours=48)
    month_later = LATER + timedelta(days=30)
    assert not dispute_expired(
        after.sale.status, after.sale.dispute_status, after.sale.dispute_deadline, month_later
    )


async def test_relayed_details_are_saved() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID)
    deadline = T0 + timedelta(hours=30)
    items = (LineItem("SKU-1", "Blue mug", 3, Decimal("10.00")), LineItem("SKU-2", None, 1))

    await deliver(
        seller,
        "BUYER_SHIPPED_ITEM",
        tracking_number="JX0042",
        carrier="J&T Express",
        reason_text="Arrived broken",
        seller_deadline=deadline,
        items=items,
    )

    after = await stored(seller_id, sale_id)
    assert after.sale.return_status is ReturnStatus.RETURNING
    assert (after.sale.tracking_number, after.sale.carrier) == ("JX0042", "J&T Express")
    assert after.sale.reason == "Arrived broken"
    assert after.sale.seller_response_deadline == deadline
    assert [(i.sku, i.product_name, i.quantity) for i in after.items] == [
        ("SKU-1", "Blue mug", 3),
        ("SKU-2", None, 1),
    ]


async def test_stale_report_fills_what_is_missing_without_moving_status_or_last_change() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    created = await deliver(seller, "BUYER_SHIPPED_ITEM")
    assert created.after_sale_id is not None
    before = await stored(seller_id, created.after_sale_id)
    items = (LineItem("SKU-1", "Blue mug", 2, Decimal("10.00")),)

    result = await deliver(
        seller,
        "RETURN_OR_REFUND_REQUEST_PENDING",
        at=LATER - timedelta(hours=1),
        now=LATER + timedelta(minutes=5),
        currency="MYR",
        refund_total=Decimal("20.00"),
        items=items,
        role="SELLER",
    )

    after = await stored(seller_id, created.after_sale_id)
    assert (result.outcome, result.after_sale_id) == (Outcome.STALE, created.after_sale_id)
    assert (after.sale.status, after.sale.platform_status) == (
        S.SHIPPED_BY_BUYER,
        "BUYER_SHIPPED_ITEM",
    )
    assert after.last_event_at == before.last_event_at == LATER
    assert (after.sale.refund_requested, after.sale.currency) == (Decimal("20.00"), "MYR")
    assert [(i.sku, i.quantity) for i in after.items] == [("SKU-1", 2)]
    assert after.sale.version == before.sale.version + 1
    assert after.history[-1] == HistoryRecord(
        at=LATER + timedelta(minutes=5),
        actor=Actor.SELLER,
        action="PLATFORM_DETAILS_FILLED",
        from_status=S.SHIPPED_BY_BUYER,
        to_status=S.SHIPPED_BY_BUYER,
        source=EventSource.TIKTOK_WEBHOOK,
        platform_at=LATER - timedelta(hours=1),
    )


async def test_platform_operator_is_recorded_as_the_platform() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID)

    await deliver(seller, "RETURN_OR_REFUND_REQUEST_CANCEL", role="OPERATOR")

    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.REQUEST_CLOSED
    assert after.history[-1].actor is Actor.PLATFORM


async def test_same_return_id_in_two_shops_is_two_after_sales() -> None:
    first, second = await make_seller(), await make_seller()

    one = await deliver(first, "RETURN_OR_REFUND_REQUEST_PENDING")
    two = await deliver(second, "RETURN_OR_REFUND_REQUEST_PENDING")

    assert (one.outcome, two.outcome) == (Outcome.CREATED, Outcome.CREATED)
    assert one.after_sale_id != two.after_sale_id


async def test_return_runs_from_request_to_refund_across_seller_and_buyer() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID)

    await seller_commands.decide(
        seller_id, sale_id, Decision(SellerAction.ACCEPT_RETURN), now=NOW, windows=WINDOWS
    )
    await deliver(seller, "BUYER_SHIPPED_ITEM", tracking_number="JX0001")
    await seller_commands.decide(
        seller_id,
        sale_id,
        Decision(SellerAction.CONFIRM_RECEIPT),
        now=LATER + timedelta(hours=1),
        windows=WINDOWS,
    )

    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.REFUNDED
    assert after.sale.refund_amount == Decimal("100.00")
    assert [(h.actor, h.action, h.to_status, h.source) for h in after.history] == [
        (Actor.BUYER, PLATFORM_STATUS_ACTION, S.PENDING_REQUEST, EventSource.TIKTOK_WEBHOOK),
        (Actor.SELLER, "ACCEPT_RETURN", S.AWAITING_BUYER_SHIPMENT, EventSource.GRAPHQL),
        (Actor.BUYER, PLATFORM_STATUS_ACTION, S.SHIPPED_BY_BUYER, EventSource.TIKTOK_WEBHOOK),
        (Actor.SELLER, "CONFIRM_RECEIPT", S.REFUNDED, EventSource.GRAPHQL),
    ]
