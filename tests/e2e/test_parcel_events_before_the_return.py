"""Parcel events that arrive before TikTok reports the return are applied once it does
(docs/webhooks.md, "Nothing is lost"): signed deliveries over HTTP, asserted through GraphQL
and the delivery log."""

from __future__ import annotations

from datetime import timedelta

from aftersales.commands import accounts
from aftersales.store.models import WebhookDelivery
from tests.support.builders import make_seller
from tests.support.clock import T0
from tests.support.http import AppClient
from tests.support.webhooks import only_sale, parcel_body, post_parcel, send_report
from webhooks.registration import apply_waiting_deliveries

RETURN_ID = "576486316948490001"


async def log() -> dict[str, tuple[str, int | None]]:
    """Each delivery's outcome and after-sale, by event id (or notification id)."""
    rows = await WebhookDelivery.all().order_by("id")
    return {r.dedupe_key: (r.outcome, r.after_sale_id) for r in rows}


async def send_parcel(app: AppClient, shop_id: str, event_id: str, **fields: object) -> None:
    response = await post_parcel(app, parcel_body(shop_id=shop_id, event_id=event_id, **fields))
    assert (response.status_code, response.content) == (200, b"")


def parcel_history(sale: dict[str, object]) -> list[str]:
    history = sale["history"]
    assert isinstance(history, list)
    return [h["action"] for h in history if h["source"] == "LOGISTICS_WEBHOOK"]


async def test_events_that_came_first_are_applied_in_occurred_order_when_the_report_arrives(
    app: AppClient,
) -> None:
    seller = await make_seller()
    # Out of order, and matched by tracking number only: no return_id in the feed.
    await send_parcel(
        app,
        seller.shop_id,
        "e-delivered",
        return_id=None,
        status="DELIVERED",
        occurred_at="2026-11-21T08:30:00+07:00",
    )
    await send_parcel(app, seller.shop_id, "e-transit", return_id=None, status="IN_TRANSIT")
    assert {o for o, _ in (await log()).values()} == {"unmatched"}

    await send_report(
        app,
        seller.shop_id,
        "BUYER_SHIPPED_ITEM",
        notification_id="n1",
        return_tracking_number="JX0001",
    )

    sale = await only_sale(app, seller.token)
    assert (sale["status"], sale["returnStatus"]) == ("SHIPPED_BY_BUYER", "RETURNED")
    assert sale["returnedAt"].startswith("2026-11-21T01:30:00")
    assert parcel_history(sale) == ["PARCEL_IN_TRANSIT", "PARCEL_DELIVERED"]
    sale_id = int(sale["id"])
    assert await log() == {
        "e-delivered": ("applied", sale_id),
        "e-transit": ("applied", sale_id),
        "n1": ("created", sale_id),
    }


async def test_events_are_matched_by_return_id_and_then_by_the_tracking_number_they_gave(
    app: AppClient,
) -> None:
    seller = await make_seller()
    await send_parcel(app, seller.shop_id, "e1", status="IN_TRANSIT", tracking_number="JX0009")
    await send_parcel(
        app,
        seller.shop_id,
        "e2",
        return_id=None,
        status="DELIVERED",
        tracking_number="JX0009",
        occurred_at="2026-11-22T10:00:00Z",
    )

    # TikTok says nothing about the parcel: only the return_id matches the first event.
    await send_report(app, seller.shop_id, "AWAITING_BUYER_SHIP", notification_id="n1")

    sale = await only_sale(app, seller.token)
    assert (sale["trackingNumber"], sale["carrier"]) == ("JX0009", "J&T Express")
    assert (sale["returnStatus"], sale["returnedAt"][:10]) == ("RETURNED", "2026-11-22")
    assert parcel_history(sale) == ["PARCEL_IN_TRANSIT", "PARCEL_DELIVERED"]
    assert [o for o, _ in (await log()).values()] == ["applied", "applied", "created"]


async def test_an_unrelated_event_stays_unmatched(app: AppClient) -> None:
    seller = await make_seller()
    other = await make_seller()
    await send_parcel(app, seller.shop_id, "mine", return_id=None)
    await send_parcel(
        app, seller.shop_id, "another-parcel", return_id="999", tracking_number="JX0404"
    )
    await send_parcel(app, other.shop_id, "another-shop", return_id=None)  # same tracking number

    await send_report(
        app,
        seller.shop_id,
        "BUYER_SHIPPED_ITEM",
        notification_id="n1",
        return_tracking_number="JX0001",
    )

    sale_id = int((await only_sale(app, seller.token))["id"])
    assert await log() == {
        "mine": ("applied", sale_id),
        "another-parcel": ("unmatched", None),
        "another-shop": ("unmatched", None),
        "n1": ("created", sale_id),
    }


async def test_later_reports_do_not_apply_the_waiting_events_again(app: AppClient) -> None:
    seller = await make_seller()
    await send_parcel(app, seller.shop_id, "e1", status="IN_TRANSIT")
    await send_parcel(
        app, seller.shop_id, "e2", status="DELIVERED", occurred_at="2026-11-21T10:00:00Z"
    )
    shipped = {"return_tracking_number": "JX0001"}
    await send_report(app, seller.shop_id, "BUYER_SHIPPED_ITEM", notification_id="n1", **shipped)
    before = {d.id: d.processed_at for d in await WebhookDelivery.filter(source="logistics")}

    await send_report(app, seller.shop_id, "BUYER_SHIPPED_ITEM", notification_id="n1", **shipped)
    await send_report(
        app,
        seller.shop_id,
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        notification_id="n2",
        at=T0 + timedelta(days=2),
        **shipped,
    )

    sale = await only_sale(app, seller.token)
    assert (sale["status"], sale["returnStatus"]) == ("REFUNDED", "RETURNED")
    assert parcel_history(sale) == ["PARCEL_IN_TRANSIT", "PARCEL_DELIVERED"]
    after = {d.id: d.processed_at for d in await WebhookDelivery.filter(source="logistics")}
    assert after == before
    outcomes = [d.outcome for d in await WebhookDelivery.all().order_by("id")]
    assert outcomes == ["applied", "applied", "created", "duplicate", "applied"]


async def test_events_for_a_refused_parcel_apply_once_its_abnormal_return_is_created(
    app: AppClient,
) -> None:
    seller = await make_seller()
    await send_parcel(
        app,
        seller.shop_id,
        "delivered",
        return_id=None,
        status="DELIVERED",
        tracking_number="JX0777",
        occurred_at="2026-11-22T10:00:00Z",
    )

    await send_parcel(
        app,
        seller.shop_id,
        "rts",
        return_id=None,
        status="RETURN_TO_SENDER",
        tracking_number="JX0777",
        abnormal_reason="REFUSED_BY_BUYER",
    )

    sale = await only_sale(app, seller.token)
    assert (sale["type"], sale["returnStatus"]) == ("ABNORMAL_RETURN", "RETURNED")
    assert sale["returnedAt"][:10] == "2026-11-22"
    assert [o for o, _ in (await log()).values()] == ["applied", "created"]


async def test_events_and_report_that_waited_for_the_shop_end_returned_once_it_is_registered(
    app: AppClient,
) -> None:
    shop_id = "7494049642600000002"
    for event_id, status, at in [
        ("e1", "IN_TRANSIT", "2026-11-20T06:00:00Z"),
        ("e2", "DELIVERED", "2026-11-20T09:00:00Z"),
    ]:  # both before TikTok's report (T0, 10:00): replayed first, they match nothing yet
        await send_parcel(app, shop_id, event_id, return_id=None, status=status, occurred_at=at)
    await send_report(
        app, shop_id, "BUYER_SHIPPED_ITEM", notification_id="n1", return_tracking_number="JX0001"
    )

    await accounts.add_shop("late-seller", shop_id, "MY")
    await apply_waiting_deliveries(shop_id, app.settings)

    token = await accounts.create_token("late-seller")
    sale = await only_sale(app, token)
    assert (sale["returnStatus"], sale["returnedAt"][:13]) == ("RETURNED", "2026-11-20T09")
    assert [o for o, _ in (await log()).values()] == ["applied", "applied", "created"]
