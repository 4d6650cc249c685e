"""Sellers, their shops and their API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.domain import locales
from aftersales.domain.errors import Invalid, NotFound
from aftersales.domain.regions import is_region
from aftersales.store import accounts as store
from aftersales.store.accounts import TokenRecord
from aftersales.store.uow import reading, uow

TOKEN_PREFIX = "as_"
_SHOP_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
_REGION = re.compile(r"^[A-Z]{2}$")
_DURATION = re.compile(r"^([0-9]{1,9})([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

# The columns' lengths (store/models.py): longer input is refused here, with a message, instead
# of failing in the ORM.
MAX_SELLER_NAME = 200
MAX_SHOP_NAME = 200
MAX_SHOP_CIPHER = 200
MAX_TOKEN_NAME = 100
MAX_TOKEN_LIFETIME = timedelta(days=3650)
_MAX_ID = 2**31 - 1  # token ids are 32-bit
# How stale `last_used_at` may get. Recording every use would turn each authenticated read into
# a write (on SQLite, one that waits for the database's single writer); this way a token costs
# at most one UPDATE a minute, and `tokens list` is still exact to the minute.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def _within(value: str, limit: int, what: str, field: str) -> str:
    if len(value) > limit:
        raise Invalid(f"{what} is {len(value)} characters long; at most {limit}", field=field)
    return value


def _seller_name(seller_name: str) -> str:
    name = seller_name.strip()
    if not name:
        raise Invalid("the seller name is empty", field="seller")
    return _within(name, MAX_SELLER_NAME, "the seller name", "seller")


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m`, `3600s` or `2w` as a timedelta, from one second to ten years."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        raise Invalid(
            f"{text!r} is not a duration: give a whole number and a unit, such as 3600s, 90m,"
            " 12h, 30d or 2w",
            field="expires_in",
        )
    # Compared as a number first: 999999999w is past what a timedelta can hold.
    seconds = int(match[1]) * _UNITS[match[2]]
    if not 1 <= seconds <= MAX_TOKEN_LIFETIME.total_seconds():
        raise Invalid(
            f"{text!r} is out of range: from 1s to {MAX_TOKEN_LIFETIME.days}d",
            field="expires_in",
        )
    return timedelta(seconds=seconds)


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
) -> RegisteredShop:
    """Register a TikTok shop for a seller, creating the seller when new. Its TikTok
    credentials are set apart, encrypted (aftersales/store/credentials.py)."""
    seller_name = _seller_name(seller_name)
    region = region.strip().upper()
    shop_id = shop_id.strip()
    if not _SHOP_ID.match(shop_id):
        raise Invalid(f"shop id {shop_id!r} is not a TikTok shop id", field="shop_id")
    if not _REGION.match(region):
        raise Invalid(
            f"region {region!r} must be a two-letter ISO code such as ID or MY", field="region"
        )
    if not is_region(region):
        raise Invalid(
            f"region {region!r} is not an ISO 3166-1 country code (ID, MY, TH, VN, PH, SG, US,"
            " GB, ...)",
            field="region",
        )
    shop_name = _within((name or "").strip(), MAX_SHOP_NAME, "the shop name", "name")
    shop_name = shop_name or f"Shop {shop_id}"
    async with uow() as tx:
        seller_id, created = await tx.shops.register(seller_name, shop_id, region, shop_name)
    return RegisteredShop(seller_id, created, shop_id, region, shop_name)


async def set_shop_locale(shop_id: str, locale: str) -> str:
    """The language TikTok's texts are asked in for the shop (`--locale`), checked and written
    in its usual case; what was stored."""
    tag = locales.normalize(locale)
    async with uow() as tx:
        found = await tx.shops.set_locale(shop_id.strip(), tag)
    if not found:
        raise NotFound(
            f"no shop {shop_id!r}: register it first with `aftersales shops add`", field="shop_id"
        )
    return tag


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once: only its hash is stored
    record: TokenRecord


async def issue_token(
    seller_name: str, *, name: str | None = None, expires_at: datetime | None = None
) -> NewToken:
    """A new bearer token for an existing seller, optionally named and expiring at
    `expires_at` (never, by default); only its hash is stored."""
    seller_name = _seller_name(seller_name)
    label = _within((name or "").strip(), MAX_TOKEN_NAME, "the token name", "name") or None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with uow() as tx:
        record = await tx.shops.add_token(
            seller_name, hash_token(token), name=label, expires_at=expires_at
        )
    return NewToken(token, record)


async def create_token(seller_name: str) -> str:
    """A new bearer token for an existing seller, unnamed and never expiring."""
    return (await issue_token(seller_name)).token


async def list_tokens(seller_name: str) -> list[TokenRecord]:
    """The seller's tokens, oldest first, revoked and expired ones included."""
    seller_name = _seller_name(seller_name)
    async with uow() as tx:
        return await tx.shops.tokens_of(seller_name)


async def revoke_token(token_id: int, *, now: datetime) -> tuple[TokenRecord, bool]:
    """Revoke a token from `now` on: (the token, whether it was revoked just now). Revoking a
    revoked token changes nothing."""
    if not 1 <= token_id <= _MAX_ID:
        raise NotFound(f"no API token with id {token_id}", field="id")
    async with uow() as tx:
        return await tx.shops.revoke_token(token_id, now)


async def authenticate(token: str, *, now: datetime) -> int | None:
    """The seller id owning `token`, or None (unknown, revoked, or expired at `now`)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    async with reading() as r:
        found = await r.shops.token(hash_token(token))
    if found is None or (found.expires_at is not None and found.expires_at <= now):
        return None
    stale = now - LAST_USED_RESOLUTION
    if found.last_used_at is None or found.last_used_at <= stale:
        async with uow() as tx:
            await tx.shops.token_used(found.id, now, unless_since=stale)
    return found.seller_id


async def list_shops() -> list[store.ShopOverview]:
    """Every shop, by seller, with its after-sales counted by type."""
    async with reading() as r:
        return await r.shops.overview()
