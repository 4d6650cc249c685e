"""No N+1: a page costs the same statements whatever its size, and a webhook delivery a
handful. Counted, not timed."""

from __future__ import annotations

import json
from decimal import Decimal

from aftersales.domain.model import LineItem
from aftersales.store.models import WebhookDelivery
from tests.perf.counting import statements
from tests.support.builders import make_sale, make_seller, unique_id
from tests.support.clock import T0
from tests.support.http import AppClient
from tests.support.webhooks import envelope, post_tiktok, return_data

PAGE = """
query Page($first: Int!) {
  afterSales(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id returnId orderId type status returnStatus
      refundRequested { amount currency } refundAmount { amount currency }
      trackingNumber sellerResponseDeadline createdAt updatedAt availableActions
      items { sku productName quantity unitRefund { amount currency } }
      history { at actor action fromStatus toStatus source }
    } }
  }
}
"""
# Authentication, the page with its total, the lines, the history.
LIST_STATEMENTS = 4
# A new return with its lines, as TikTok delivers it: its shop, its return (none yet) and
# whether parcel events wait for it, in one SELECT; the after-sale inserted with its final
# fields, its lines and its history entry: one statement on PostgreSQL (a `WITH`), three on
# SQLite; the delivery logged once, with its outcome. On PostgreSQL a new after-sale then waits
# for any other transaction creating one of the same order and reads again whether a held
# return names it as the request it replaces (2: the two returns of an edited request arriving
# at once on two replicas must see each other). No savepoint on this path (transaction control
# is not counted here).
WEBHOOK_STATEMENTS = {"postgres": 5, "sqlite": 5}
# The same delivery again: the same SELECT finds the return (with lines), the report is stale
# and fills nothing, the delivery's insert finds its key taken and all of it rolls back (2);
# then the first delivery's id is looked up and the repeat logged as a duplicate (2).
DUPLICATE_STATEMENTS = 4


async def test_a_page_of_50_costs_the_statements_of_a_page_of_5(app: AppClient) -> None:
    seller = await make_seller()
    lines = (
        LineItem("MUG-01", "Mug", 1, Decimal("10.00")),
        LineItem("CUP-02", "Cup", 2, Decimal("5.00")),
    )
    for _ in range(55):
        await make_sale(seller, items=lines)
    await app.gql(PAGE, {"first": 1}, token=seller.token)  # the token's use is recorded once
    counted = {}
    for first in (5, 50):
        with statements() as sent:
            data = await app.gql(PAGE, {"first": first}, token=seller.token)
        assert len(data["afterSales"]["edges"]) == first
        assert all(len(e["node"]["items"]) == 2 for e in data["afterSales"]["edges"])
        counted[first] = len(sent)
    assert counted[5] == counted[50] <= LIST_STATEMENTS, counted


MUST_NOT_SHIP = """
query Pull($first: Int!) {
  afterSales(type: CANCELLATION, mustNotShip: true, first: $first) {
    totalCount
    edges { node {
      id returnId orderId type status mustNotShip availableActions
      items { sku productName quantity }
      history { at actor action fromStatus toStatus source }
    } }
  }
}
"""


async def test_the_must_not_ship_list_costs_the_statements_of_any_page(app: AppClient) -> None:
    seller = await make_seller()
    for status in ("CANCELLATION_REQUEST_SUCCESS",) * 55 + ("CANCELLATION_REQUEST_PENDING",) * 5:
        await make_sale(seller, return_type="CANCELLATION", status=status)
    await app.gql(MUST_NOT_SHIP, {"first": 1}, token=seller.token)
    counted = {}
    for first in (5, 50):
        with statements() as sent:
            data = await app.gql(MUST_NOT_SHIP, {"first": first}, token=seller.token)
        assert data["afterSales"]["totalCount"] == 55
        assert {e["node"]["mustNotShip"] for e in data["afterSales"]["edges"]} == {True}
        counted[first] = len(sent)
    assert counted[5] == counted[50] <= LIST_STATEMENTS, counted


def _new_return_body(shop_id: str) -> bytes:
    lines = [
        {
            "seller_sku": sku,
            "product_name": sku,
            "refund_amount": {"currency": "MYR", "refund_total": "10.00"},
        }
        for sku in ("MUG-01", "CUP-02")
    ]
    return envelope(
        shop_id,
        return_data(
            "RETURN_OR_REFUND_REQUEST_PENDING",
            at=T0,
            return_id=unique_id(),
            refund_amount={"currency": "MYR", "refund_total": "20.00"},
            return_line_items=lines,
        ),
        notification_id=unique_id(),
    )


async def test_a_new_return_delivered_by_webhook_costs_a_handful_of_statements(
    app: AppClient, backend: str
) -> None:
    seller = await make_seller()
    await post_tiktok(app, _new_return_body(seller.shop_id))  # warm: nothing cached counts
    body = _new_return_body(seller.shop_id)

    with statements() as sent:
        response = await post_tiktok(app, body)
    assert response.status_code == 200, response.text
    assert len(sent) == WEBHOOK_STATEMENTS[backend], "\n".join(sent)

    with statements() as again:
        response = await post_tiktok(app, body)
    assert response.status_code == 200, response.text
    assert len(again) == DUPLICATE_STATEMENTS, "\n".join(again)
    outcomes = await WebhookDelivery.filter(
        dedupe_key__startswith=json.loads(body)["tts_notification_id"]
    ).values_list("outcome", flat=True)
    assert sorted(outcomes) == ["created", "duplicate"]
