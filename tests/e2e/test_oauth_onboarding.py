"""Connecting a shop by OAuth against the stand-in TikTok over real HTTP, on both databases:
authorization URL, the sandbox's authorize page, the callback, the shops registered with their
cipher and the token pair encrypted, the first backfill, a decision pushed with the cipher; and
every failure path changing nothing (docs/connecting-a-shop.md)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from aftersales.commands import accounts
from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.model import SellerAction
from aftersales.settings import load_settings
from aftersales.store.credentials import Vault
from aftersales.store.models import AfterSale, OAuthState, Shop
from aftersales.tiktok import dispatch
from aftersales.tiktok.link import Link
from devtools.sandbox import Fault, Sandbox
from tests.support.builders import WINDOWS, Seller, make_seller, seller_id_of, unique_id
from tests.support.clock import Clock
from tests.support.http import AppClient
from tests.support.sandbox import APP_KEY, APP_SECRET, serving_sandbox

SERVICE_ID = "7310000000000000001"
NEW_SHOP_CIPHER = "ROW_new-shop-cipher"
OLD_SHOP_CIPHER = "ROW_old-shop-cipher"
CALLBACK = "http://testserver/oauth/tiktok/callback"

AUTHORIZE = """mutation($region: String) {
  tiktokAuthorizationUrl(input: {region: $region}) {
    url expiresAt userErrors { code field message } } }"""


@pytest.fixture
def clock() -> Clock:
    """Real time: the stand-in checks the client's signed timestamps against its own clock."""
    return Clock(datetime.now(UTC).replace(microsecond=0))


@dataclass
class World:
    sandbox: Sandbox
    app: AppClient
    link: Link
    seller: Seller
    new_shop: str  # on TikTok's side only, until connected
    clock: Clock
    key: str

    async def authorization_url(self, region: str | None = None) -> str:
        found = await self.app.gql(AUTHORIZE, {"region": region}, token=self.seller.token)
        payload = found["tiktokAuthorizationUrl"]
        assert payload["userErrors"] == [], payload
        return str(payload["url"])

    async def click_authorize(self, url: str, *shop_ids: str) -> str:
        """Open TikTok's (the stand-in's) page over HTTP and click a link: the callback URL."""
        async with httpx.AsyncClient() as browser:
            page = await browser.get(url)
            assert page.status_code == 200, page.text
            links = re.findall(r'href="([^"]+)"', page.text)
            wanted = [f"shop_id={s}" for s in shop_ids]
            link = next(
                href.replace("&amp;", "&")
                for href in links
                if all(w in href for w in wanted) and (shop_ids or "shop_id" not in href)
            )
            grant = await browser.get(str(httpx.URL(url).join(link)))
        assert grant.status_code == 302, grant.text
        return grant.headers["location"]

    async def callback(self, url: str) -> httpx.Response:
        assert url.startswith(CALLBACK), url
        return await self.app.client.get(url.removeprefix("http://testserver"))

    def token_gets(self) -> int:
        return sum(1 for call in self.sandbox.calls if call.path == "/api/v2/token/get")


@asynccontextmanager
async def world_for(database: str, clock: Clock, **env: str) -> AsyncIterator[World]:
    from api.app import create_app

    sandbox = Sandbox(APP_KEY, APP_SECRET, redirect_url=CALLBACK)
    seller = await make_seller(region="MY")
    new_shop = unique_id()
    sandbox.add_shop(
        new_shop, cipher=NEW_SHOP_CIPHER, access_token="-", refresh_token="-", name="Blue Mugs"
    )
    sandbox.add_shop(
        seller.shop_id,
        cipher=OLD_SHOP_CIPHER,
        access_token="--",
        refresh_token="--",
        name="Renamed on TikTok",
        region="MY",
    )
    key = Fernet.generate_key().decode()
    async with serving_sandbox(sandbox) as base_url:
        settings = load_settings(
            {
                "DATABASE_URL": database,
                "TIKTOK_APP_KEY": APP_KEY,
                "TIKTOK_APP_SECRET": APP_SECRET,
                "AFTERSALES_SECRET_KEY": key,
                "TIKTOK_API_BASE_URL": base_url,
                "TIKTOK_AUTH_BASE_URL": base_url,
                "TIKTOK_AUTHORIZE_URL": f"{base_url}/open/authorize",
                "TIKTOK_SERVICE_ID": SERVICE_ID,
                **env,
            }
        )
        asgi = create_app(settings, clock=clock.now, manage_database=False, run_jobs=False)
        transport = httpx.ASGITransport(app=asgi)
        async with (
            asgi.router.lifespan_context(asgi),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            app = AppClient(client=client, settings=settings, clock=clock)
            yield World(sandbox, app, asgi.state.tiktok, seller, new_shop, clock, key)


@pytest.fixture
async def world(database: str, clock: Clock) -> AsyncIterator[World]:
    async with world_for(database, clock) as built:
        yield built


async def nothing_connected(world: World) -> None:
    assert not await Shop.filter(shop_id=world.new_shop).exists()
    old = await Shop.get(shop_id=world.seller.shop_id)
    assert (old.access_token, old.shop_cipher, old.name) == (None, None, world.seller.shop_name)


async def test_a_seller_connects_their_shops_and_a_decision_goes_out_with_the_cipher(
    world: World,
) -> None:
    return_id = unique_id()
    world.sandbox.put_return(
        world.new_shop,
        {"return_id": return_id, "order_id": unique_id(), "return_type": "REFUND"},
    )
    url = await world.authorization_url()

    page = await world.callback(await world.click_authorize(url))
    await world.link.syncs.idle()

    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Blue Mugs" in page.text and "Renamed on TikTok" in page.text
    new = await Shop.get(shop_id=world.new_shop).select_related("seller")
    old = await Shop.get(shop_id=world.seller.shop_id)
    assert (new.seller.name, new.name, new.region, new.shop_cipher) == (
        world.seller.name,
        "Blue Mugs",
        "ID",
        NEW_SHOP_CIPHER,
    )
    assert (old.name, old.region, old.shop_cipher) == ("Renamed on TikTok", "MY", OLD_SHOP_CIPHER)
    granted = world.sandbox.shops[world.new_shop]
    assert new.access_token is not None and granted.access_token not in new.access_token
    vault = Vault([world.key])
    assert vault.decrypt(new.access_token) == granted.access_token
    assert old.refresh_token is not None
    assert vault.decrypt(old.refresh_token) == granted.refresh_token  # one pair, both shops
    for secret in (granted.access_token, granted.refresh_token, "SBXCODE_"):
        assert secret not in page.text
    sale = await AfterSale.get(return_id=return_id)

    await seller_commands.decide(
        await seller_id_of(world.seller),
        sale.id,
        Decision(SellerAction.ACCEPT_REFUND),
        now=world.clock.now(),
        windows=WINDOWS,
        push=True,
    )
    await dispatch.dispatch(world.link)

    pushed = [c for c in world.sandbox.calls if c.path.endswith(f"/{return_id}/approve")]
    assert len(pushed) == 1
    assert (pushed[0].query["shop_cipher"], pushed[0].code) == (NEW_SHOP_CIPHER, 0)


async def test_each_state_works_once(world: World) -> None:
    url = await world.authorization_url()
    callback = await world.click_authorize(url, world.new_shop)
    assert (await world.callback(callback)).status_code == 200
    state = parse_qs(urlsplit(callback).query)["state"][0]
    again = await world.click_authorize(url, world.new_shop)  # a new code, the same state

    replayed = await world.callback(callback)
    second = await world.callback(again)

    assert replayed.status_code == second.status_code == 400
    assert "used" in second.text and state not in second.text
    assert world.token_gets() == 1


async def test_several_states_may_be_outstanding(world: World) -> None:
    first, second = await world.authorization_url(), await world.authorization_url()

    later = await world.callback(await world.click_authorize(second, world.new_shop))
    earlier = await world.callback(await world.click_authorize(first, world.new_shop))

    assert (later.status_code, earlier.status_code) == (200, 200)


async def test_an_expired_state_changes_nothing(world: World) -> None:
    callback = await world.click_authorize(await world.authorization_url())
    world.clock.advance(minutes=30)

    page = await world.callback(callback)

    assert page.status_code == 400 and "expired" in page.text
    assert world.token_gets() == 0
    await nothing_connected(world)


@pytest.mark.parametrize(
    "query", ["?code=abc&state=not-ours", "?code=abc", "", "?state=" + "x" * 300]
)
async def test_a_missing_or_unknown_state_changes_nothing(world: World, query: str) -> None:
    page = await world.app.client.get("/oauth/tiktok/callback" + query)

    assert page.status_code == 400
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert world.token_gets() == 0
    await nothing_connected(world)


async def test_a_code_tiktok_refuses_uses_up_the_state_and_changes_nothing(world: World) -> None:
    callback = await world.click_authorize(await world.authorization_url())
    query = parse_qs(urlsplit(callback).query)
    forged = f"{CALLBACK}?code=SBXCODE_forged&state={query['state'][0]}"

    refused = await world.callback(forged)
    retried = await world.callback(callback)

    assert refused.status_code == 502
    assert "36004004" in refused.text and "SBXCODE_forged" not in refused.text
    assert retried.status_code == 400
    await nothing_connected(world)


async def test_get_authorized_shops_failing_changes_nothing(world: World) -> None:
    callback = await world.click_authorize(await world.authorization_url())
    world.sandbox.fail("/authorization/202309/shops", Fault.code(36009004, "Invalid token"))

    page = await world.callback(callback)

    assert page.status_code == 502 and "Get Authorized Shops" in page.text
    assert "36009004" in page.text
    for token in {s.access_token for s in world.sandbox.shops.values()}:
        assert token not in page.text
    await nothing_connected(world)


async def test_a_shop_of_another_seller_registers_nothing(world: World) -> None:
    taken = unique_id()
    await accounts.add_shop("someone else", taken, "ID", "Their shop <b>")
    world.sandbox.add_shop(
        taken, cipher="ROW_theirs", access_token="---", refresh_token="---", name="<b>Theirs</b>"
    )

    page = await world.callback(await world.click_authorize(await world.authorization_url()))

    assert page.status_code == 409
    assert taken in page.text and "<b>" not in page.text
    await nothing_connected(world)
    theirs = await Shop.get(shop_id=taken).select_related("seller")
    assert (theirs.seller.name, theirs.access_token, theirs.shop_cipher) == (
        "someone else",
        None,
        None,
    )


async def test_the_callback_says_what_to_set_when_tiktok_is_not_configured(
    database: str, clock: Clock
) -> None:
    async with world_for(database, clock, TIKTOK_API_BASE_URL="") as world:
        url = await world.authorization_url()
        page = await world.callback(await world.click_authorize(url))

    assert page.status_code == 503
    assert "TIKTOK_API_BASE_URL" in page.text
    assert await OAuthState.filter(used_at__isnull=False).count() == 0


async def test_the_state_is_stored_hashed_bound_to_the_seller_and_region(world: World) -> None:
    url = await world.authorization_url("us")

    state = parse_qs(urlsplit(url).query)["state"][0]
    stored = await OAuthState.get(state_hash=hashlib.sha256(state.encode()).hexdigest())
    assert stored.seller_id == await seller_id_of(world.seller)  # type: ignore[attr-defined]
    assert stored.region == "US"
    assert (stored.expires_at - stored.created_at).total_seconds() == 30 * 60
    assert not await OAuthState.filter(state_hash=state).exists()
