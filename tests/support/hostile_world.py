"""Two shops of two sellers, both syncing with a hostile TikTok API (tests/support/
hostile_tiktok.py) served over real loopback HTTP, and the Link that talks to it: a client
with a 2 s deadline per call, a 1 MiB cap per answer and no retries of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from cryptography.fernet import Fernet

from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.model import SellerAction
from aftersales.store.credentials import ShopCredentials, Vault
from aftersales.store.models import AfterSale, Shop
from aftersales.tiktok import imports
from aftersales.tiktok.client import TikTokClient
from aftersales.tiktok.link import Link
from tests.support.builders import WINDOWS, Seller, make_seller, seller_id_of, unique_id
from tests.support.clock import Clock
from tests.support.door import write
from tests.support.hostile_tiktok import Hostile, return_object
from tests.support.sandbox import serving

credentials = write("credentials")  # each call in a unit of work of its own


@dataclass
class Side:
    seller: Seller
    seller_id: int
    shop_pk: int
    cipher: str


@dataclass
class World:
    api: Hostile  # what TikTok answers: its rules and returns
    link: Link
    clock: Clock
    a: Side
    b: Side
    base_url: str
    key: str  # AFTERSALES_SECRET_KEY of both shops' credentials

    async def creds(self, side: Side) -> ShopCredentials:
        found = await self.link.shop(side.shop_pk)
        assert found is not None
        return found

    def put(self, side: Side, return_id: str | None = None) -> str:
        return_id = return_id or unique_id()
        self.api.returns.setdefault(side.cipher, []).append(return_object(return_id))
        return return_id

    async def decided(self, side: Side, return_id: str | None = None) -> str:
        """A return imported and accepted by the seller: its decision is queued."""
        return_id = self.put(side, return_id)
        await imports.fetch(self.link, await self.creds(side), return_id)
        sale = await AfterSale.get(return_id=return_id)
        await seller_commands.decide(
            side.seller_id,
            sale.id,
            Decision(SellerAction.ACCEPT_REFUND),
            now=self.clock.now(),
            windows=WINDOWS,
            push=True,
        )
        return return_id


async def _side(vault: Vault, clock: Clock, cipher: str) -> Side:
    seller = await make_seller(region="ID")
    await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token=f"TTP_{cipher}",
        refresh_token=f"TTP_{cipher}_refresh",
        shop_cipher=cipher,
        now=clock.now(),
    )
    shop = await Shop.get(shop_id=seller.shop_id)
    return Side(seller, await seller_id_of(seller), shop.id, cipher)


async def hostile_world(clock: Clock) -> AsyncIterator[World]:
    key = Fernet.generate_key().decode()
    vault = Vault([key])
    a = await _side(vault, clock, "ciphA")
    b = await _side(vault, clock, "ciphB")
    hostile = Hostile()
    async with serving(hostile.app) as base_url:
        client = TikTokClient(
            base_url=base_url,
            auth_base_url=base_url,
            app_key="hostile-app-key",
            app_secret="hostile-app-secret",
            timeout=1.0,
            deadline=2.0,
            max_body=1024 * 1024,
            max_retries=0,
        )
        link = Link(client=client, vault=vault, windows=WINDOWS, clock=clock.now)
        try:
            yield World(hostile, link, clock, a, b, base_url, key)
        finally:
            await link.aclose()
