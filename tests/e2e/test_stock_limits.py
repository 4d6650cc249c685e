"""Bounded stock lists (docs/stock.md): a seller has at most MAX_WAREHOUSES warehouses, and
`inventory` is paged with `first` (at most 100) and `after`; both lists count in the cost limit
(api/cost.py)."""

from __future__ import annotations

from typing import Any

from aftersales.domain.stock import MAX_WAREHOUSES
from api.cost import CODE as COST_LIMIT
from tests.support import builders
from tests.support.builders import make_seller, returned_sale
from tests.support.http import AppClient, error_messages, post_graphql

CREATE_WAREHOUSE = """
mutation Create($code: String!) {
  createWarehouse(input: {code: $code, name: "Depot"}) {
    warehouse { code }
    userErrors { code field message }
  }
}
"""
STOCK_IN = """
mutation StockIn($id: ID!, $warehouseId: ID!, $lines: [StockInLineInput!]!) {
  stockInReturnedItems(input: {id: $id, warehouseId: $warehouseId, lines: $lines}) {
    userErrors { code }
  }
}
"""
INVENTORY_PAGE = """
query Inventory($first: Int!, $after: String) {
  inventory(first: $first, after: $after) { sku sellable cursor warehouse { code } }
}
"""
ALIASED_WAREHOUSES = "query { " + " ".join(f"w{n}: warehouses {{ id }}" for n in range(30)) + " }"


async def test_the_warehouse_after_the_last_allowed_is_refused(app: AppClient) -> None:
    seller = await make_seller()
    for n in range(MAX_WAREHOUSES):
        await builders.warehouse(seller, f"W{n:03}")

    refused = await app.gql(CREATE_WAREHOUSE, {"code": "ONE-MORE"}, token=seller.token)
    listed = await app.gql("query { warehouses { code } }", token=seller.token)

    assert refused["createWarehouse"]["warehouse"] is None
    [error] = refused["createWarehouse"]["userErrors"]
    assert error["code"] == "VALIDATION"
    assert f"{MAX_WAREHOUSES} warehouses" in error["message"]
    assert len(listed["warehouses"]) == MAX_WAREHOUSES


async def test_another_seller_still_creates_warehouses(app: AppClient) -> None:
    seller, other = await make_seller(), await make_seller()
    for n in range(MAX_WAREHOUSES):
        await builders.warehouse(seller, f"W{n:03}")

    created = await app.gql(CREATE_WAREHOUSE, {"code": "W000"}, token=other.token)

    assert created["createWarehouse"]["userErrors"] == []


async def test_thirty_aliased_warehouse_lists_are_refused_by_the_cost_limit(
    app: AppClient,
) -> None:
    seller = await make_seller()

    response = await post_graphql(app, ALIASED_WAREHOUSES, token=seller.token)

    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [COST_LIMIT]


async def stocked(app: AppClient, skus: int) -> tuple[builders.Seller, list[str]]:
    """A seller with one warehouse holding one unit of each of `skus` SKUs."""
    seller = await make_seller()
    warehouse_id = str(await builders.warehouse(seller, "KL1"))
    names = [f"SKU-{n:02}" for n in range(skus)]
    sale = await returned_sale(seller, items=dict.fromkeys(names, 1))
    lines = [{"sku": sku, "quantity": 1, "condition": "GOOD"} for sku in names]
    moved = await app.gql(
        STOCK_IN, {"id": str(sale), "warehouseId": warehouse_id, "lines": lines}, token=seller.token
    )
    assert moved["stockInReturnedItems"]["userErrors"] == []
    return seller, names


async def test_inventory_is_paged_with_first_and_after(app: AppClient) -> None:
    seller, names = await stocked(app, 5)

    seen: list[str] = []
    pages: list[list[dict[str, Any]]] = []
    after = None
    while True:
        data = await app.gql(INVENTORY_PAGE, {"first": 2, "after": after}, token=seller.token)
        page = data["inventory"]
        if not page:
            break
        pages.append(page)
        seen += [level["sku"] for level in page]
        after = page[-1]["cursor"]

    assert [len(page) for page in pages] == [2, 2, 1]
    assert seen == names
    assert pages[0][0]["warehouse"] == {"code": "KL1"}


async def test_inventory_without_first_answers_at_most_100_levels(app: AppClient) -> None:
    seller, names = await stocked(app, 3)

    data = await app.gql("query { inventory { sku } }", token=seller.token)

    assert [level["sku"] for level in data["inventory"]] == names


async def test_inventory_refuses_first_over_100_and_a_forged_cursor(app: AppClient) -> None:
    seller = await make_seller()

    over = await post_graphql(app, INVENTORY_PAGE, {"first": 101}, token=seller.token)
    forged = await post_graphql(
        app, INVENTORY_PAGE, {"first": 10, "after": "not-a-cursor"}, token=seller.token
    )

    assert error_messages(over) == ["first must be between 0 and 100"]
    assert error_messages(forged) == ["the cursor is not one this API returned"]
    assert forged.json()["errors"][0]["extensions"]["code"] == "VALIDATION"
