"""The urgent queue over HTTP: `afterSales(orderBy: RESPONSE_DEADLINE)`, the soonest seller
response deadline first, after-sales without one last, paged by cursors of that order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.builders import Seller, abnormal_return, make_sale, make_seller
from tests.support.clock import T0
from tests.support.http import AppClient, error_messages, post_graphql

URGENT = """
query Urgent($first: Int!, $after: String, $type: AfterSaleType) {
  afterSales(orderBy: RESPONSE_DEADLINE, first: $first, after: $after, type: $type) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id sellerResponseDeadline } }
  }
}
"""
NEWEST = """
query Newest($after: String) { afterSales(first: 2, after: $after) { edges { node { id } } } }
"""


async def _due_in(seller: Seller, hours: int, created_minutes: int) -> int:
    return await make_sale(
        seller,
        at=T0 + timedelta(minutes=created_minutes),
        seller_deadline=T0 + timedelta(hours=hours),
    )


async def _pages(app: AppClient, seller: Seller, size: int, **variables: Any) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        data = await app.gql(
            URGENT, {"first": size, "after": after, **variables}, token=seller.token
        )
        page = data["afterSales"]
        ids += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


async def test_the_soonest_deadline_comes_first_and_none_last_across_pages(
    app: AppClient,
) -> None:
    seller = await make_seller()
    later = await _due_in(seller, 30, 1)
    abnormal = await abnormal_return(seller)
    soonest = await _due_in(seller, 5, 2)
    tie_a = await _due_in(seller, 10, 3)
    tie_b = await _due_in(seller, 10, 4)
    abnormal_2 = await abnormal_return(seller)
    expected = [soonest, tie_a, tie_b, later, abnormal, abnormal_2]

    for size in (1, 2, 4, 100):
        assert await _pages(app, seller, size) == [str(i) for i in expected], size
    first = await app.gql(URGENT, {"first": 100}, token=seller.token)
    assert first["afterSales"]["totalCount"] == 6
    assert first["afterSales"]["edges"][-1]["node"]["sellerResponseDeadline"] is None


async def test_the_urgent_queue_takes_the_other_filters(app: AppClient) -> None:
    seller = await make_seller()
    await _due_in(seller, 1, 1)
    refund = await make_sale(seller, return_type="REFUND", seller_deadline=T0 + timedelta(hours=9))
    early_refund = await make_sale(
        seller, return_type="REFUND", seller_deadline=T0 + timedelta(hours=2)
    )

    ids = await _pages(app, seller, 1, type="REFUND_ONLY")

    assert ids == [str(early_refund), str(refund)]


async def test_a_cursor_of_one_order_is_refused_by_the_other(app: AppClient) -> None:
    seller = await make_seller()
    for n in range(3):
        await _due_in(seller, n + 1, n)
    urgent = await app.gql(URGENT, {"first": 1}, token=seller.token)
    newest_cursor = (
        await app.gql(
            "query { afterSales(first: 1) { pageInfo { endCursor } } }", token=seller.token
        )
    )["afterSales"]["pageInfo"]["endCursor"]

    wrong_way = await post_graphql(
        app, NEWEST, {"after": urgent["afterSales"]["pageInfo"]["endCursor"]}, token=seller.token
    )
    other_way = await post_graphql(
        app, URGENT, {"first": 1, "after": newest_cursor}, token=seller.token
    )

    assert error_messages(wrong_way) == ["the cursor is not one this API returned"]
    assert error_messages(other_way) == ["the cursor is not one this API returned for this order"]
