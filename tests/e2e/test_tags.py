"""Tags over HTTP (docs/triage.md): addTags / removeTags and their bulk forms, the rules of a
tag (trimmed, 1-50 characters, at most 20, case-insensitive), and the `tags` filter."""

from __future__ import annotations

from typing import Any

from tests.support.builders import Seller, make_sale, make_seller
from tests.support.http import AppClient

ADD = """
mutation Add($id: ID!, $tags: [String!]!) {
  addTags(input: {id: $id, tags: $tags}) {
    afterSale { id tags history { action } }
    userErrors { code field message }
  }
}
"""
REMOVE = """
mutation Remove($id: ID!, $tags: [String!]!) {
  removeTags(input: {id: $id, tags: $tags}) {
    afterSale { id tags }
    userErrors { code field message }
  }
}
"""
ADD_BULK = """
mutation AddBulk($ids: [ID!]!, $tags: [String!]!) {
  addTagsBulk(input: {ids: $ids, tags: $tags}) {
    results { id afterSale { tags } userErrors { code } }
    userErrors { code message }
  }
}
"""
REMOVE_BULK = """
mutation RemoveBulk($ids: [ID!]!, $tags: [String!]!) {
  removeTagsBulk(input: {ids: $ids, tags: $tags}) {
    results { id afterSale { tags } userErrors { code } }
  }
}
"""
TAGGED = """
query Tagged($tags: [String!]) {
  afterSales(tags: $tags, first: 100) { totalCount edges { node { id tags } } }
}
"""
ONE = "query One($id: ID!) { afterSale(id: $id) { tags } }"


async def _add(app: AppClient, seller: Seller, sale_id: int, *tags: str) -> dict[str, Any]:
    data = await app.gql(ADD, {"id": str(sale_id), "tags": list(tags)}, token=seller.token)
    return data["addTags"]  # type: ignore[no-any-return]


async def test_tags_are_trimmed_and_kept_as_first_written_without_history(app: AppClient) -> None:
    seller = await make_seller()
    sale = await make_sale(seller)

    first = await _add(app, seller, sale, "  VIP ", "fragile")
    again = await _add(app, seller, sale, "vip", "Fragile", "cheap")

    assert first["userErrors"] == []
    assert again["afterSale"]["tags"] == ["VIP", "fragile", "cheap"]
    assert [h["action"] for h in again["afterSale"]["history"]] == ["PLATFORM_STATUS_REPORTED"]


async def test_removing_tags_ignores_case_and_tags_not_held(app: AppClient) -> None:
    seller = await make_seller()
    sale = await make_sale(seller)
    await _add(app, seller, sale, "VIP", "fragile")

    data = await app.gql(REMOVE, {"id": str(sale), "tags": ["vip", "never"]}, token=seller.token)

    assert data["removeTags"] == {
        "afterSale": {"id": str(sale), "tags": ["fragile"]},
        "userErrors": [],
    }


async def test_bad_tags_are_refused_and_change_nothing(app: AppClient) -> None:
    seller = await make_seller()
    sale = await make_sale(seller)
    await _add(app, seller, sale, *[f"t{n}" for n in range(19)])

    empty = await _add(app, seller, sale, "ok", "   ")
    too_long = await _add(app, seller, sale, "x" * 51)
    too_many = await _add(app, seller, sale, "T0", "new-1", "new-2")
    one_more = await _add(app, seller, sale, "T0", "last")

    assert empty["userErrors"] == [
        {
            "code": "VALIDATION",
            "field": ["input", "tags", "1"],
            "message": "a tag must be 1 to 50 characters once trimmed",
        }
    ]
    assert too_long["userErrors"][0]["code"] == "VALIDATION"
    assert too_many["userErrors"][0]["code"] == "VALIDATION"
    assert "at most 20 tags" in too_many["userErrors"][0]["message"]
    assert one_more["userErrors"] == []
    assert len(one_more["afterSale"]["tags"]) == 20


async def test_another_sellers_after_sale_cannot_be_tagged(app: AppClient) -> None:
    seller, stranger = await make_seller(), await make_seller()
    sale = await make_sale(stranger)

    found = await _add(app, seller, sale, "mine")

    assert found["afterSale"] is None
    assert found["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await app.gql(ONE, {"id": str(sale)}, token=stranger.token))["afterSale"] == {
        "tags": []
    }


async def test_bulk_forms_tag_and_untag_each_after_sale(app: AppClient) -> None:
    seller = await make_seller()
    a, b = await make_sale(seller), await make_sale(seller)

    added = await app.gql(
        ADD_BULK, {"ids": [str(a), str(b)], "tags": ["x", "y"]}, token=seller.token
    )
    removed = await app.gql(REMOVE_BULK, {"ids": [str(b)], "tags": ["X"]}, token=seller.token)

    assert [r["afterSale"]["tags"] for r in added["addTagsBulk"]["results"]] == [
        ["x", "y"],
        ["x", "y"],
    ]
    assert removed["removeTagsBulk"]["results"] == [
        {"id": str(b), "afterSale": {"tags": ["y"]}, "userErrors": []}
    ]


async def test_the_tags_filter_needs_every_tag_whatever_its_case(app: AppClient) -> None:
    seller, stranger = await make_seller(), await make_seller()
    both, only_vip = await make_sale(seller), await make_sale(seller)
    await make_sale(seller)  # untagged
    foreign = await make_sale(stranger)
    await _add(app, seller, both, "VIP", "fragile")
    await _add(app, seller, only_vip, "vip")
    await _add(app, stranger, foreign, "vip", "fragile")

    vip = await app.gql(TAGGED, {"tags": [" vip"]}, token=seller.token)
    two = await app.gql(TAGGED, {"tags": ["Fragile", "VIP"]}, token=seller.token)
    unknown = await app.gql(TAGGED, {"tags": ["x" * 60]}, token=seller.token)

    assert vip["afterSales"]["totalCount"] == 2
    assert [e["node"]["tags"] for e in two["afterSales"]["edges"]] == [["VIP", "fragile"]]
    assert unknown["afterSales"]["totalCount"] == 0
