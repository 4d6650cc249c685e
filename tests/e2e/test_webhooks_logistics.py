"""POST /webhooks/logistics: signed return-parcel events, asserted through GraphQL."""

from __future__ import annotations

import pytest

from aftersales.store.models import WebhookDelivery
from tests.support.builders import make_seller
from tests.support.http import AppClient
from tests.support.webhooks import only_sale, parcel_body, post_parcel, send_report


async def outcomes() -> list[str]:
    return [d.outcome for d in await WebhookDelivery.all().order_by("id")]


async def shipped_return(app: AppClient, region: str = "MY") -> tuple[str, str]:
    seller = await make_seller(region=region)
    await send_report(
        app,
        seller.shop_id,
        "BUYER_SHIPPED_ITEM",
        notification_id="n1",
        return_tracking_number="JX0001",
    )
    return seller.shop_id, seller.token


async def test_in_transit_then_delivered_moves_the_parcel_and_records_arrival(
    app: AppClient,
) -> None:
    shop_id, token = await shipped_return(app)

    first = await post_parcel(app, parcel_body(shop_id=shop_id, status="IN_TRANSIT"))
    second = await post_parcel(
        app,
        parcel_body(
            shop_id=shop_id,
            event_id="trk-0002",
            status="DELIVERED",
            occurred_at="2026-11-21T08:30:00+07:00",
        ),
    )

    assert (first.status_code, second.status_code, second.content) == (200, 200, b"")
    sale = await only_sale(app, token)
    assert sale["returnStatus"] == "RETURNED"
    assert sale["returnedAt"].startswith("2026-11-21T01:30:00")
    assert sale["status"] == "SHIPPED_BY_BUYER"  # a parcel never changes the request's status
    parcel = [h for h in sale["history"] if h["source"] == "LOGISTICS_WEBHOOK"]
    assert [h["action"] for h in parcel] == ["PARCEL_IN_TRANSIT", "PARCEL_DELIVERED"]
    assert {h["actor"] for h in parcel} == {"LOGISTICS"}


async def test_events_match_by_tracking_number_when_there_is_no_return_id(app: AppClient) -> None:
    shop_id, token = await shipped_return(app)

    await post_parcel(app, parcel_body(shop_id=shop_id, return_id=None, status="DELIVERED"))

    assert (await only_sale(app, token))["returnStatus"] == "RETURNED"


async def test_an_older_event_never_moves_the_parcel_backwards(app: AppClient) -> None:
    shop_id, token = await shipped_return(app)
    await post_parcel(
        app,
        parcel_body(
            shop_id=shop_id, event_id="e2", status="DELIVERED", occurred_at="2026-11-21T10:00:00Z"
        ),
    )

    await post_parcel(app, parcel_body(shop_id=shop_id, event_id="e1", status="IN_TRANSIT"))

    assert (await only_sale(app, token))["returnStatus"] == "RETURNED"
    assert await outcomes() == ["created", "applied", "stale"]


async def test_return_to_sender_creates_one_abnormal_return_per_parcel(app: AppClient) -> None:
    seller = await make_seller()
    body = parcel_body(
        shop_id=seller.shop_id,
        return_id=None,
        status="RETURN_TO_SENDER",
        abnormal_reason="REFUSED_BY_BUYER",
        tracking_number="JX0777",
        items=[
            {"sku": "MUG-1", "quantity": 2},
            {"sku": "LID", "quantity": 1},
            {"sku": "MUG-1", "quantity": 1},
        ],
    )
    again = body.replace(b"trk-0001", b"trk-0002")

    codes = [(await post_parcel(app, b)).status_code for b in (body, body, body, again)]

    assert codes == [200] * 4
    sale = await only_sale(app, seller.token)
    assert (sale["type"], sale["status"], sale["returnStatus"]) == (
        "ABNORMAL_RETURN",
        None,
        "RETURNING",
    )
    assert sale["abnormalReason"] == "REFUSED_BY_BUYER"
    assert sale["items"] == [
        {"sku": "MUG-1", "productName": None, "quantity": 3},
        {"sku": "LID", "productName": None, "quantity": 1},
    ]
    assert (sale["trackingNumber"], sale["carrier"]) == ("JX0777", "J&T Express")
    assert len(sale["history"]) == 1
    assert await outcomes() == ["created", "duplicate", "duplicate", "stale"]


async def test_later_events_for_the_abnormal_parcel_update_it(app: AppClient) -> None:
    seller = await make_seller()
    await post_parcel(
        app,
        parcel_body(
            shop_id=seller.shop_id,
            return_id=None,
            status="RETURN_TO_SENDER",
            tracking_number="JX0777",
            abnormal_reason="BUYER_UNREACHABLE",
        ),
    )

    await post_parcel(
        app,
        parcel_body(
            shop_id=seller.shop_id,
            return_id=None,
            event_id="e2",
            status="DELIVERED",
            tracking_number="JX0777",
            occurred_at="2026-11-22T10:00:00Z",
        ),
    )

    sale = await only_sale(app, seller.token)
    assert (sale["returnStatus"], sale["returnedAt"][:10]) == ("RETURNED", "2026-11-22")


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"status": "IN_TRANSIT", "return_id": "999"}, "unmatched"),
        ({"status": "RETURN_TO_SENDER", "return_id": None}, "unmatched"),  # no abnormal_reason
        ({"status": "LOST_IN_SPACE"}, "unmapped"),
    ],
)
async def test_events_that_match_nothing_are_recorded_and_answered_200(
    app: AppClient, fields: dict[str, object], outcome: str
) -> None:
    seller = await make_seller()

    response = await post_parcel(app, parcel_body(shop_id=seller.shop_id, **fields))

    assert response.status_code == 200
    assert await outcomes() == [outcome]


async def test_an_event_for_an_unknown_shop_is_kept(app: AppClient) -> None:
    response = await post_parcel(app, parcel_body(shop_id="1234"))

    assert response.status_code == 200
    assert await outcomes() == ["unknown_shop"]


@pytest.mark.parametrize("signature", [None, "deadbeef"])
async def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
    app: AppClient, signature: str | None
) -> None:
    body = parcel_body()
    headers = {"X-Signature": signature} if signature else {}

    response = await app.client.post("/webhooks/logistics", content=body, headers=headers)

    assert (response.status_code, response.content) == (401, b"")
    assert await WebhookDelivery.all().count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{oops",
        parcel_body(occurred_at="2026-11-20 10:00:00"),  # no time zone
        parcel_body(occurred_at=1700000000),
        parcel_body(event_id=None),
        parcel_body(return_id=None, tracking_number=None),
        parcel_body(items=[{"sku": "A", "quantity": 0}]),
        parcel_body(items=[{"sku": "A", "quantity": "2"}]),
        parcel_body(items="A x2"),
        parcel_body(status=7),
    ],
)
async def test_a_signed_malformed_event_is_400_and_logged(app: AppClient, body: bytes) -> None:
    response = await post_parcel(app, body)

    assert response.status_code == 400 and response.text
    assert await outcomes() == ["rejected"]
