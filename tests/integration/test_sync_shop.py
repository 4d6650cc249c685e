"""`syncShop` answers at once and imports in the background, one import per shop, a few per
seller; `since` is checked and moves the poll mark only when the import covered it (issue 16:
M3, M4, L2), against a hostile TikTok API over real HTTP, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from aftersales.settings import load_settings
from aftersales.store.models import AfterSale, Shop
from aftersales.tiktok.link import Link
from tests.support.door import write
from tests.support.hostile_world import World
from tests.support.http import AppClient

calls = write("polls")  # each call in a unit of work of its own

SYNC_SHOP = """mutation($shop: String!, $since: DateTime) {
  syncShop(input: {shopId: $shop, since: $since}) { started userErrors { code field } } }"""
SHOPS = """query { shops { shopId syncError } }"""


@asynccontextmanager
async def served(world: World, database: str) -> AsyncIterator[tuple[AppClient, Link]]:
    """The ASGI app, syncing with the hostile API; its own Link (whose queue runs syncShop)."""
    from api.app import create_app

    settings = load_settings(
        {
            "DATABASE_URL": database,
            "TIKTOK_APP_KEY": "hostile-app-key",
            "TIKTOK_APP_SECRET": "hostile-app-secret",
            "LOGISTICS_WEBHOOK_SECRET": "test-logistics-secret",
            "AFTERSALES_SECRET_KEY": world.key,
            "TIKTOK_API_BASE_URL": world.base_url,
        }
    )
    asgi = create_app(settings, clock=world.clock.now, manage_database=False, run_jobs=False)
    async with (
        asgi.router.lifespan_context(asgi),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://testserver"
        ) as client,
    ):
        yield AppClient(client=client, settings=settings, clock=world.clock), asgi.state.tiktok


async def _sync(app: AppClient, token: str, shop: str, since: str | None = None) -> Any:
    answer = await app.gql(SYNC_SHOP, {"shop": shop, "since": since}, token=token)
    return answer["syncShop"]


async def test_sync_shop_answers_at_once_and_imports_in_the_background(
    hostile: World, database: str
) -> None:
    ids = [hostile.put(hostile.a) for _ in range(3)]
    async with served(hostile, database) as (app, link):
        token = hostile.a.seller.token

        answer = await _sync(app, token, hostile.a.seller.shop_id)
        await link.syncs.idle()

        assert answer == {"started": True, "userErrors": []}
        assert await AfterSale.filter(return_id__in=ids).count() == 3
        shops = (await app.gql(SHOPS, {}, token=token))["shops"]
        assert shops == [{"shopId": hostile.a.seller.shop_id, "syncError": None}]


async def test_a_second_sync_of_a_shop_whose_import_runs_is_refused(
    hostile: World, database: str
) -> None:
    hostile.api.rules["ciphA"] = "drip"  # A's import does not end while the test runs
    async with served(hostile, database) as (app, _):
        a, b = hostile.a, hostile.b

        first = await _sync(app, a.seller.token, a.seller.shop_id)
        second = await _sync(app, a.seller.token, a.seller.shop_id)
        now = hostile.clock.now()
        await calls.claim_poll(b.shop_pk, now=now, lease_until=now + timedelta(minutes=5))
        polled = await _sync(app, b.seller.token, b.seller.shop_id)

    assert first == {"started": True, "userErrors": []}
    refused = {
        "started": False,
        "userErrors": [{"code": "ALREADY_RUNNING", "field": ["input", "shopId"]}],
    }
    assert second == polled == refused


async def test_a_seller_starts_at_most_ten_imports_in_ten_minutes(
    hostile: World, database: str
) -> None:
    async with served(hostile, database) as (app, link):
        token, shop = hostile.a.seller.token, hostile.a.seller.shop_id
        for _ in range(10):
            assert (await _sync(app, token, shop))["started"]
            await link.syncs.idle()

        eleventh = await _sync(app, token, shop)
        hostile.clock.advance(minutes=10)
        later = await _sync(app, token, shop)

    assert eleventh["userErrors"] == [{"code": "RATE_LIMITED", "field": None}]
    assert later["started"]


async def test_a_failed_import_shows_on_the_shop_and_in_job_health(
    hostile: World, database: str
) -> None:
    hostile.api.rules["ciphA"] = "deep_json"
    async with served(hostile, database) as (app, link):
        token = hostile.a.seller.token
        assert (await _sync(app, token, hostile.a.seller.shop_id))["started"]
        await link.syncs.idle()

        [shop] = (await app.gql(SHOPS, {}, token=token))["shops"]
        health = await app.client.get("/health/jobs")

    assert "malformed response" in shop["syncError"]
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    [poll] = [job for job in health.json()["jobs"] if job["name"] == "tiktok-poll"]
    assert poll["status"] == "degraded"
    assert poll["failing_shops"] == [
        {"shop_id": hostile.a.seller.shop_id, "error": shop["syncError"]}
    ]


async def test_the_poll_mark_moves_only_when_the_import_covered_it(
    hostile: World, database: str
) -> None:
    now = hostile.clock.now()
    mark = now - timedelta(days=2)
    await Shop.filter(id=hostile.a.shop_pk).update(synced_until=mark)
    async with served(hostile, database) as (app, link):
        token, shop = hostile.a.seller.token, hostile.a.seller.shop_id

        future = await _sync(app, token, shop, (now + timedelta(hours=1)).isoformat())
        after_mark = await _sync(app, token, shop, (now - timedelta(days=1)).isoformat())
        await link.syncs.idle()
        kept = (await Shop.get(id=hostile.a.shop_pk)).synced_until
        from_mark = await _sync(app, token, shop)
        await link.syncs.idle()
        moved = (await Shop.get(id=hostile.a.shop_pk)).synced_until

    assert future["userErrors"] == [{"code": "VALIDATION", "field": ["input", "since"]}]
    assert after_mark["started"] and kept == mark
    assert from_mark["started"] and moved == now


@pytest.mark.parametrize(
    "since",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T23:59:59Z"],
)
async def test_a_since_outside_the_years_1970_to_9999_is_a_validation_error(
    hostile: World, database: str, since: str
) -> None:
    async with served(hostile, database) as (app, _):
        answer = await _sync(app, hostile.a.seller.token, hostile.a.seller.shop_id, since)

    assert answer == {
        "started": False,
        "userErrors": [{"code": "VALIDATION", "field": ["input", "since"]}],
    }
