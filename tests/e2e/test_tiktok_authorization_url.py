"""`tiktokAuthorizationUrl`: TikTok's authorization page for the token's seller, by region, with
a new state each time; a userError naming TIKTOK_SERVICE_ID when it is not set, VALIDATION for a
region that is not one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aftersales.settings import Settings
from aftersales.store.models import OAuthState
from tests.support.builders import make_seller
from tests.support.clock import Clock
from tests.support.http import AppClient

AUTHORIZE = """mutation($region: String) {
  tiktokAuthorizationUrl(input: {region: $region}) {
    url expiresAt userErrors { code field message } } }"""


async def _authorize(app: AppClient, region: str | None) -> dict[str, object]:
    seller = await make_seller()
    found = await app.gql(AUTHORIZE, {"region": region}, token=seller.token)
    return found["tiktokAuthorizationUrl"]  # type: ignore[no-any-return]


@asynccontextmanager
async def served(settings: Settings, clock: Clock) -> AsyncIterator[AppClient]:
    from api.app import create_app

    asgi = create_app(settings, clock=clock.now, manage_database=False, run_jobs=False)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield AppClient(client=client, settings=settings, clock=clock)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, tiktok_service_id="7310000000000000001")


async def test_without_a_service_id_the_user_error_names_the_setting(
    settings: Settings, clock: Clock
) -> None:
    async with served(replace(settings, tiktok_service_id=None), clock) as app:
        payload = await _authorize(app, "ID")

    assert payload["url"] is None and payload["expiresAt"] is None
    [error] = payload["userErrors"]  # type: ignore[misc]
    assert error["code"] == "VALIDATION" and "TIKTOK_SERVICE_ID" in error["message"]
    assert await OAuthState.all().count() == 0


@pytest.mark.parametrize(
    ("region", "base"),
    [
        ("US", "https://services.us.tiktokshop.com/open/authorize"),
        ("us", "https://services.us.tiktokshop.com/open/authorize"),
        ("ID", "https://services.tiktokshop.com/open/authorize"),
        (None, "https://services.tiktokshop.com/open/authorize"),
    ],
)
async def test_the_url_is_tiktoks_page_for_the_region_with_a_new_state(
    app: AppClient, region: str | None, base: str
) -> None:
    first = await _authorize(app, region)
    second = await _authorize(app, region)

    url = urlsplit(str(first["url"]))
    assert f"{url.scheme}://{url.netloc}{url.path}" == base
    query = parse_qs(url.query)
    assert query["service_id"] == ["7310000000000000001"]
    assert len(query["state"][0]) >= 40
    assert query["state"] != parse_qs(urlsplit(str(second["url"])).query)["state"]
    expires = app.clock.now() + timedelta(minutes=30)
    assert datetime.fromisoformat(str(first["expiresAt"])) == expires
    assert first["userErrors"] == []


async def test_tiktok_authorize_url_replaces_tiktoks_page(settings: Settings, clock: Clock) -> None:
    page = "http://127.0.0.1:8600/open/authorize"
    async with served(replace(settings, tiktok_authorize_url=page), clock) as app:
        payload = await _authorize(app, "US")

    assert str(payload["url"]).startswith(page + "?service_id=7310000000000000001&state=")


@pytest.mark.parametrize("region", ["XX", "USA", "1", "u s"])
async def test_a_region_that_is_not_one_is_a_validation_error(app: AppClient, region: str) -> None:
    payload = await _authorize(app, region)

    assert payload["url"] is None
    [error] = payload["userErrors"]  # type: ignore[misc]
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "region"])
