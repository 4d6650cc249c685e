"""Seller actions through the commands, against the real databases (docs/lifecycle.md)."""

from __future__ import annotations

import enum
from datetime import timedelta
from decimal import Decimal

import pytest

from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.errors import (
    ActionNotAllowedForType,
    DomainError,
    Invalid,
    InvalidAmount,
    InvalidTransition,
    NotFound,
)
from aftersales.domain.model import (
    Actor,
    AfterSaleStatus,
    AfterSaleType,
    EventSource,
    ReturnStatus,
    SellerAction,
)
from aftersales.domain.outcome import Outcome
from aftersales.domain.rules import TRANSITIONS
from aftersales.store.records import HistoryRecord
from tests.support.builders import (
    WINDOWS,
    abnormal_return,
    apply_report,
    make_seller,
    report,
    sale_in,
    seller_id_of,
)
from tests.support.clock import T0
from tests.support.stored import stored


def _name(value: object) -> str:
    """A readable test id: an enum member's value, else the value itself."""
    return str(value.value) if isinstance(value, enum.Enum) else str(value)


pytestmark = pytest.mark.usefixtures("database")

S = AfterSaleStatus
T = AfterSaleType
A = SellerAction
NOW = T0 + timedelta(hours=1)
REJECTIONS = {A.REJECT_RETURN, A.REJECT_RECEIPT, A.REJECT_REFUND, A.REFUSE_EXCHANGE}
FULL_REFUNDS = {A.CONFIRM_RECEIPT, A.ACCEPT_REFUND, A.ISSUE_FULL_REFUND}


def _row_id(row: tuple[AfterSaleType, SellerAction]) -> str:
    return f"{row[0].value}-{row[1].value}"


ROWS = sorted(TRANSITIONS, key=_row_id)


def command_for(action: SellerAction) -> Decision:
    if action in REJECTIONS or action is A.REJECT_CANCELLATION:
        return Decision(action, reason=" item was used ")
    if action is A.OFFER_PARTIAL_REFUND:
        return Decision(action, amount=Decimal("40.00"))
    return Decision(action)


async def perform(seller_id: int, sale_id: int, command: Decision) -> None:
    await seller_commands.decide(seller_id, sale_id, command, now=NOW, windows=WINDOWS)


@pytest.mark.parametrize("row", ROWS, ids=_row_id)
async def test_seller_action_moves_the_after_sale_and_records_who_did_it(
    row: tuple[AfterSaleType, SellerAction],
) -> None:
    type_, action = row
    from_status, to_status = TRANSITIONS[row]
    seller = await make_seller(region="ID")
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, type_, from_status)
    before = await stored(seller_id, sale_id)

    await perform(seller_id, sale_id, command_for(action))

    after = await stored(seller_id, sale_id)
    assert after.sale.status is to_status
    assert after.sale.version == before.sale.version + 1
    assert after.sale.updated_at == NOW
    assert after.last_event_at == NOW
    assert after.history == [
        *before.history,
        HistoryRecord(NOW, Actor.SELLER, action.value, from_status, to_status, EventSource.GRAPHQL),
    ]


async def test_accepted_return_waits_for_the_buyer_to_ship() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST)

    await perform(seller_id, sale_id, Decision(A.ACCEPT_RETURN))

    after = await stored(seller_id, sale_id)
    assert after.sale.return_status is ReturnStatus.TO_RETURN


@pytest.mark.parametrize("row", [r for r in ROWS if r[1] in REJECTIONS], ids=_row_id)
async def test_rejection_is_saved_with_its_reason_and_dispute_deadline(
    row: tuple[AfterSaleType, SellerAction],
) -> None:
    type_, action = row
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, type_, TRANSITIONS[row][0])

    await perform(seller_id, sale_id, Decision(action, reason=" item was used "))

    after = await stored(seller_id, sale_id)
    assert after.sale.reject_reason == "item was used"
    assert after.sale.dispute_deadline == NOW + timedelta(hours=48)


async def test_a_rejected_cancellation_keeps_its_reason_and_has_no_dispute_deadline() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.CANCELLATION, S.PENDING_REQUEST)

    await perform(seller_id, sale_id, Decision(A.REJECT_CANCELLATION, reason=" packed "))

    after = await stored(seller_id, sale_id)
    assert (after.sale.status, after.sale.reject_reason) == (S.REJECTED, "packed")
    assert after.sale.dispute_deadline is None and not after.sale.must_not_ship


@pytest.mark.parametrize("row", [r for r in ROWS if r[1] in FULL_REFUNDS], ids=_row_id)
async def test_full_refund_is_saved_as_the_requested_amount(
    row: tuple[AfterSaleType, SellerAction],
) -> None:
    type_, action = row
    seller = await make_seller(region="ID")
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, type_, TRANSITIONS[row][0], refund="87.50")

    await perform(seller_id, sale_id, Decision(action))

    after = await stored(seller_id, sale_id)
    assert after.sale.refund_amount == Decimal("87.50")
    assert after.sale.refund_requested == Decimal("87.50")


@pytest.mark.parametrize("type_", [T.RETURN_AND_REFUND, T.REFUND_ONLY, T.EXCHANGE], ids=_name)
async def test_partial_refund_offer_is_saved(type_: AfterSaleType) -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, type_, S.PENDING_REQUEST)

    await perform(seller_id, sale_id, Decision(A.OFFER_PARTIAL_REFUND, amount=Decimal("40")))

    after = await stored(seller_id, sale_id)
    assert after.sale.partial_refund_offer == Decimal("40.00")
    assert after.sale.refund_amount is None


async def test_rejection_note_is_kept_with_the_after_sale() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.REFUND_ONLY, S.PENDING_REQUEST)

    await perform(
        seller_id, sale_id, Decision(A.REJECT_REFUND, reason="used", note="  photos sent ")
    )

    after = await stored(seller_id, sale_id)
    assert [(n.text, n.created_at) for n in after.notes] == [("photos sent", NOW)]


async def test_action_from_the_cli_is_recorded_as_such() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.REFUND_ONLY, S.PENDING_REQUEST)

    await seller_commands.decide(
        seller_id,
        sale_id,
        Decision(A.ACCEPT_REFUND),
        now=NOW,
        windows=WINDOWS,
        source=EventSource.CLI,
    )

    after = await stored(seller_id, sale_id)
    assert after.history[-1].source is EventSource.CLI


RR, RO, EX = T.RETURN_AND_REFUND, T.REFUND_ONLY, T.EXCHANGE
PENDING = S.PENDING_REQUEST
REFUSALS = [
    pytest.param(RR, PENDING, "MY", Decision(A.CONFIRM_RECEIPT), InvalidTransition,
                 id="confirm-receipt-before-the-buyer-ships"),
    pytest.param(RR, S.SHIPPED_BY_BUYER, "MY", Decision(A.ACCEPT_RETURN), InvalidTransition,
                 id="accept-return-after-the-buyer-shipped"),
    pytest.param(RO, PENDING, "MY", Decision(A.ACCEPT_RETURN), ActionNotAllowedForType,
                 id="accept-return-on-refund-only"),
    pytest.param(RR, PENDING, "US", Decision(A.ACCEPT_EXCHANGE), ActionNotAllowedForType,
                 id="accept-exchange-on-a-return"),
    pytest.param(RO, PENDING, "MY", Decision(A.OFFER_PARTIAL_REFUND, amount=Decimal("100.01")),
                 InvalidAmount, id="offer-more-than-requested"),
    pytest.param(EX, PENDING, "ID", Decision(A.OFFER_PARTIAL_REFUND, amount=Decimal("0")),
                 InvalidAmount, id="offer-nothing"),
    pytest.param(RR, PENDING, "MY", Decision(A.REJECT_RETURN, reason=" "), Invalid,
                 id="reject-without-reason"),
    pytest.param(RR, PENDING, "MY", Decision(A.REJECT_RETURN, reason="x" * 1001), Invalid,
                 id="reject-with-too-long-reason"),
    pytest.param(RO, PENDING, "MY", Decision(A.REJECT_REFUND, reason="ok", note="n" * 5001),
                 Invalid, id="reject-with-too-long-note"),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "status", "region", "command", "error"), REFUSALS)
async def test_refused_action_changes_nothing(
    type_: AfterSaleType,
    status: AfterSaleStatus,
    region: str,
    command: Decision,
    error: type[DomainError],
) -> None:
    seller = await make_seller(region=region)
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, type_, status)
    before = await stored(seller_id, sale_id)

    with pytest.raises(error):
        await perform(seller_id, sale_id, command)

    after = await stored(seller_id, sale_id)
    assert after == before


async def test_seller_cannot_accept_the_same_return_twice() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST)
    await perform(seller_id, sale_id, Decision(A.ACCEPT_RETURN))
    before = await stored(seller_id, sale_id)

    with pytest.raises(InvalidTransition):
        await perform(seller_id, sale_id, Decision(A.ACCEPT_RETURN))

    assert (await stored(seller_id, sale_id)).unchanged_marks == before.unchanged_marks


@pytest.mark.parametrize("action", sorted({a for _, a in TRANSITIONS}, key=str), ids=_name)
async def test_abnormal_return_refuses_every_accept_refuse_and_refund_action(
    action: SellerAction,
) -> None:
    seller = await make_seller(region="ID")
    seller_id = await seller_id_of(seller)
    sale_id = await abnormal_return(seller)
    before = await stored(seller_id, sale_id)

    with pytest.raises(ActionNotAllowedForType):
        await perform(seller_id, sale_id, command_for(action))

    assert await stored(seller_id, sale_id) == before


async def test_another_sellers_after_sale_is_not_found_and_untouched() -> None:
    owner = await make_seller()
    intruder = await make_seller()
    owner_id, intruder_id = await seller_id_of(owner), await seller_id_of(intruder)
    sale_id = await sale_in(owner, T.REFUND_ONLY, S.PENDING_REQUEST)
    before = await stored(owner_id, sale_id)

    with pytest.raises(NotFound):
        await perform(intruder_id, sale_id, Decision(A.ACCEPT_REFUND))
    with pytest.raises(NotFound):
        await seller_commands.add_note(intruder_id, sale_id, "mine now", now=NOW)

    assert await stored(owner_id, sale_id) == before


async def test_unknown_after_sale_is_not_found() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)

    with pytest.raises(NotFound):
        await perform(seller_id, 424242, Decision(A.ACCEPT_REFUND))


@pytest.mark.parametrize(
    ("type_", "status"),
    [(T.RETURN_AND_REFUND, S.PENDING_REQUEST), (T.EXCHANGE, S.PENDING_REQUEST)],
    ids=_name,
)
async def test_note_is_saved_and_recorded_without_moving_the_status(
    type_: AfterSaleType, status: AfterSaleStatus
) -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, type_, status)
    before = await stored(seller_id, sale_id)

    await seller_commands.add_note(seller_id, sale_id, "  called the buyer \n", now=NOW)

    after = await stored(seller_id, sale_id)
    assert [(n.text, n.created_at) for n in after.notes] == [("called the buyer", NOW)]
    assert after.sale.status is status
    assert after.sale.version == before.sale.version + 1
    assert after.history[-1] == HistoryRecord(
        NOW, Actor.SELLER, "ADD_NOTE", status, status, EventSource.GRAPHQL
    )


async def test_note_can_be_added_to_an_abnormal_return() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await abnormal_return(seller)
    before = await stored(seller_id, sale_id)

    await seller_commands.add_note(seller_id, sale_id, "parcel refused at the door", now=NOW)

    after = await stored(seller_id, sale_id)
    assert [n.text for n in after.notes] == ["parcel refused at the door"]
    assert after.history == [
        *before.history,
        HistoryRecord(NOW, Actor.SELLER, "ADD_NOTE", None, None, EventSource.GRAPHQL),
    ]


async def test_note_can_be_added_after_the_request_is_closed() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.REFUND_ONLY, S.PENDING_REQUEST)
    await perform(seller_id, sale_id, Decision(A.ACCEPT_REFUND))

    await seller_commands.add_note(seller_id, sale_id, "refund seen by the buyer", now=NOW)

    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.REFUNDED
    assert [n.text for n in after.notes] == ["refund seen by the buyer"]


@pytest.mark.parametrize("text", ["", "   ", "x" * 5001], ids=["empty", "blank", "too-long"])
async def test_invalid_note_changes_nothing(text: str) -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.REFUND_ONLY, S.PENDING_REQUEST)
    before = await stored(seller_id, sale_id)

    with pytest.raises(Invalid):
        await seller_commands.add_note(seller_id, sale_id, text, now=NOW)

    assert await stored(seller_id, sale_id) == before


async def test_tiktok_report_older_than_the_sellers_action_is_stale() -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(seller, T.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id="R-1")
    await perform(seller_id, sale_id, Decision(A.ACCEPT_RETURN))
    before = await stored(seller_id, sale_id)

    result = await apply_report(
        seller.shop_id,
        report("RETURN_OR_REFUND_REQUEST_CANCEL", return_id="R-1", at=NOW - timedelta(minutes=1)),
        now=NOW,
        windows=WINDOWS,
    )

    assert result.outcome is Outcome.STALE
    assert await stored(seller_id, sale_id) == before
