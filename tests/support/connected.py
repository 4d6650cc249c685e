"""A seller's shop connected to the stand-in TikTok over real loopback HTTP, and the service
serving its webhooks over real HTTP too (the sandbox posts types 6, 7 and 12 to it): what the
connection tests share (tests/integration/test_shop_connection.py, test_shops_check.py)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from cryptography.fernet import Fernet

from aftersales.commands import seller as seller_commands
from aftersales.commands.credentials import CredentialsGiven, set_shop_credentials
from aftersales.commands.seller import Decision
from aftersales.domain.model import SellerAction
from aftersales.settings import load_settings
from aftersales.store.credentials import Vault
from aftersales.store.models import AfterSale, Shop
from aftersales.tiktok import imports
from aftersales.tiktok.client import TikTokClient
from aftersales.tiktok.link import Link
from api.app import create_app
from devtools.sandbox import Sandbox
from tests.support.builders import WINDOWS, Seller, make_seller, seller_id_of, unique_id
from tests.support.clock import Clock
from tests.support.door import write
from tests.support.sandbox import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    CIPHER,
    REFRESH_TOKEN,
    serving,
    serving_sandbox,
)
from webhooks.signing import tiktok_signature

credentials = write("credentials")

SHOPS = """
query { shops { shopId connection authorizationExpiresAt syncError } }
"""
NEW_ACCESS = "TTP_new-access-token-after-reconnect"
NEW_REFRESH = "TTP_new-refresh-token-after-reconnect"


@dataclass
class World:
    sandbox: Sandbox
    link: Link
    seller: Seller
    seller_id: int
    shop_pk: int
    clock: Clock
    vault: Vault
    service: httpx.AsyncClient  # the service, over real HTTP
    settings: Any

    def put(self, status: str = "RETURN_OR_REFUND_REQUEST_PENDING") -> str:
        return_id = unique_id()
        self.sandbox.put_return(
            self.seller.shop_id,
            {"return_id": return_id, "return_type": "RETURN_AND_REFUND", "return_status": status},
        )
        return return_id

    async def imported(self, return_id: str) -> int:
        creds = await self.link.shop(self.shop_pk)
        assert creds is not None
        await imports.fetch(self.link, creds, return_id)
        found = await AfterSale.get(return_id=return_id)
        return found.id

    async def accept(self, sale_id: int) -> None:
        await seller_commands.decide(
            self.seller_id,
            sale_id,
            Decision(SellerAction.ACCEPT_RETURN),
            now=self.clock.now(),
            windows=WINDOWS,
            push=True,
        )

    async def shop(self) -> dict[str, Any]:
        response = await self.service.post(
            "/graphql",
            json={"query": SHOPS},
            headers={"Authorization": f"Bearer {self.seller.token}"},
        )
        assert response.status_code == 200, response.text
        [shop] = response.json()["data"]["shops"]
        return shop  # type: ignore[no-any-return]

    async def post_webhook(self, body: bytes) -> int:
        signature = tiktok_signature(APP_KEY, APP_SECRET, body)
        response = await self.service.post(
            "/webhooks/tiktok",
            content=body,
            headers={"Authorization": signature, "Content-Type": "application/json"},
        )
        return response.status_code

    async def reconnect(self) -> None:
        """The seller authorizes the app again; `shops credentials` stores the new tokens."""
        self.sandbox.add_shop(
            self.seller.shop_id, cipher=CIPHER, access_token=NEW_ACCESS, refresh_token=NEW_REFRESH
        )
        given = CredentialsGiven(access_token=NEW_ACCESS, refresh_token=NEW_REFRESH)
        await set_shop_credentials(self.vault, self.seller.shop_id, given, now=self.clock.now())

    def decisions(self) -> list[Any]:
        return [c for c in self.sandbox.calls if c.path.endswith(("/approve", "/reject"))]


async def connected_world(database: str, clock: Clock) -> AsyncIterator[World]:
    """The world, for a fixture to yield from (`async for world in connected_world(...)`)."""
    sandbox = Sandbox(APP_KEY, APP_SECRET)
    seller = await make_seller(region="ID")
    sandbox.add_shop(
        seller.shop_id, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN
    )
    key = Fernet.generate_key().decode()
    vault = Vault([key])
    await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        shop_cipher=CIPHER,
        access_token_expires_at=clock.now() + timedelta(days=7),
        refresh_token_expires_at=clock.now() + timedelta(days=90),
        now=clock.now(),
    )
    shop = await Shop.get(shop_id=seller.shop_id)
    async with serving_sandbox(sandbox) as base_url:
        settings = load_settings(
            {
                "DATABASE_URL": database,
                "TIKTOK_APP_KEY": APP_KEY,
                "TIKTOK_APP_SECRET": APP_SECRET,
                "LOGISTICS_WEBHOOK_SECRET": "test-logistics-secret",
                "TIKTOK_API_BASE_URL": base_url,
                "TIKTOK_AUTH_BASE_URL": base_url,
                "AFTERSALES_SECRET_KEY": key,
            }
        )
        service_app = create_app(settings, clock=clock.now, manage_database=False, run_jobs=False)
        async with serving(service_app) as service_url:
            sandbox.webhook_url = service_url + "/webhooks/tiktok"
            client = TikTokClient(
                base_url=base_url,
                auth_base_url=base_url,
                app_key=APP_KEY,
                app_secret=APP_SECRET,
                timeout=2.0,
                max_retries=0,
            )
            link = Link(client=client, vault=vault, windows=WINDOWS, clock=clock.now)
            async with httpx.AsyncClient(base_url=service_url) as service:
                try:
                    yield World(
                        sandbox,
                        link,
                        seller,
                        await seller_id_of(seller),
                        shop.id,
                        clock,
                        vault,
                        service,
                        settings,
                    )
                finally:
                    await link.aclose()


def type_12(shop_id: str, return_id: str) -> bytes:
    """A thin type-12 report of a new return, as TikTok pushes it."""
    now = int(time.time())
    return json.dumps(
        {
            "type": 12,
            "tts_notification_id": unique_id(),
            "shop_id": shop_id,
            "timestamp": now,
            "data": {
                "order_id": unique_id(),
                "return_id": return_id,
                "return_role": "BUYER",
                "return_type": "RETURN_AND_REFUND",
                "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
                "create_time": now,
                "update_time": now,
            },
        }
    ).encode()


async def deauthorized(world: World) -> None:
    """The seller revokes the app on TikTok: its type-6 webhook reaches the service."""
    world.sandbox.deauthorize(world.seller.shop_id)
    await world.sandbox.wait_for_webhooks()
    assert [push.status for push in world.sandbox.webhooks] == [200]
