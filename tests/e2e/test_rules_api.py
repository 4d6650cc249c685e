"""Rules over HTTP (docs/triage.md): create, list, update, move, delete, the refusals, and a
preview that matches what the rule then does."""

from __future__ import annotations

from typing import Any

from aftersales.store.models import AfterSale
from tests.support.builders import Seller, make_seller, unique_id
from tests.support.clock import T0
from tests.support.http import AppClient, error_messages, post_graphql
from tests.support.webhooks import envelope, post_tiktok, return_data

CREATE = """
mutation Create($input: CreateRuleInput!) {
  createRule(input: $input) {
    rule { id name position enabled shopIds
           when { types reasonContains maxAmount { amount currency } skus regions }
           then { accept tag note } }
    userErrors { code field message }
  }
}
"""
UPDATE = """
mutation Update($input: UpdateRuleInput!) {
  updateRule(input: $input) { rule { id name enabled shopIds then { tag } } userErrors { code } }
}
"""
MOVE = """
mutation Move($id: ID!, $position: Int!) {
  moveRule(input: {id: $id, position: $position}) { rule { id position } userErrors { code } }
}
"""
DELETE = """
mutation Delete($id: ID!) {
  deleteRule(input: {id: $id}) { rule { name } userErrors { code } }
}
"""
RULES = "query { rules { id name position } }"
PREVIEW = """
query Preview($rule: CreateRuleInput!, $since: DateTime) {
  previewRule(rule: $rule, since: $since) {
    count
    afterSales(first: 10) { edges { node { id } } }
  }
}
"""
STATUS = "query One($id: ID!) { afterSale(id: $id) { status history { actorName source } } }"

SMALL_REFUNDS: dict[str, Any] = {
    "name": "Small refunds",
    "when": {"types": ["REFUND_ONLY"], "maxAmount": {"amount": "10.00", "currency": "MYR"}},
    "then": {"accept": True},
}


async def _arrive(app: AppClient, seller: Seller, return_type: str, amount: str) -> int:
    """A new pending request, as TikTok's webhook brings it (amount and lines); its id."""
    money = {"currency": "MYR", "refund_total": amount}
    return_id = unique_id()
    data = return_data(
        "RETURN_OR_REFUND_REQUEST_PENDING",
        return_id=return_id,
        return_type=return_type,
        refund_amount=money,
        return_line_items=[{"seller_sku": "MUG-1", "refund_amount": money}],
    )
    response = await post_tiktok(app, envelope(seller.shop_id, data, notification_id=unique_id()))
    assert response.status_code == 200, response.text
    return (await AfterSale.get(return_id=return_id)).id


async def _create(app: AppClient, seller: Seller, rule: dict[str, Any]) -> dict[str, Any]:
    data = await app.gql(CREATE, {"input": rule}, token=seller.token)
    return data["createRule"]  # type: ignore[no-any-return]


async def test_rules_are_created_listed_moved_updated_and_deleted(app: AppClient) -> None:
    seller = await make_seller()
    first = (await _create(app, seller, SMALL_REFUNDS))["rule"]
    second = (await _create(app, seller, {"name": " Tag VIP ", "then": {"tag": "vip"}}))["rule"]

    await app.gql(MOVE, {"id": second["id"], "position": 1}, token=seller.token)
    moved = await app.gql(RULES, token=seller.token)
    updated = await app.gql(
        UPDATE,
        {"input": {"id": second["id"], "enabled": False, "shopIds": [seller.shop_id]}},
        token=seller.token,
    )
    deleted = await app.gql(DELETE, {"id": first["id"]}, token=seller.token)
    left = await app.gql(RULES, token=seller.token)

    assert first["position"] == 1 and first["enabled"] and first["shopIds"] is None
    assert first["when"]["maxAmount"] == {"amount": "10.00", "currency": "MYR"}
    assert second["name"] == "Tag VIP"
    assert [(r["name"], r["position"]) for r in moved["rules"]] == [
        ("Tag VIP", 1),
        ("Small refunds", 2),
    ]
    assert updated["updateRule"]["rule"]["enabled"] is False
    assert updated["updateRule"]["rule"]["shopIds"] == [seller.shop_id]
    assert deleted["deleteRule"] == {"rule": {"name": "Small refunds"}, "userErrors": []}
    assert [(r["name"], r["position"]) for r in left["rules"]] == [("Tag VIP", 1)]


async def test_bad_rules_are_refused(app: AppClient) -> None:
    seller, stranger = await make_seller(), await make_seller()
    theirs = (await _create(app, stranger, SMALL_REFUNDS))["rule"]

    no_action = await _create(app, seller, {"name": "Nothing", "then": {}})
    foreign_shop = await _create(app, seller, {**SMALL_REFUNDS, "shopIds": [stranger.shop_id]})
    moved = await app.gql(MOVE, {"id": theirs["id"], "position": 1}, token=seller.token)
    too_far = await app.gql(MOVE, {"id": "1", "position": 5}, token=stranger.token)

    assert no_action["userErrors"][0]["code"] == "VALIDATION"
    assert no_action["rule"] is None
    assert foreign_shop["userErrors"][0]["code"] == "NOT_FOUND"
    assert moved["moveRule"]["userErrors"][0]["code"] == "NOT_FOUND"
    assert too_far["moveRule"]["userErrors"][0]["code"] == "VALIDATION"


async def test_a_preview_matches_what_the_rule_then_does(app: AppClient) -> None:
    seller = await make_seller()
    small = await _arrive(app, seller, "REFUND", "9.99")
    await _arrive(app, seller, "REFUND", "10.01")
    await _arrive(app, seller, "RETURN_AND_REFUND", "5.00")  # not a refund-only request
    since = T0.isoformat()

    preview = await app.gql(PREVIEW, {"rule": SMALL_REFUNDS, "since": since}, token=seller.token)
    await _create(app, seller, SMALL_REFUNDS)
    arrivals = [
        await _arrive(app, seller, "REFUND", "9.99"),
        await _arrive(app, seller, "REFUND", "10.01"),
        await _arrive(app, seller, "RETURN_AND_REFUND", "5.00"),
    ]
    statuses = [
        (await app.gql(STATUS, {"id": str(i)}, token=seller.token))["afterSale"]["status"]
        for i in arrivals
    ]
    after = await app.gql(PREVIEW, {"rule": SMALL_REFUNDS, "since": since}, token=seller.token)

    assert preview["previewRule"]["count"] == 1
    assert [e["node"]["id"] for e in preview["previewRule"]["afterSales"]["edges"]] == [str(small)]
    assert statuses == ["REFUNDED", "PENDING_REQUEST", "PENDING_REQUEST"]
    assert [e["node"]["id"] for e in after["previewRule"]["afterSales"]["edges"]] == [
        str(arrivals[0]),
        str(small),
    ]
    accepted = await app.gql(STATUS, {"id": str(arrivals[0])}, token=seller.token)
    assert accepted["afterSale"]["history"][-1] == {"actorName": "Small refunds", "source": "RULE"}


async def test_a_preview_of_a_rule_without_an_action_is_refused(app: AppClient) -> None:
    seller = await make_seller()

    response = await post_graphql(
        app, PREVIEW, {"rule": {"name": "x", "then": {}}}, token=seller.token
    )

    assert error_messages(response) == ["a rule needs an action: accept, tag or note"]


async def test_conditions_longer_than_their_columns_are_refused_not_a_500(app: AppClient) -> None:
    seller = await make_seller()
    long_sku = {"name": "x", "when": {"skus": ["S" * 101]}, "then": {"tag": "t"}}
    long_region = {"name": "x", "when": {"regions": ["MYS"]}, "then": {"tag": "t"}}
    foreign = {"name": "x", "shopIds": ["9" * 80], "then": {"tag": "t"}}

    created = await _create(app, seller, long_sku)
    previewed = await post_graphql(app, PREVIEW, {"rule": long_region}, token=seller.token)
    no_shop = await app.gql(PREVIEW, {"rule": foreign}, token=seller.token)

    assert created["userErrors"][0]["field"] == ["input", "when", "skus", "0"]
    assert error_messages(previewed) == ["a region is a 2-letter code"]
    assert no_shop["previewRule"]["count"] == 0
