"""A shop's connection to TikTok, end to end on both databases, against the stand-in TikTok over
real loopback HTTP, with TikTok's webhooks (types 6 and 7) signed and posted to the service's
POST /webhooks/tiktok: a revoked shop sends nothing until reconnected, its decisions wait with
their retry budget paused, then go out; an announced end; notices for shops we do not sync;
refused refreshes (docs/tiktok-sync.md). `shops check`, the cipher rule and /metrics:
test_shops_check.py."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet

from aftersales.commands.credentials import CredentialsGiven, set_shop_credentials
from aftersales.domain.connection import DISCONNECTED_ERROR
from aftersales.store.credentials import Vault
from aftersales.store.models import AfterSale, Shop, TikTokCall, WebhookDelivery
from aftersales.tiktok import dispatch, imports
from aftersales.tiktok.link import refresh_due
from devtools.sandbox import Fault
from devtools.sandbox.webhooks import deauthorization_body, expiring_body
from tests.support.builders import (
    make_seller,
    unique_id,
)
from tests.support.clock import Clock
from tests.support.connected import (
    SHOPS,
    World,
    connected_world,
    credentials,
    deauthorized,
    type_12,
)
from tests.support.http import AppClient
from tests.support.sandbox import (
    ACCESS_TOKEN,
    CIPHER,
)
from webhooks import registration
from webhooks.signing import tiktok_signature


@pytest.fixture
async def world(database: str, clock: Clock) -> AsyncIterator[World]:
    async for found in connected_world(database, clock):
        yield found


async def test_a_deauthorization_stops_every_call_until_the_shop_is_reconnected(
    world: World,
) -> None:
    return_id = world.put()
    sale_id = await world.imported(return_id)
    assert (await world.shop())["connection"] == "CONNECTED"

    await deauthorized(world)
    await world.accept(sale_id)
    other = world.put()  # a return TikTok reports meanwhile: its fetch waits too
    webhook = await world.post_webhook(type_12(world.seller.shop_id, other))
    calls_before = len(world.sandbox.calls)
    run = await dispatch.dispatch(world.link)
    polled = await imports.poll(world.link)
    refreshed = await refresh_due(world.link)
    shop = await world.shop()
    waiting = await AfterSale.get(id=sale_id)

    assert shop["connection"] == "DISCONNECTED"
    assert "revoked" in shop["syncError"]
    assert (run.total, polled.shops, refreshed) == (0, 0, 0)
    assert len(world.sandbox.calls) == calls_before  # no call reached TikTok
    assert (waiting.sync_status, waiting.sync_error) == ("PENDING", DISCONNECTED_ERROR)
    [delivery] = await WebhookDelivery.filter(event_type="6")
    assert (delivery.outcome, delivery.reason) == ("applied", "shop disconnected")

    await world.reconnect()
    reconnected = await world.shop()
    resumed = await AfterSale.get(id=sale_id)
    run = await dispatch.dispatch(world.link)
    done = await AfterSale.get(id=sale_id)

    assert webhook == 200
    assert (reconnected["connection"], reconnected["syncError"]) == ("CONNECTED", None)
    assert (resumed.sync_status, resumed.sync_error) == ("PENDING", None)
    assert run.synced == 2  # the decision, and the fetch of the other return
    assert await AfterSale.filter(return_id=other).exists()
    [decision] = world.decisions()
    assert decision.code == 0 and decision.query["shop_cipher"] == CIPHER
    assert done.sync_status == "SYNCED"


async def test_polling_resumes_from_the_mark_after_a_reconnect(world: World) -> None:
    await imports.poll(world.link)
    mark = (await Shop.get(id=world.shop_pk)).synced_until
    await deauthorized(world)
    world.clock.advance(hours=2)
    await world.reconnect()

    world.put()
    searches_before = len([c for c in world.sandbox.calls if c.path.endswith("/returns/search")])
    polled = await imports.poll(world.link)

    searches = [c for c in world.sandbox.calls if c.path.endswith("/returns/search")]
    assert polled.shops == 1 and len(searches) == searches_before + 1
    assert mark is not None
    assert searches[-1].body["update_time_ge"] == int((mark - imports.OVERLAP).timestamp())


async def test_the_retry_budget_is_paused_while_the_shop_is_disconnected(world: World) -> None:
    sale_id = await world.imported(world.put())
    await world.accept(sale_id)
    queued = await TikTokCall.get(after_sale_id=sale_id)
    world.clock.advance(hours=1)
    await deauthorized(world)
    world.clock.advance(hours=30)  # disconnected longer than the whole 24-hour budget

    await world.reconnect()
    shifted = await TikTokCall.get(id=queued.id)
    world.sandbox.fail("/approve", Fault.http(503))
    run = await dispatch.dispatch(world.link)

    assert shifted.created_at == queued.created_at + timedelta(hours=30)
    assert (run.retrying, run.failed) == (1, 0)  # one hour of budget spent: retried, not FAILED
    retried = await AfterSale.get(id=sale_id)
    assert retried.sync_status == "PENDING"


async def test_a_decision_made_while_disconnected_waits_and_says_why(world: World) -> None:
    sale_id = await world.imported(world.put())
    await deauthorized(world)

    await world.accept(sale_id)
    run = await dispatch.dispatch(world.link)

    sale = await AfterSale.get(id=sale_id)
    assert (sale.status.value, sale.sync_status, sale.sync_error) == (
        "AWAITING_BUYER_SHIPMENT",
        "PENDING",
        DISCONNECTED_ERROR,
    )
    assert run.total == 0 and world.decisions() == []


async def test_an_expiry_notice_makes_the_shop_expiring_with_its_end(world: World) -> None:
    ends = int(time.time()) + 20 * 86400

    world.sandbox.announce_expiry(world.seller.shop_id, ends)
    await world.sandbox.wait_for_webhooks()
    shop = await world.shop()

    assert shop["connection"] == "EXPIRING"
    assert shop["authorizationExpiresAt"] == datetime.fromtimestamp(ends, UTC).isoformat()
    [delivery] = await WebhookDelivery.filter(event_type="7")
    assert delivery.outcome == "applied"


async def test_a_refresh_token_ending_within_30_days_is_expiring(world: World) -> None:
    ends = world.clock.now() + timedelta(days=29)
    await credentials.set_credentials(
        None,
        world.seller.shop_id,
        access_token=None,
        refresh_token=None,
        shop_cipher=None,
        refresh_token_expires_at=ends,
        now=world.clock.now(),
    )

    shop = await world.shop()

    assert shop["connection"] == "EXPIRING"
    assert shop["authorizationExpiresAt"] == ends.isoformat()


async def test_notices_for_an_unknown_shop_are_recorded_and_never_replayed(world: World) -> None:
    shop_id = unique_id()
    now = int(time.time())
    six = await world.post_webhook(deauthorization_body(shop_id, now))
    seven = await world.post_webhook(expiring_body(shop_id, now, now + 86400))

    await credentials_for_new_shop(world, shop_id)
    replayed = await registration.apply_waiting_deliveries(shop_id, world.settings)

    assert (six, seven) == (200, 200)
    deliveries = await WebhookDelivery.filter(shop_id=shop_id).order_by("id")
    assert [(d.event_type, d.outcome) for d in deliveries] == [
        ("6", "recorded"),
        ("7", "recorded"),
    ]
    assert replayed == ""
    registered = await Shop.get(shop_id=shop_id)
    assert (registered.disconnected_at, registered.announced_expiration_at) == (None, None)


async def credentials_for_new_shop(world: World, shop_id: str) -> None:
    """`shops add … --access-token --shop-cipher` for a shop of the world's seller."""
    from aftersales.commands import accounts

    await accounts.add_shop(world.seller.name, shop_id, "ID", "Second shop")
    given = CredentialsGiven(access_token=ACCESS_TOKEN, shop_cipher="ROW_second")
    await set_shop_credentials(world.vault, shop_id, given, now=world.clock.now())


async def test_notices_for_a_local_only_shop_change_nothing(world: World) -> None:
    local = await make_seller(region="ID")
    now = int(time.time())

    six = await world.post_webhook(deauthorization_body(local.shop_id, now))
    seven = await world.post_webhook(expiring_body(local.shop_id, now, now + 86400))

    assert (six, seven) == (200, 200)
    deliveries = await WebhookDelivery.filter(shop_id=local.shop_id).order_by("id")
    assert [d.outcome for d in deliveries] == ["recorded", "recorded"]
    row = await Shop.get(shop_id=local.shop_id)
    assert (row.disconnected_at, row.announced_expiration_at, row.sync_error) == (None, None, None)


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":6,"tts_notification_id":"1","timestamp":1700000000,"data":{}}',
        b'{"type":7,"tts_notification_id":"2","shop_id":"9","timestamp":1700000000,"data":{}}',
        b'{"type":7,"tts_notification_id":"3","shop_id":"9","timestamp":1700000000,'
        b'"data":{"expiration_time":"soon"}}',
    ],
    ids=["6-without-shop", "7-without-expiration", "7-expiration-not-seconds"],
)
async def test_a_malformed_notice_is_rejected(world: World, body: bytes) -> None:
    status = await world.post_webhook(body)

    [delivery] = await WebhookDelivery.all()
    assert delivery.outcome == "rejected"
    assert status in (200, 400)  # the answer itself belongs to the webhook endpoint's rules


async def test_a_refused_token_refresh_disconnects_the_shop(world: World) -> None:
    world.sandbox.deauthorize(world.seller.shop_id, webhook=False)  # the type 6 got lost
    world.clock.advance(days=7)  # the access token is due for a refresh

    refreshed = await refresh_due(world.link)
    shop = await world.shop()

    assert refreshed == 0
    assert shop["connection"] == "DISCONNECTED"
    assert "36004014" in shop["syncError"]


async def test_a_call_whose_refresh_is_refused_waits_for_the_reconnect(world: World) -> None:
    sale_id = await world.imported(world.put())
    await world.accept(sale_id)
    world.sandbox.expire_token(world.seller.shop_id)
    world.sandbox.fail("/token/refresh", Fault.code(36004014, "Invalid refresh token."))

    run = await dispatch.dispatch(world.link)

    sale = await AfterSale.get(id=sale_id)
    assert (run.failed, run.retrying) == (0, 1)
    assert (sale.sync_status, sale.sync_error) == ("PENDING", DISCONNECTED_ERROR)
    assert (await world.shop())["connection"] == "DISCONNECTED"


async def test_a_notice_sent_before_the_credentials_were_last_set_is_stale(world: World) -> None:
    before = int((world.clock.now() - timedelta(hours=1)).timestamp())

    status = await world.post_webhook(deauthorization_body(world.seller.shop_id, before))

    assert status == 200
    [delivery] = await WebhookDelivery.filter(event_type="6")
    assert delivery.outcome == "stale"
    assert (await world.shop())["connection"] == "CONNECTED"


async def test_without_the_sync_configured_a_shop_with_credentials_is_local_only(
    app: AppClient, clock: Clock
) -> None:
    seller = await make_seller(region="ID")
    await credentials.set_credentials(
        Vault([Fernet.generate_key().decode()]),
        seller.shop_id,
        access_token=ACCESS_TOKEN,
        refresh_token=None,
        shop_cipher=CIPHER,
        now=clock.now(),
    )
    body = deauthorization_body(seller.shop_id, int(time.time()))
    signature = tiktok_signature("test-app-key", "test-app-secret", body)

    response = await app.client.post(
        "/webhooks/tiktok", content=body, headers={"Authorization": signature}
    )
    shops = await app.gql(SHOPS, token=seller.token)

    assert response.status_code == 200
    [delivery] = await WebhookDelivery.filter(shop_id=seller.shop_id)
    assert delivery.outcome == "recorded"
    assert shops["shops"][0]["connection"] == "LOCAL_ONLY"
    assert (await Shop.get(shop_id=seller.shop_id)).disconnected_at is None
