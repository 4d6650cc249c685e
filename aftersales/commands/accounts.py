"""Sellers, their shops and their API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from aftersales.domain.errors import Invalid
from aftersales.store import accounts as store
from aftersales.store.uow import uow

TOKEN_PREFIX = "as_"
_SHOP_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_REGION = re.compile(r"^[A-Z]{2}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredShop:
    seller_id: int
    seller_created: bool
    shop_id: str
    region: str
    name: str


async def add_shop(
    seller_name: str,
    shop_id: str,
    region: str,
    name: str | None = None,
    *,
    access_token: str | None = None,
    shop_cipher: str | None = None,
) -> RegisteredShop:
    """Register a TikTok shop for a seller, creating the seller when new."""
    seller_name = seller_name.strip()
    region = region.strip().upper()
    shop_id = shop_id.strip()
    if not seller_name:
        raise Invalid("the seller name is empty", field="seller")
    if not _SHOP_ID.match(shop_id):
        raise Invalid(f"shop id {shop_id!r} is not a TikTok shop id", field="shop_id")
    if not _REGION.match(region):
        raise Invalid(
            f"region {region!r} must be a two-letter ISO code such as ID or MY", field="region"
        )
    shop_name = (name or "").strip() or f"Shop {shop_id}"
    async with uow() as tx:
        seller_id, created = await tx.shops.register(
            seller_name,
            shop_id,
            region,
            shop_name,
            access_token=access_token,
            shop_cipher=shop_cipher,
        )
    return RegisteredShop(seller_id, created, shop_id, region, shop_name)


async def create_token(seller_name: str) -> str:
    """A new bearer token for an existing seller; only its hash is stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with uow() as tx:
        await tx.shops.add_token(seller_name.strip(), hash_token(token))
    return token


async def authenticate(token: str) -> int | None:
    """The seller id owning `token`, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    return await store.seller_for_token(hash_token(token))


async def list_shops() -> list[store.ShopOverview]:
    """Every shop, by seller, with its after-sales counted by type."""
    return await store.overview()
