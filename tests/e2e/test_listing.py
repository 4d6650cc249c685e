"""Listing, counting, filtering and paging after-sales over HTTP (docs/graphql.md)."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from aftersales.commands import accounts
from tests.support.builders import Seller, abnormal_return, make_sale, make_seller
from tests.support.clock import T0
from tests.support.http import AppClient, assert_no_stack_trace, error_messages, post_graphql

LIST = """
query List(
  $type: AfterSaleType, $status: AfterSaleStatus, $returnStatus: ReturnStatus, $shopId: String,
  $search: String, $disputeStatus: DisputeStatus, $responseDueBefore: DateTime,
  $first: Int! = 20, $after: String
) {
  afterSales(
    type: $type, status: $status, returnStatus: $returnStatus, shopId: $shopId, search: $search,
    disputeStatus: $disputeStatus, responseDueBefore: $responseDueBefore, first: $first,
    after: $after
  ) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } }
  }
}
"""

DETAIL = """
fragment Detail on AfterSale {
  id returnId orderId type status returnStatus platformStatus abnormalReason
  shop { shopId region name }
  refundRequested { amount currency } refundAmount { amount currency }
  items { sku productName quantity }
  trackingNumber carrier sellerResponseDeadline disputeDeadline disputeStatus
  availableActions createdAt
}
"""
AFTER_SALE = (
    DETAIL
    + """
query One($id: ID!) { afterSale(id: $id) { ...Detail } }
"""
)
LIST_DETAIL = (
    DETAIL
    + """
query Detailed { afterSales(first: 100) { edges { node { ...Detail } } } }
"""
)
COUNTS = """
query Counts($type: AfterSaleType!, $shopId: String) {
  afterSaleCounts(type: $type, shopId: $shopId) { status count }
}
"""
SHOPS = "query { shops { shopId region name } }"


async def _ids(app: AppClient, seller: Seller, **variables: Any) -> list[str]:
    data = await app.gql(LIST, variables, token=seller.token)
    return [edge["node"]["id"] for edge in data["afterSales"]["edges"]]


def _minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def _shop_name(seller: Seller) -> str:
    return seller.shop_name


# --- Filters -----------------------------------------------------------------------------


async def test_after_sales_are_listed_newest_first(app: AppClient) -> None:
    seller = await make_seller()
    oldest = await make_sale(seller, at=_minutes(1))
    newest = await make_sale(seller, at=_minutes(3))
    middle = await make_sale(seller, at=_minutes(2))

    ids = await _ids(app, seller)

    assert ids == [str(newest), str(middle), str(oldest)]


async def test_after_sales_are_filtered_by_type(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller, return_type="RETURN_AND_REFUND")
    refund = await make_sale(seller, return_type="REFUND")
    await make_sale(seller, return_type="REPLACEMENT")
    await abnormal_return(seller)

    ids = await _ids(app, seller, type="REFUND_ONLY")

    assert ids == [str(refund)]


async def test_after_sales_are_filtered_by_status_and_return_status(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller)
    shipped = await make_sale(seller, status="BUYER_SHIPPED_ITEM")
    await make_sale(seller, status="AWAITING_BUYER_SHIP")

    by_status = await _ids(app, seller, status="SHIPPED_BY_BUYER")
    by_parcel = await _ids(app, seller, returnStatus="RETURNING")

    assert by_status == by_parcel == [str(shipped)]


async def test_after_sales_are_filtered_by_shop(app: AppClient) -> None:
    seller = await make_seller("MY")
    await accounts.add_shop(seller.name, "7494049642642449999", "TH", "Bangkok shop")
    thai_shop = replace(seller, shop_id="7494049642642449999", region="TH")
    await make_sale(seller)
    thai = await make_sale(thai_shop)

    ids = await _ids(app, seller, shopId="7494049642642449999")

    assert ids == [str(thai)]


async def test_a_shop_filter_on_another_sellers_shop_finds_nothing(app: AppClient) -> None:
    seller, stranger = await make_seller(), await make_seller()
    await make_sale(stranger)

    data = await app.gql(LIST, {"shopId": stranger.shop_id}, token=seller.token)

    assert data["afterSales"]["totalCount"] == 0


@pytest.mark.parametrize("term", ["5764863169484900011", "5764863169484900022", " JX-TRACK-1 "])
async def test_search_matches_return_id_order_id_or_tracking_number(
    app: AppClient, term: str
) -> None:
    seller = await make_seller()
    await make_sale(seller)
    found = await make_sale(
        seller,
        return_id="5764863169484900011",
        order_id="5764863169484900022",
        status="BUYER_SHIPPED_ITEM",
        tracking_number="JX-TRACK-1",
    )

    ids = await _ids(app, seller, search=term)

    assert ids == [str(found)]


async def test_search_does_not_match_part_of_an_id(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller, return_id="5764863169484900011")

    ids = await _ids(app, seller, search="57648631694849")

    assert ids == []


async def test_after_sales_are_filtered_by_dispute_status(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller, status="RETURN_OR_REFUND_REQUEST_REJECT")
    disputed = await make_sale(
        seller, status="RETURN_OR_REFUND_REQUEST_REJECT", arbitration_status="IN_PROGRESS"
    )

    ids = await _ids(app, seller, disputeStatus="IN_PROGRESS")

    assert ids == [str(disputed)]


async def test_response_due_before_lists_requests_awaiting_the_seller_by_their_deadline(
    app: AppClient,
) -> None:
    seller = await make_seller()
    exchange = await make_sale(seller, return_type="REPLACEMENT")  # due T0 + 24 h
    await make_sale(seller)  # due T0 + 48 h
    await make_sale(seller, return_type="REPLACEMENT", status="REPLACEMENT_REQUEST_REJECT")

    ids = await _ids(app, seller, responseDueBefore="2026-11-21T12:00:00+00:00")

    assert ids == [str(exchange)]


# --- Paging ------------------------------------------------------------------------------


async def test_pages_follow_cursors_until_the_last_one(app: AppClient) -> None:
    seller = await make_seller()
    # Three share a creation time: ties are broken by id, so no row is skipped or repeated.
    created = [await make_sale(seller, at=_minutes(n // 3)) for n in range(7)]
    expected = [str(i) for i in sorted(created, key=lambda i: (created.index(i) // 3, i))][::-1]
    pages = []
    after = None

    for _ in range(3):
        data = await app.gql(LIST, {"first": 3, "after": after}, token=seller.token)
        pages.append(data["afterSales"])
        after = data["afterSales"]["pageInfo"]["endCursor"]

    assert [[e["node"]["id"] for e in p["edges"]] for p in pages] == [
        expected[0:3],
        expected[3:6],
        expected[6:7],
    ]
    assert [p["totalCount"] for p in pages] == [7, 7, 7]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    assert pages[1]["pageInfo"]["startCursor"] == pages[1]["edges"][0]["cursor"]


async def test_paging_keeps_the_filters(app: AppClient) -> None:
    seller = await make_seller()
    refunds = [await make_sale(seller, return_type="REFUND", at=_minutes(n)) for n in range(3)]
    await make_sale(seller, at=_minutes(10))

    first = await app.gql(LIST, {"type": "REFUND_ONLY", "first": 2}, token=seller.token)
    after = first["afterSales"]["pageInfo"]["endCursor"]
    second = await app.gql(
        LIST, {"type": "REFUND_ONLY", "first": 2, "after": after}, token=seller.token
    )

    assert second["afterSales"]["totalCount"] == 3
    assert [e["node"]["id"] for e in second["afterSales"]["edges"]] == [str(refunds[0])]


async def test_an_empty_list_has_no_cursors(app: AppClient) -> None:
    seller = await make_seller()

    data = await app.gql(LIST, token=seller.token)

    assert data["afterSales"] == {
        "totalCount": 0,
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "edges": [],
    }


async def test_first_zero_gives_the_count_and_no_next_page_so_a_pager_stops(
    app: AppClient,
) -> None:
    seller = await make_seller()
    for n in range(3):
        await make_sale(seller, at=_minutes(n))
    page = await app.gql(LIST, {"first": 1}, token=seller.token)
    after = page["afterSales"]["pageInfo"]["endCursor"]

    counted = await app.gql(LIST, {"first": 0}, token=seller.token)
    counted_after = await app.gql(LIST, {"first": 0, "after": after}, token=seller.token)

    assert counted["afterSales"] == {
        "totalCount": 3,
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "edges": [],
    }
    assert counted_after["afterSales"]["totalCount"] == 3
    assert counted_after["afterSales"]["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("first", [101, -1])
async def test_a_page_size_outside_0_to_100_is_a_clear_error(app: AppClient, first: int) -> None:
    seller = await make_seller()

    response = await post_graphql(app, LIST, {"first": first}, token=seller.token)

    assert response.status_code == 200
    assert response.json()["data"] is None
    assert error_messages(response) == ["first must be between 0 and 100"]
    assert_no_stack_trace(response)


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "%%%",
        _cursor("yesterday|5"),
        _cursor("2026-11-20T10:00:00+00:00|five"),
        _cursor("2026-11-20T10:00:00+00:00|99999999999999999999"),
        _cursor("2026-11-20T10:00:00|5"),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
async def test_a_cursor_this_api_did_not_return_is_a_clear_error(
    app: AppClient, cursor: str
) -> None:
    seller = await make_seller()
    await make_sale(seller)

    response = await post_graphql(app, LIST, {"after": cursor}, token=seller.token)

    assert response.status_code == 200
    assert error_messages(response) == ["the cursor is not one this API returned"]
    assert_no_stack_trace(response)


# Times outside the years 1970 to 9999 (in UTC) are refused alike on both databases.
OUT_OF_RANGE = [
    "0001-01-01T00:00:00+14:00",  # year 0 in UTC: cannot even be converted
    "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
    "0001-01-01T00:00:00+00:00",
    "1969-12-31T23:59:59+00:00",
]


def assert_validation_error(response: httpx.Response, message: str) -> None:
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "VALIDATION"}
    assert message in error["message"]
    assert_no_stack_trace(response)


@pytest.mark.parametrize("due", [*OUT_OF_RANGE, "0001-01-01T00:00:00"])
async def test_a_response_due_time_outside_the_years_1970_to_9999_is_a_validation_error(
    app: AppClient, due: str
) -> None:
    seller = await make_seller()
    await make_sale(seller)

    response = await post_graphql(app, LIST, {"responseDueBefore": due}, token=seller.token)

    assert_validation_error(response, "responseDueBefore must be a time in the years 1970 to 9999")


@pytest.mark.parametrize(
    ("due", "found"), [("1970-01-01T00:00:00Z", 0), ("9999-12-31T23:59:59+00:00", 1)]
)
async def test_a_response_due_time_at_the_edges_of_the_range_is_answered(
    app: AppClient, due: str, found: int
) -> None:
    seller = await make_seller()
    await make_sale(seller)

    assert len(await _ids(app, seller, responseDueBefore=due)) == found


@pytest.mark.parametrize("created", OUT_OF_RANGE)
async def test_a_cursor_with_a_time_outside_the_years_1970_to_9999_is_a_validation_error(
    app: AppClient, created: str
) -> None:
    seller = await make_seller()
    await make_sale(seller)

    response = await post_graphql(app, LIST, {"after": _cursor(f"{created}|5")}, token=seller.token)

    assert_validation_error(response, "the cursor is not one this API returned")


# --- One after-sale, what it shows ----------------------------------------------------------


async def test_one_after_sale_is_read_by_id_with_string_ids_and_decimal_money(
    app: AppClient,
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(
        seller,
        return_id="5764863169484900011",
        order_id="5764863169484900022",
        refund="19.90",
        status="BUYER_SHIPPED_ITEM",
        tracking_number="JX0001",
        carrier="J&T Express",
    )

    data = await app.gql(AFTER_SALE, {"id": str(sale_id)}, token=seller.token)

    assert data["afterSale"] == {
        "id": str(sale_id),
        "returnId": "5764863169484900011",
        "orderId": "5764863169484900022",
        "type": "RETURN_AND_REFUND",
        "status": "SHIPPED_BY_BUYER",
        "returnStatus": "RETURNING",
        "platformStatus": "BUYER_SHIPPED_ITEM",
        "abnormalReason": None,
        "shop": {"shopId": seller.shop_id, "region": "MY", "name": _shop_name(seller)},
        "refundRequested": {"amount": "19.90", "currency": "MYR"},
        "refundAmount": None,
        "items": [{"sku": "SKU-1", "productName": "Blue mug", "quantity": 1}],
        "trackingNumber": "JX0001",
        "carrier": "J&T Express",
        "sellerResponseDeadline": "2026-11-22T10:00:00+00:00",
        "disputeDeadline": None,
        "disputeStatus": "NONE",
        "availableActions": [
            "CONFIRM_RECEIPT",
            "REJECT_RECEIPT",
            "ADD_NOTE",
            "REPRINT_SHIPPING_LABEL",
        ],
        "createdAt": "2026-11-20T10:00:00+00:00",
    }


async def test_another_sellers_after_sale_reads_as_null(app: AppClient) -> None:
    owner, stranger = await make_seller(), await make_seller()
    sale_id = await make_sale(owner)

    data = await app.gql(AFTER_SALE, {"id": str(sale_id)}, token=stranger.token)

    assert data["afterSale"] is None


@pytest.mark.parametrize("raw_id", ["abc", "0", "-3", "9999999999", "1" * 40])
async def test_a_malformed_or_unknown_id_reads_as_null(app: AppClient, raw_id: str) -> None:
    seller = await make_seller()

    data = await app.gql(AFTER_SALE, {"id": raw_id}, token=seller.token)

    assert data["afterSale"] is None


async def test_an_abnormal_return_shows_no_status(app: AppClient) -> None:
    seller = await make_seller()
    sale_id = await abnormal_return(seller, tracking_number="JX0042")

    data = await app.gql(LIST_DETAIL, token=seller.token)

    node = data["afterSales"]["edges"][0]["node"]
    assert node["id"] == str(sale_id)
    assert node["type"] == "ABNORMAL_RETURN"
    assert node["status"] is None
    assert node["returnId"] is None
    assert node["abnormalReason"] == "REFUSED_BY_BUYER"
    assert node["trackingNumber"] == "JX0042"
    assert node["sellerResponseDeadline"] is None
    assert node["availableActions"] == ["ADD_NOTE", "REPRINT_SHIPPING_LABEL"]


@pytest.mark.parametrize(
    ("return_type", "status", "region", "actions"),
    [
        (
            "RETURN_AND_REFUND",
            "RETURN_OR_REFUND_REQUEST_PENDING",
            "MY",
            ["ACCEPT_RETURN", "REJECT_RETURN", "OFFER_PARTIAL_REFUND", "ADD_NOTE"],
        ),
        (
            "REFUND",
            "RETURN_OR_REFUND_REQUEST_PENDING",
            "MY",
            ["OFFER_PARTIAL_REFUND", "ACCEPT_REFUND", "REJECT_REFUND", "ADD_NOTE"],
        ),
        (
            "REPLACEMENT",
            "REPLACEMENT_REQUEST_PENDING",
            "US",
            [
                "OFFER_PARTIAL_REFUND",
                "ACCEPT_EXCHANGE",
                "REFUSE_EXCHANGE",
                "ISSUE_FULL_REFUND",
                "ADD_NOTE",
            ],
        ),
        ("RETURN_AND_REFUND", "RETURN_OR_REFUND_REQUEST_SUCCESS", "MY", ["ADD_NOTE"]),
    ],
)
async def test_available_actions_are_the_buttons_a_ui_should_show(
    app: AppClient, return_type: str, status: str, region: str, actions: list[str]
) -> None:
    seller = await make_seller(region)
    sale_id = await make_sale(seller, return_type=return_type, status=status)

    data = await app.gql(AFTER_SALE, {"id": str(sale_id)}, token=seller.token)

    assert data["afterSale"]["availableActions"] == actions


# --- Tab badges and shops -------------------------------------------------------------------


async def test_counts_give_every_status_of_one_type_for_the_tab_badges(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller)
    await make_sale(seller)
    await make_sale(seller, status="BUYER_SHIPPED_ITEM")
    await make_sale(seller, return_type="REFUND")
    await make_sale(await make_seller())  # someone else's

    data = await app.gql(COUNTS, {"type": "RETURN_AND_REFUND"}, token=seller.token)

    counts = {row["status"]: row["count"] for row in data["afterSaleCounts"]}
    assert counts == {
        "PENDING_REQUEST": 2,
        "AWAITING_BUYER_RESPONSE": 0,
        "REJECTED": 0,
        "AWAITING_BUYER_SHIPMENT": 0,
        "SHIPPED_BY_BUYER": 1,
        "RECEIPT_REJECTED": 0,
        "REFUNDED": 0,
        "REQUEST_CLOSED": 0,
        "EXCHANGE_ACCEPTED": 0,
    }


async def test_counts_are_narrowed_to_one_shop(app: AppClient) -> None:
    seller = await make_seller("MY")
    await accounts.add_shop(seller.name, "7494049642642448888", "TH", "Bangkok shop")
    await make_sale(seller, return_type="REFUND")
    await make_sale(replace(seller, shop_id="7494049642642448888"), return_type="REFUND")
    await make_sale(replace(seller, shop_id="7494049642642448888"), return_type="REFUND")

    data = await app.gql(
        COUNTS, {"type": "REFUND_ONLY", "shopId": "7494049642642448888"}, token=seller.token
    )

    counts = {row["status"]: row["count"] for row in data["afterSaleCounts"]}
    assert counts["PENDING_REQUEST"] == 2


async def test_abnormal_returns_are_counted_under_no_status(app: AppClient) -> None:
    seller = await make_seller()
    await abnormal_return(seller, tracking_number="JX1")
    await abnormal_return(seller, tracking_number="JX2")

    data = await app.gql(COUNTS, {"type": "ABNORMAL_RETURN"}, token=seller.token)

    assert data["afterSaleCounts"] == [{"status": None, "count": 2}]


async def test_shops_lists_only_the_callers_shops(app: AppClient) -> None:
    seller = await make_seller("MY")
    await accounts.add_shop(seller.name, "7494049642642447777", "TH", "Bangkok shop")
    await make_seller("ID")

    data = await app.gql(SHOPS, token=seller.token)

    assert data["shops"] == sorted(
        [
            {"shopId": seller.shop_id, "region": "MY", "name": _shop_name(seller)},
            {"shopId": "7494049642642447777", "region": "TH", "name": "Bangkok shop"},
        ],
        key=lambda s: s["shopId"],
    )
