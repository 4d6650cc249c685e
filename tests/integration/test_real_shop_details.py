"""What real shops trip on, against the stand-in TikTok over real loopback HTTP, on both
databases: money in the currency's own digits, edited requests superseding their predecessor
(in either order of arrival), quick refunds, reject reasons per stage in the shop's locale, and
exchanges accepted in every region (docs/tiktok-sync.md, docs/lifecycle.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from aftersales.commands import accounts
from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.errors import InvalidAmount
from aftersales.domain.model import Actor, AfterSaleStatus, SellerAction
from aftersales.store.models import Shop, TikTokCall
from aftersales.tiktok import dispatch, imports
from tests.integration.test_tiktok_sync import (
    REASON,
    World,
    _row,
    _sale,
    credentials,
    graphql_app,
    queries,
    world,
)
from tests.support.builders import WINDOWS, make_seller, seller_id_of, unique_id
from tests.support.sandbox import ACCESS_TOKEN, CIPHER, REFRESH_TOKEN

__all__ = ["world"]  # the fixture, shared with test_tiktok_sync.py

A = SellerAction
S = AfterSaleStatus
PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"


def offers(world: World) -> list[Any]:
    return [c for c in world.decisions() if c.body.get("decision") == "OFFER_PARTIAL_REFUND"]


# --- money -----------------------------------------------------------------------------------


async def test_a_rupiah_offer_is_sent_to_tiktok_without_decimals(world: World) -> None:
    sale_id = await world.imported(world.put(PENDING))

    await world.decide(sale_id, A.OFFER_PARTIAL_REFUND, amount=Decimal("40000.00"))
    run = await dispatch.dispatch(world.link)

    assert run.synced == 1
    [call] = offers(world)
    assert call.body["partial_refund"] == {"amount": "40000", "currency": "IDR"}
    assert call.code == 0  # the stand-in, strict about digits, took it


async def test_a_ringgit_offer_is_sent_with_two_decimals(world: World) -> None:
    myr = {"currency": "MYR", "refund_total": "120.00"}
    sale_id = await world.imported(world.put(PENDING, refund_amount=myr, return_line_items=[]))

    await world.decide(sale_id, A.OFFER_PARTIAL_REFUND, amount=Decimal("12.5"))
    await dispatch.dispatch(world.link)

    [call] = offers(world)
    assert call.body["partial_refund"] == {"amount": "12.50", "currency": "MYR"}
    assert call.code == 0


@pytest.mark.parametrize("push", [True, False], ids=["syncing", "local-only"])
async def test_a_rupiah_offer_with_a_fraction_is_refused_and_nothing_is_queued(
    world: World, push: bool
) -> None:
    sale_id = await world.imported(world.put(PENDING))

    with pytest.raises(InvalidAmount) as refused:
        await seller_commands.decide(
            world.seller_id,
            sale_id,
            Decision(A.OFFER_PARTIAL_REFUND, amount=Decimal("40000.5")),
            now=world.clock.now(),
            windows=WINDOWS,
            push=push,
        )

    assert refused.value.field == "amount"
    assert "IDR" in refused.value.message
    assert await TikTokCall.filter(kind="DECISION").count() == 0
    assert (await queries.get_sale(world.seller_id, sale_id)).status is S.PENDING_REQUEST


# --- edited requests ---------------------------------------------------------------------------

LINKS = """query($id: ID!) { afterSale(id: $id) { id status
  supersedes { id returnId status } supersededBy { id returnId status } } }"""
PAGE = """{ afterSales(first: 10) { edges { node { returnId
  supersedes { returnId } supersededBy { returnId supersededBy { returnId } } } } } }"""


async def test_an_edited_request_closes_its_predecessor_and_cancels_its_queued_decision(
    world: World, database: str
) -> None:
    old_id = world.put(PENDING)
    old_pk = await world.imported(old_id)
    await world.decide(old_pk, A.ACCEPT_RETURN)  # queued, not sent yet
    new_id = world.sandbox.edit_return(old_id)["return_id"]
    world.time.advance(1)

    new_pk = await world.imported(new_id)
    await dispatch.dispatch(world.link)

    old = await _sale(world, old_id)
    assert (old.status, old.sync_status) == (S.REQUEST_CLOSED, "LOCAL_ONLY")
    assert "replaced by return " + new_id in (old.sync_error or "")
    assert world.decisions() == []  # the stale request's decision never went out
    [call] = await TikTokCall.filter(kind="DECISION")
    assert call.status == "CANCELLED"
    last = (await queries.history_by_sale([old_pk]))[old_pk][-1]
    assert (last.action, last.actor, last.from_status, last.to_status) == (
        "SUPERSEDED",
        Actor.PLATFORM,
        S.AWAITING_BUYER_SHIPMENT,
        S.REQUEST_CLOSED,
    )
    assert (await _sale(world, new_id)).status is S.PENDING_REQUEST
    async with graphql_app(world, database, syncing=True) as (app, _):
        token = world.seller.token
        newer = (await app.gql(LINKS, {"id": str(new_pk)}, token=token))["afterSale"]
        older = (await app.gql(LINKS, {"id": str(old_pk)}, token=token))["afterSale"]
        page = (await app.gql(PAGE, token=token))["afterSales"]["edges"]
    assert newer["supersedes"] == {
        "id": str(old_pk),
        "returnId": old_id,
        "status": "REQUEST_CLOSED",
    }
    assert newer["supersededBy"] is None
    assert older["supersededBy"] == {
        "id": str(new_pk),
        "returnId": new_id,
        "status": "PENDING_REQUEST",
    }
    assert older["supersedes"] is None
    by_return = {edge["node"]["returnId"]: edge["node"] for edge in page}
    assert by_return[new_id]["supersedes"] == {"returnId": old_id}
    assert by_return[old_id]["supersededBy"] == {"returnId": new_id, "supersededBy": None}


async def test_an_edit_that_arrives_first_closes_its_predecessor_when_that_arrives(
    world: World,
) -> None:
    old_id = world.put(PENDING)
    new_id = world.sandbox.edit_return(old_id)["return_id"]
    world.time.advance(1)

    await world.imported(new_id)  # the old request is not known yet
    old_pk = await world.imported(old_id)

    old = await _sale(world, old_id)
    assert old.status is S.REQUEST_CLOSED
    history = (await queries.history_by_sale([old_pk]))[old_pk]
    assert [h.action for h in history] == ["PLATFORM_STATUS_REPORTED", "SUPERSEDED"]
    linked = await queries.superseded_by_by_sale([old_pk])
    assert [s.return_id for s in linked[old_pk]] == [new_id]


async def test_an_edit_known_only_from_the_new_request_still_closes_the_old_one_later(
    world: World,
) -> None:
    """The old return's object carries no `next_return_id`: the new one's `pre_return_id`,
    held, is enough when the old one arrives."""
    old_id = world.put(PENDING)
    new_id = world.put(PENDING, pre_return_id=old_id)

    new_pk = await world.imported(new_id)
    old_pk = await world.imported(old_id)

    assert (await _sale(world, old_id)).status is S.REQUEST_CLOSED
    assert (await _sale(world, new_id)).status is S.PENDING_REQUEST
    linked = await queries.supersedes_by_sale([new_pk])
    assert [s.id for s in linked[new_pk]] == [old_pk]


async def test_a_final_request_is_linked_but_keeps_its_outcome(world: World) -> None:
    old_id = world.put("RETURN_OR_REFUND_REQUEST_SUCCESS")
    old_pk = await world.imported(old_id)
    new_id = world.put(PENDING, pre_return_id=old_id)

    new_pk = await world.imported(new_id)

    assert (await _sale(world, old_id)).status is S.REFUNDED
    assert [s.id for s in (await queries.supersedes_by_sale([new_pk]))[new_pk]] == [old_pk]


# --- quick refunds -----------------------------------------------------------------------------

ACTIONS = """query($id: ID!) { afterSale(id: $id) { quickRefund availableActions } }"""
REJECT_RECEIPT = """mutation($input: RejectInput!) { rejectReceipt(input: $input) {
  afterSale { status } userErrors { code field message } } }"""


async def test_a_quick_refund_return_cannot_have_its_receipt_rejected(
    world: World, database: str
) -> None:
    return_id = world.put("BUYER_SHIPPED_ITEM", is_quick_refund=True)
    sale_id = str(await world.imported(return_id))

    async with graphql_app(world, database, syncing=True) as (app, _):
        token = world.seller.token
        shown = (await app.gql(ACTIONS, {"id": sale_id}, token=token))["afterSale"]
        given = {"id": sale_id, "reason": "Torn", "reasonCode": REASON}
        refused = (await app.gql(REJECT_RECEIPT, {"input": given}, token=token))["rejectReceipt"]

    assert shown == {"quickRefund": True, "availableActions": ["CONFIRM_RECEIPT", "ADD_NOTE"]}
    assert refused["afterSale"]["status"] == "SHIPPED_BY_BUYER"
    assert refused["userErrors"] == [
        {
            "code": "INVALID_TRANSITION",
            "field": None,
            "message": "quick-refund return: the receipt cannot be rejected",
        }
    ]
    assert await TikTokCall.filter(kind="DECISION").count() == 0


# --- reject reasons ----------------------------------------------------------------------------

REASONS = """query($id: ID!) { rejectReasons(id: $id) { code text } }"""


def reason_calls(world: World) -> list[Any]:
    return [c for c in world.sandbox.calls if c.path.endswith("/reject_reasons")]


async def test_reject_reasons_are_cached_per_stage_and_asked_in_the_shops_locale(
    world: World, database: str
) -> None:
    return_id = world.put(PENDING)
    sale_id = str(await world.imported(return_id))

    async with graphql_app(world, database, syncing=True) as (app, _):
        token = world.seller.token
        asked = (await app.gql(REASONS, {"id": sale_id}, token=token))["rejectReasons"]
        again = (await app.gql(REASONS, {"id": sale_id}, token=token))["rejectReasons"]
        world.sandbox.set_status(return_id, "BUYER_SHIPPED_ITEM")
        world.time.advance(1)
        await world.imported(return_id)
        package = (await app.gql(REASONS, {"id": sale_id}, token=token))["rejectReasons"]
        await accounts.set_shop_locale(world.seller.shop_id, "en-gb")
        english = (await app.gql(REASONS, {"id": sale_id}, token=token))["rejectReasons"]

    assert again == asked  # from the cache
    assert {"code": REASON, "text": "[id-ID] The product has been used"} in asked
    assert all(r["code"].startswith("seller_reject_apply_") for r in asked)
    assert all(r["code"].startswith("seller_reject_receive_package_") for r in package)
    assert all(not r["text"].startswith("[") for r in english)
    calls = reason_calls(world)
    assert [c.query.get("locale") for c in calls] == ["id-ID", "id-ID", "en-GB"]
    assert (await Shop.get(shop_id=world.seller.shop_id)).locale == "en-GB"


# --- exchanges ---------------------------------------------------------------------------------


async def test_a_us_shop_accepts_a_replacement_and_tiktok_is_told_approve_replacement(
    world: World,
) -> None:
    us = await make_seller(region="US")
    world.sandbox.add_shop(
        us.shop_id,
        cipher=CIPHER + "-us",
        access_token=ACCESS_TOKEN + "-us",
        refresh_token=REFRESH_TOKEN,
        region="US",
    )
    await credentials.set_credentials(
        world.link.vault,
        us.shop_id,
        access_token=ACCESS_TOKEN + "-us",
        refresh_token=REFRESH_TOKEN,
        shop_cipher=CIPHER + "-us",
        now=world.clock.now(),
    )
    return_id = unique_id()
    world.sandbox.put_return(
        us.shop_id,
        {
            "return_id": return_id,
            "return_type": "REPLACEMENT",
            "refund_amount": {"currency": "USD", "refund_total": "25.00"},
        },
    )
    shop = await Shop.get(shop_id=us.shop_id)
    creds = await world.link.shop(shop.id)
    assert creds is not None
    await imports.fetch(world.link, creds, return_id)
    sale_id = await _row(world, return_id)

    await seller_commands.decide(
        await seller_id_of(us),
        sale_id,
        Decision(A.ACCEPT_EXCHANGE),
        now=world.clock.now(),
        windows=WINDOWS,
        push=True,
    )
    run = await dispatch.dispatch(world.link)

    assert run.synced == 1
    [call] = world.decisions()
    assert call.path == f"/return_refund/202309/returns/{return_id}/approve"
    assert call.body == {"decision": "APPROVE_REPLACEMENT"}
    assert call.code == 0
    assert world.sandbox.get_return(return_id)["return_status"] == "REPLACEMENT_REQUEST_COMPLETE"
