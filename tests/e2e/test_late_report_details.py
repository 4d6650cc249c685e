"""An older TikTok report delivered after a newer one (docs/webhooks.md, "Ordering and
duplicates"): its status is ignored, but the details the after-sale still lacks are filled in,
so no arrival order loses data. Signed deliveries over HTTP, asserted through GraphQL and the
delivery log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aftersales.store.models import WebhookDelivery
from tests.support.builders import make_seller
from tests.support.clock import T0
from tests.support.http import AppClient
from tests.support.webhooks import (
    only_sale,
    parcel_body,
    post_parcel,
    send_report,
    unix,
)

SHIPPED_AT = T0 + timedelta(hours=3)
TIKTOK_DEADLINE = T0 + timedelta(hours=36)
LINE = {
    "sku_id": "1729382256910270001",
    "seller_sku": "TSHIRT-M",
    "product_name": "T-shirt M",
    "refund_amount": {"currency": "IDR", "refund_total": "150000"},
}
# What a relay that fetched the full return adds to the pending report.
PENDING_DETAILS: dict[str, Any] = {
    "refund_amount": {"currency": "IDR", "refund_total": "300000"},
    "return_line_items": [LINE, LINE],
    "return_reason_text": "Wrong size",
    "seller_next_action_response": [
        {"action": "SELLER_RESPOND_REQUEST", "deadline": unix(TIKTOK_DEADLINE)}
    ],
}


async def outcomes() -> list[str]:
    return [d.outcome for d in await WebhookDelivery.all().order_by("id")]


async def pending_with_details(app: AppClient, shop_id: str, **more: Any) -> None:
    await send_report(
        app,
        shop_id,
        "RETURN_OR_REFUND_REQUEST_PENDING",
        notification_id="n-pending",
        **(PENDING_DETAILS | more),
    )


async def shipped_without_details(app: AppClient, shop_id: str, **more: Any) -> None:
    await send_report(
        app, shop_id, "BUYER_SHIPPED_ITEM", notification_id="n-shipped", at=SHIPPED_AT, **more
    )


@pytest.mark.parametrize("shipped_first", [False, True], ids=["in-order", "shipped-first"])
async def test_the_pending_reports_details_are_kept_whatever_the_arrival_order(
    app: AppClient, shipped_first: bool
) -> None:
    seller = await make_seller(region="ID")
    arrivals = [pending_with_details, shipped_without_details]

    for send in reversed(arrivals) if shipped_first else arrivals:
        await send(app, seller.shop_id)

    sale = await only_sale(app, seller.token)
    assert (sale["status"], sale["returnStatus"]) == ("SHIPPED_BY_BUYER", "RETURNING")
    assert sale["platformStatus"] == "BUYER_SHIPPED_ITEM"
    assert sale["refundRequested"] == {"amount": "300000.00", "currency": "IDR"}
    assert sale["items"] == [{"sku": "TSHIRT-M", "productName": "T-shirt M", "quantity": 2}]
    assert sale["reason"] == "Wrong size"
    assert sale["sellerResponseDeadline"].startswith("2026-11-21T22:00:00")


async def test_a_stale_report_that_fills_details_is_logged_stale_with_one_history_entry(
    app: AppClient,
) -> None:
    seller = await make_seller(region="ID")
    await shipped_without_details(app, seller.shop_id)

    await pending_with_details(app, seller.shop_id)

    sale = await only_sale(app, seller.token)
    assert [(h["action"], h["fromStatus"], h["toStatus"]) for h in sale["history"]] == [
        ("PLATFORM_STATUS_REPORTED", None, "SHIPPED_BY_BUYER"),
        ("PLATFORM_DETAILS_FILLED", "SHIPPED_BY_BUYER", "SHIPPED_BY_BUYER"),
    ]
    assert await outcomes() == ["created", "stale"]
    stale = await WebhookDelivery.get(dedupe_key="n-pending")
    assert stale.after_sale_id == int(sale["id"])
    assert stale.reason is not None and "items" in stale.reason


async def test_a_stale_report_never_overwrites_a_detail_or_the_status(app: AppClient) -> None:
    seller = await make_seller(region="ID")
    await shipped_without_details(
        app,
        seller.shop_id,
        refund_amount={"currency": "IDR", "refund_total": "100000"},
        return_line_items=[LINE | {"seller_sku": "TSHIRT-L", "product_name": "T-shirt L"}],
        return_reason_text="Changed my mind",
        seller_next_action_response=[{"action": "SELLER_RESPOND_RECEIVE", "deadline": 1796000000}],
    )
    before = await only_sale(app, seller.token)

    await pending_with_details(app, seller.shop_id)

    assert await only_sale(app, seller.token) == before
    assert before["status"] == "SHIPPED_BY_BUYER"
    assert before["refundRequested"] == {"amount": "100000.00", "currency": "IDR"}
    assert before["reason"] == "Changed my mind"
    assert await outcomes() == ["created", "stale"]


async def test_a_stale_report_that_brings_nothing_new_records_nothing(app: AppClient) -> None:
    seller = await make_seller(region="ID")
    await pending_with_details(app, seller.shop_id, at=SHIPPED_AT)
    before = await only_sale(app, seller.token)

    await send_report(
        app, seller.shop_id, "RETURN_OR_REFUND_REQUEST_PENDING", notification_id="n-older"
    )

    assert await only_sale(app, seller.token) == before
    assert len(before["history"]) == 1
    assert await outcomes() == ["created", "stale"]


async def test_a_tracking_number_filled_in_late_lets_its_waiting_parcel_events_match(
    app: AppClient,
) -> None:
    seller = await make_seller(region="ID")
    waiting = parcel_body(shop_id=seller.shop_id, return_id=None, tracking_number="JX0777")
    assert (await post_parcel(app, waiting)).status_code == 200
    await shipped_without_details(app, seller.shop_id)

    await pending_with_details(
        app, seller.shop_id, return_tracking_number="JX0777", return_provider_name="J&T Express"
    )

    sale = await only_sale(app, seller.token)
    assert (sale["trackingNumber"], sale["carrier"]) == ("JX0777", "J&T Express")
    assert sale["history"][-1]["action"] == "PARCEL_IN_TRANSIT"
    assert await outcomes() == ["applied", "created", "stale"]
