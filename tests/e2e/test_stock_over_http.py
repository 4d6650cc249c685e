"""Warehouses, inventory, stock-in and awaitingStockIn over GraphQL (docs/graphql.md, §6)."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.domain import stock as inventory
from tests.support.builders import Seller, abnormal_return, make_seller, returned_sale, seller_id_of
from tests.support.http import AppClient

CREATE_WAREHOUSE = """
mutation Create($code: String!, $name: String!, $address: String) {
  createWarehouse(input: {code: $code, name: $name, address: $address}) {
    warehouse { id code name address }
    userErrors { code field message }
  }
}
"""

WAREHOUSES = "query { warehouses { id code name } }"

INVENTORY = """
query Inventory($warehouseId: ID, $sku: String) {
  inventory(warehouseId: $warehouseId, sku: $sku) { sku sellable damaged warehouse { code } }
}
"""

STOCK_IN = """
mutation StockIn($id: ID!, $warehouseId: ID!, $lines: [StockInLineInput!]!, $key: String) {
  stockInReturnedItems(
    input: {id: $id, warehouseId: $warehouseId, lines: $lines, idempotencyKey: $key}
  ) {
    afterSale { id stockedIn { sku quantity condition } history { actor action source } }
    moved { sku quantity condition }
    replayed
    userErrors { code field message }
  }
}
"""

STOCK_IN_BULK = """
mutation StockInBulk($ids: [ID!]!, $warehouseId: ID!, $lines: [StockInLineInput!]!) {
  stockInReturnedItemsBulk(input: {ids: $ids, warehouseId: $warehouseId, lines: $lines}) {
    results { id afterSale { id stockedIn { sku quantity } } userErrors { code field } }
  }
}
"""

AWAITING = """
query Awaiting($awaiting: Boolean) {
  afterSales(awaitingStockIn: $awaiting, first: 50) { totalCount edges { node { id } } }
}
"""


async def create_warehouse(app: AppClient, seller: Seller, code: str = "KL1") -> str:
    data = await app.gql(
        CREATE_WAREHOUSE,
        {"code": code, "name": "Kuala Lumpur DC", "address": "Lot 5\nShah Alam"},
        token=seller.token,
    )
    assert data["createWarehouse"]["userErrors"] == []
    return str(data["createWarehouse"]["warehouse"]["id"])


def lines(*specs: tuple[str, int, str]) -> list[dict[str, Any]]:
    return [{"sku": s, "quantity": q, "condition": c} for s, q, c in specs]


async def test_a_seller_creates_and_lists_warehouses_and_sees_only_their_own(
    app: AppClient,
) -> None:
    seller, other = await make_seller(), await make_seller()

    await create_warehouse(app, seller, "KL1")
    duplicate = await app.gql(
        CREATE_WAREHOUSE, {"code": "KL1", "name": "Again"}, token=seller.token
    )
    blank = await app.gql(CREATE_WAREHOUSE, {"code": " ", "name": "X"}, token=seller.token)

    assert duplicate["createWarehouse"]["userErrors"][0]["code"] == "VALIDATION"
    assert duplicate["createWarehouse"]["userErrors"][0]["field"] == ["input", "code"]
    assert blank["createWarehouse"]["warehouse"] is None
    mine = await app.gql(WAREHOUSES, token=seller.token)
    assert [w["code"] for w in mine["warehouses"]] == ["KL1"]
    assert (await app.gql(WAREHOUSES, token=other.token))["warehouses"] == []


async def test_stock_in_moves_inventory_and_is_shown_on_the_after_sale(app: AppClient) -> None:
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    sale = await returned_sale(seller, items={"SKU-A": 3, "SKU-B": 1})
    variables = {
        "id": str(sale),
        "warehouseId": warehouse_id,
        "lines": lines(("SKU-A", 2, "GOOD"), ("SKU-B", 1, "DAMAGED")),
    }
    app.clock.advance(days=5)  # after the parcel's delivery scan

    data = await app.gql(STOCK_IN, variables, token=seller.token)

    payload = data["stockInReturnedItems"]
    assert payload["userErrors"] == []
    assert payload["replayed"] is False
    assert sorted(x["sku"] for x in payload["moved"]) == ["SKU-A", "SKU-B"]
    assert {
        (x["sku"], x["quantity"], x["condition"]) for x in payload["afterSale"]["stockedIn"]
    } == {
        ("SKU-A", 2, "GOOD"),
        ("SKU-B", 1, "DAMAGED"),
    }
    assert payload["afterSale"]["history"][-1] == {
        "actor": "SELLER",
        "action": "STOCK_IN",
        "source": "GRAPHQL",
    }
    levels = await app.gql(INVENTORY, {"warehouseId": warehouse_id}, token=seller.token)
    assert levels["inventory"] == [
        {"sku": "SKU-A", "sellable": 2, "damaged": 0, "warehouse": {"code": "KL1"}},
        {"sku": "SKU-B", "sellable": 0, "damaged": 1, "warehouse": {"code": "KL1"}},
    ]
    one = await app.gql(INVENTORY, {"sku": "SKU-B"}, token=seller.token)
    assert [x["sku"] for x in one["inventory"]] == ["SKU-B"]


async def test_stock_in_errors_name_the_line_at_fault(app: AppClient) -> None:
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    sale = await returned_sale(seller, items={"SKU-A": 1})

    over = await app.gql(
        STOCK_IN,
        {"id": str(sale), "warehouseId": warehouse_id, "lines": lines(("SKU-A", 2, "GOOD"))},
        token=seller.token,
    )
    zero = await app.gql(
        STOCK_IN,
        {"id": str(sale), "warehouseId": warehouse_id, "lines": lines(("SKU-A", 0, "GOOD"))},
        token=seller.token,
    )

    assert over["stockInReturnedItems"]["userErrors"][0]["code"] == "INVALID_QUANTITY"
    assert over["stockInReturnedItems"]["userErrors"][0]["field"] == [
        "input",
        "lines",
        "0",
        "quantity",
    ]
    assert zero["stockInReturnedItems"]["userErrors"][0]["code"] == "INVALID_QUANTITY"
    assert over["stockInReturnedItems"]["afterSale"]["stockedIn"] == []


async def test_another_seller_gets_not_found_for_the_sale_the_warehouse_and_its_inventory(
    app: AppClient,
) -> None:
    seller, other = await make_seller(), await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    others_warehouse = await create_warehouse(app, other, "PJ")
    sale = await returned_sale(seller)
    one = lines(("SKU-A", 1, "GOOD"))

    foreign_sale = await app.gql(
        STOCK_IN,
        {"id": str(sale), "warehouseId": others_warehouse, "lines": one},
        token=other.token,
    )
    foreign_warehouse = await app.gql(
        STOCK_IN,
        {"id": str(sale), "warehouseId": others_warehouse, "lines": one},
        token=seller.token,
    )
    response = await app.client.post(
        "/graphql",
        json={"query": INVENTORY, "variables": {"warehouseId": warehouse_id}},
        headers={"Authorization": f"Bearer {other.token}"},
    )

    assert foreign_sale["stockInReturnedItems"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert foreign_sale["stockInReturnedItems"]["afterSale"] is None
    assert foreign_warehouse["stockInReturnedItems"]["userErrors"][0] == {
        "code": "NOT_FOUND",
        "field": ["input", "warehouseId"],
        "message": "no warehouse with this id",
    }
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_idempotency_key_replays_over_http(app: AppClient) -> None:
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    sale = await returned_sale(seller, items={"SKU-A": 3})
    variables = {
        "id": str(sale),
        "warehouseId": warehouse_id,
        "lines": lines(("SKU-A", 2, "GOOD")),
        "key": "scanner-1-0042",
    }

    await app.gql(STOCK_IN, variables, token=seller.token)
    again = await app.gql(STOCK_IN, variables, token=seller.token)

    assert again["stockInReturnedItems"]["replayed"] is True
    assert again["stockInReturnedItems"]["moved"] == [
        {"sku": "SKU-A", "quantity": 2, "condition": "GOOD"}
    ]
    assert again["stockInReturnedItems"]["afterSale"]["stockedIn"] == [
        {"sku": "SKU-A", "quantity": 2, "condition": "GOOD"}
    ]


async def test_bulk_stock_in_applies_each_id_independently(app: AppClient) -> None:
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    ready = await returned_sale(seller, items={"SKU-A": 1})
    on_its_way = await returned_sale(seller, items={"SKU-A": 1}, delivered=False)

    data = await app.gql(
        STOCK_IN_BULK,
        {
            "ids": [str(ready), str(on_its_way), "999999"],
            "warehouseId": warehouse_id,
            "lines": lines(("SKU-A", 1, "GOOD")),
        },
        token=seller.token,
    )

    results = data["stockInReturnedItemsBulk"]["results"]
    assert [r["userErrors"] for r in results] == [
        [],
        [{"code": "NOT_RETURNED_YET", "field": None}],
        [{"code": "NOT_FOUND", "field": ["input", "id"]}],
    ]
    assert results[0]["afterSale"]["stockedIn"] == [{"sku": "SKU-A", "quantity": 1}]


async def test_awaiting_stock_in_lists_arrived_parcels_not_fully_stocked_in(
    app: AppClient,
) -> None:
    seller, other = await make_seller(), await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    untouched = await returned_sale(seller, items={"SKU-A": 2, "SKU-B": 1})
    partly = await returned_sale(seller, items={"SKU-A": 2, "SKU-B": 1})
    fully = await returned_sale(seller, items={"SKU-A": 2, "SKU-B": 1})
    on_its_way = await returned_sale(seller, delivered=False)
    unknown_contents = await abnormal_return(seller, items=None, delivered=True)
    unknown_stocked = await abnormal_return(seller, items=None, delivered=True)
    await returned_sale(other)
    for sale, stock_lines, key in [
        (partly, lines(("SKU-A", 2, "GOOD")), None),
        (fully, lines(("SKU-A", 1, "GOOD"), ("SKU-A", 1, "DAMAGED"), ("SKU-B", 1, "GOOD")), None),
        (unknown_stocked, lines(("SKU-Z", 4, "GOOD")), "parcel-1"),
    ]:
        done = await app.gql(
            STOCK_IN,
            {"id": str(sale), "warehouseId": warehouse_id, "lines": stock_lines, "key": key},
            token=seller.token,
        )
        assert done["stockInReturnedItems"]["userErrors"] == []

    awaiting = await app.gql(AWAITING, {"awaiting": True}, token=seller.token)
    not_awaiting = await app.gql(AWAITING, {"awaiting": False}, token=seller.token)

    ids = {int(e["node"]["id"]) for e in awaiting["afterSales"]["edges"]}
    assert ids == {untouched, partly, unknown_contents}
    assert awaiting["afterSales"]["totalCount"] == 3
    others = {int(e["node"]["id"]) for e in not_awaiting["afterSales"]["edges"]}
    assert others == {fully, on_its_way, unknown_stocked}
    assert await seller_id_of(seller) != await seller_id_of(other)


STOCK_IN_BULK_KEYED = """
mutation StockInBulk(
  $ids: [ID!]!, $warehouseId: ID!, $lines: [StockInLineInput!]!, $key: String
) {
  stockInReturnedItemsBulk(
    input: {ids: $ids, warehouseId: $warehouseId, lines: $lines, idempotencyKey: $key}
  ) {
    results { id afterSale { id stockedIn { sku quantity } } userErrors { code field message } }
    userErrors { code field message }
  }
}
"""

READS = """
query Reads($id: ID!) {
  inventory { sku sellable damaged }
  afterSale(id: $id) { stockedIn { sku quantity condition } }
  afterSales(first: 100) { edges { node { id stockedIn { quantity } } } }
}
"""


async def test_a_parcel_of_unknown_contents_is_not_stocked_in_without_an_idempotency_key(
    app: AppClient,
) -> None:
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    sale = await abnormal_return(seller, items=None, delivered=True)
    variables = {"id": str(sale), "warehouseId": warehouse_id, "lines": lines(("ANY", 5, "GOOD"))}

    refused = await app.gql(STOCK_IN, variables, token=seller.token)
    keyed = await app.gql(STOCK_IN, {**variables, "key": "scan-1"}, token=seller.token)

    error = refused["stockInReturnedItems"]["userErrors"][0]
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "idempotencyKey"])
    assert refused["stockInReturnedItems"]["moved"] == []
    assert keyed["stockInReturnedItems"]["userErrors"] == []
    reads = await app.gql(READS, {"id": str(sale)}, token=seller.token)
    assert reads["inventory"] == [{"sku": "ANY", "sellable": 5, "damaged": 0}]


async def test_a_stock_in_line_moves_at_most_ten_thousand_units(app: AppClient) -> None:
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    sale = await abnormal_return(seller, items=None, delivered=True)
    variables = {"id": str(sale), "warehouseId": warehouse_id, "key": "scan-1"}

    over = await app.gql(
        STOCK_IN, {**variables, "lines": lines(("ANY", 10_001, "GOOD"))}, token=seller.token
    )
    most = await app.gql(
        STOCK_IN, {**variables, "lines": lines(("ANY", 10_000, "GOOD"))}, token=seller.token
    )

    error = over["stockInReturnedItems"]["userErrors"][0]
    assert (error["code"], error["field"]) == (
        "INVALID_QUANTITY",
        ["input", "lines", "0", "quantity"],
    )
    assert "at most 10,000 units per line" in error["message"]
    assert most["stockInReturnedItems"]["userErrors"] == []


async def test_the_reported_unbounded_bulk_stock_in_moves_nothing_and_reads_keep_working(
    app: AppClient,
) -> None:
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    sale = await abnormal_return(seller, items=None, delivered=True)
    bulk = {"ids": [str(sale)] * 100, "warehouseId": warehouse_id}

    reported = await app.gql(
        STOCK_IN_BULK_KEYED,
        {**bulk, "lines": lines(*[(f"SKU-{n}", 100_000, "GOOD") for n in range(100)])},
        token=seller.token,
    )
    without_key = await app.gql(
        STOCK_IN_BULK_KEYED,
        {**bulk, "lines": lines(*[(f"SKU-{n}", 10_000, "GOOD") for n in range(100)])},
        token=seller.token,
    )

    [too_many] = reported["stockInReturnedItemsBulk"]["results"]
    assert [(e["code"], e["field"]) for e in too_many["userErrors"]] == [
        ("INVALID_QUANTITY", ["input", "lines", "0", "quantity"])
    ]
    [keyless] = without_key["stockInReturnedItemsBulk"]["results"]
    assert [(e["code"], e["field"]) for e in keyless["userErrors"]] == [
        ("VALIDATION", ["input", "idempotencyKey"])
    ]
    reads = await app.gql(READS, {"id": str(sale)}, token=seller.token)
    assert reads["inventory"] == []
    assert reads["afterSale"]["stockedIn"] == []


async def test_a_stock_in_that_would_pass_what_a_level_can_hold_is_refused_and_reads_work(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory, "MAX_LEVEL", 20_000)  # the real 2**31 - 1 takes 2,148 calls
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    parcels = [await abnormal_return(seller, items=None, delivered=True) for _ in range(3)]
    scan = lines(("SKU-A", 10_000, "DAMAGED"))

    answers = [
        await app.gql(
            STOCK_IN,
            {"id": str(sale), "warehouseId": warehouse_id, "lines": scan, "key": f"scan-{sale}"},
            token=seller.token,
        )
        for sale in parcels
    ]

    assert [a["stockInReturnedItems"]["userErrors"] for a in answers[:2]] == [[], []]
    error = answers[2]["stockInReturnedItems"]["userErrors"][0]
    assert (error["code"], error["field"]) == (
        "INVALID_QUANTITY",
        ["input", "lines", "0", "quantity"],
    )
    assert "holds 20,000 damaged units" in error["message"]
    reads = await app.gql(READS, {"id": str(parcels[2])}, token=seller.token)
    assert reads["inventory"] == [{"sku": "SKU-A", "sellable": 0, "damaged": 20_000}]
    assert reads["afterSale"]["stockedIn"] == []


async def test_a_warehouse_whose_address_a_label_cannot_hold_is_refused(app: AppClient) -> None:
    seller = await make_seller()
    forty_lines = "\n".join(f"Block {n}, Jalan Contoh" for n in range(40))

    data = await app.gql(
        CREATE_WAREHOUSE, {"code": "KL1", "name": "KL", "address": forty_lines}, token=seller.token
    )

    payload = data["createWarehouse"]
    assert payload["warehouse"] is None
    [error] = payload["userErrors"]
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "address"])
    assert "at most 8 lines and 400 characters" in error["message"]
    assert "this one has 40 lines" in error["message"]
    assert (await app.gql(WAREHOUSES, token=seller.token))["warehouses"] == []
