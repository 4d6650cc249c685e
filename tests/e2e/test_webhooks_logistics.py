"""POST /webhooks/logistics: signed return-parcel events, asserted through GraphQL."""

from __future__ import annotations

import asyncio

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


@pytest.mark.parametrize("at_once", [False, True], ids=["one-by-one", "all-at-once"])
async def test_twenty_repeated_return_to_sender_scans_make_one_history_entry(
    app: AppClient, at_once: bool
) -> None:
    seller = await make_seller()
    scans = [
        parcel_body(
            shop_id=seller.shop_id,
            event_id=f"scan-{n}",
            occurred_at=f"2026-11-20T10:{n:02d}:00Z",
            return_id=None,
            status="RETURN_TO_SENDER",
            abnormal_reason="REFUSED_BY_BUYER",
            tracking_number="JX0777",
        )
        for n in range(20)
    ]

    if at_once:
        responses = await asyncio.gather(*(post_parcel(app, scan) for scan in scans))
    else:
        responses = [await post_parcel(app, scan) for scan in scans]

    assert {r.status_code for r in responses} == {200}
    sale = await only_sale(app, seller.token)
    assert [h["action"] for h in sale["history"]] == ["ABNORMAL_RETURN_CREATED"]
    assert sorted(await outcomes()) == ["created"] + ["stale"] * 19


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
        parcel_body(items=[{"sku": "A", "quantity": 10_001}]),  # a stock-in line moves 10,000
        parcel_body(items=[{"sku": "A", "quantity": "2"}]),
        parcel_body(items="A x2"),
        parcel_body(status=7),
    ],
)
async def test_a_signed_malformed_event_is_400_and_logged(app: AppClient, body: bytes) -> None:
    response = await post_parcel(app, body)

    assert response.status_code == 400 and response.text
    assert await outcomes() == ["rejected"]


@pytest.mark.parametrize(
    "occurred_at",
    [
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC: cannot even be converted
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ],
)
async def test_a_time_outside_the_years_1970_to_9999_is_400_and_logged_rejected(
    app: AppClient, occurred_at: str
) -> None:
    shop_id, token = await shipped_return(app)
    before = await only_sale(app, token)

    response = await post_parcel(app, parcel_body(shop_id=shop_id, occurred_at=occurred_at))

    assert response.status_code == 400
    assert "1970 to 9999" in response.text
    assert await outcomes() == ["created", "rejected"]
    assert await only_sale(app, token) == before


@pytest.mark.parametrize(
    "occurred_at", ["1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T05:00:00+05:00"]
)
async def test_a_time_at_the_edges_of_the_years_1970_to_9999_is_accepted(
    app: AppClient, occurred_at: str
) -> None:
    shop_id, _ = await shipped_return(app)

    response = await post_parcel(app, parcel_body(shop_id=shop_id, occurred_at=occurred_at))

    assert response.status_code == 200
    assert await outcomes() == ["created", "applied"]


@pytest.mark.parametrize(
    "fields",
    [{"tracking_number": "JX\ud800"}, {"status": "IN_TRANSIT\udfff"}, {"carrier": "J&T\ud83d"}],
    ids=["tracking_number", "status", "carrier"],
)
async def test_a_lone_surrogate_escape_in_a_text_field_is_400_and_logged_rejected(
    app: AppClient, fields: dict[str, str]
) -> None:
    shop_id, token = await shipped_return(app)
    before = await only_sale(app, token)
    body = parcel_body(shop_id=shop_id, **fields)  # JSON escapes: "JX\ud800"

    response = await post_parcel(app, body)

    assert response.status_code == 400
    assert "not valid Unicode" in response.text
    assert await outcomes() == ["created", "rejected"]
    assert await only_sale(app, token) == before


async def test_a_body_nested_100000_deep_is_400_and_logged_rejected(app: AppClient) -> None:
    body = b'{"event_id": "e1", "items": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = await post_parcel(app, body)

    assert response.status_code == 400
    assert "not valid JSON" in response.text
    assert await outcomes() == ["rejected"]
