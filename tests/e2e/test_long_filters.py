"""Filter values longer than any stored value match nothing; they are not an internal error."""

from __future__ import annotations

from tests.support.builders import make_sale, make_seller
from tests.support.http import AppClient, assert_no_stack_trace, post_graphql

SEARCH = "query Search($q: String) { afterSales(search: $q) { totalCount } }"
BY_SHOP = "query ByShop($s: String) { afterSales(shopId: $s) { totalCount } }"
COUNTS = """
query Counts($s: String) { afterSaleCounts(type: RETURN_AND_REFUND, shopId: $s) { count } }
"""
INVENTORY = "query Inventory($sku: String) { inventory(sku: $sku) { sku } }"


async def test_over_long_search_shop_and_sku_filters_find_nothing(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller)
    long = "1" * 500

    responses = [
        await post_graphql(app, SEARCH, {"q": long}, token=seller.token),
        await post_graphql(app, BY_SHOP, {"s": long}, token=seller.token),
        await post_graphql(app, COUNTS, {"s": long}, token=seller.token),
        await post_graphql(app, INVENTORY, {"sku": long}, token=seller.token),
    ]

    for response in responses:
        assert response.status_code == 200
        assert "errors" not in response.json(), response.json()
        assert_no_stack_trace(response)
    data = [r.json()["data"] for r in responses]
    assert data[0]["afterSales"]["totalCount"] == 0
    assert data[1]["afterSales"]["totalCount"] == 0
    assert {c["count"] for c in data[2]["afterSaleCounts"]} == {0}
    assert data[3]["inventory"] == []


async def test_a_search_at_the_column_limit_still_matches(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller, return_id="9" * 64)

    data = await app.gql(SEARCH, {"q": "9" * 64}, token=seller.token)

    assert data["afterSales"]["totalCount"] == 1
