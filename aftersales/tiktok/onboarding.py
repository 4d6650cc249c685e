"""Finishing to connect a shop by OAuth: what `GET /oauth/tiktok/callback?code=C&state=S` does
(docs/connecting-a-shop.md), below the route that renders its pages.

1. The state is used up, if it is known, unused and unexpired (`BadState` otherwise: nothing
   changes).
2. TikTok's auth host turns the code into a token pair (`get_token`), then Get Authorized Shops
   lists the shops the authorization covers, each with its cipher. Either refusing is
   `TikTokRefused` (the state stays used: TikTok's codes work once too).
3. In one unit of work, every shop listed is registered for the seller or updated (name, region,
   cipher) and gets the token pair, encrypted. A shop of another seller is `Conflict` naming it,
   and nothing is registered: all or nothing.
4. A first backfill of each shop (returns updated in the last 30 days) is queued.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from aftersales.commands.accounts import MAX_SHOP_CIPHER, MAX_SHOP_NAME
from aftersales.commands.authorize import hash_state
from aftersales.domain.errors import DomainError, TikTokRefused
from aftersales.domain.regions import is_region
from aftersales.store.oauth import StartedAuthorization
from aftersales.store.uow import uow
from aftersales.tiktok import ondemand
from aftersales.tiktok.client import AuthorizedShop, TikTokError, TokenGrant
from aftersales.tiktok.link import Link

log = logging.getLogger("aftersales.tiktok")

BACKFILL = timedelta(days=30)
MAX_STATE = 200  # ours are 43 characters; anything much longer is not one of ours
_SHOP_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


class BadState(DomainError):
    """The state is missing, unknown, expired or used already."""


@dataclass(frozen=True)
class ConnectedShop:
    shop_id: str
    name: str
    region: str
    created: bool  # registered just now (else updated)
    backfill: str | None  # why the first backfill was not queued; None: it was


@dataclass(frozen=True)
class Connected:
    seller: str
    shops: list[ConnectedShop]


async def complete(link: Link, *, state: str | None, code: str | None, now: datetime) -> Connected:
    """Connect the shops an authorization covers (see the module docstring)."""
    started = await _use_state(state, now)
    if not code:
        raise TikTokRefused("TikTok sent no authorization code: start again")
    try:
        grant = await link.client.get_token(code)
    except TikTokError as exc:
        raise TikTokRefused(f"TikTok refused the authorization code: {exc.describe()}") from None
    try:
        listed = await link.client.authorized_shops(grant.access_token)
    except TikTokError as exc:
        raise TikTokRefused(f"Get Authorized Shops failed: {exc.describe()}") from None
    shops = [_checked(shop) for shop in listed]
    if not shops:
        raise TikTokRefused("Get Authorized Shops listed no shop for this authorization")
    created = await _register(link, started, shops, grant, now)
    connected = [
        ConnectedShop(
            shop.shop_id,
            shop.name,
            shop.region,
            created[shop.shop_id],
            await _backfill(link, started.seller_id, shop.shop_id, now),
        )
        for shop in shops
    ]
    return Connected(started.seller, connected)


async def _use_state(state: str | None, now: datetime) -> StartedAuthorization:
    if not state:
        raise BadState("the link has no state: start again from `aftersales shops connect`")
    if len(state) > MAX_STATE:
        raise BadState("this state is not one of ours: start again")
    async with uow() as tx:
        started = await tx.oauth.use(hash_state(state), now=now)
    if started is None:
        raise BadState(
            "this authorization link is unknown, expired (they work for 30 minutes) or was used"
            " already: start again from `aftersales shops connect`"
        )
    return started


def _checked(shop: AuthorizedShop) -> AuthorizedShop:
    """A listed shop the database can hold, or `TikTokRefused` saying what is wrong with it."""
    if not _SHOP_ID.fullmatch(shop.shop_id):
        raise TikTokRefused("Get Authorized Shops listed a shop whose id is not a TikTok shop id")
    if not is_region(shop.region):
        raise TikTokRefused(f"Get Authorized Shops listed shop {shop.shop_id} in no known region")
    if len(shop.cipher) > MAX_SHOP_CIPHER:
        raise TikTokRefused(f"Get Authorized Shops gave shop {shop.shop_id} too long a cipher")
    name = shop.name.strip()[:MAX_SHOP_NAME] or f"Shop {shop.shop_id}"
    return AuthorizedShop(shop.shop_id, name, shop.region, shop.cipher)


async def _register(
    link: Link,
    started: StartedAuthorization,
    shops: list[AuthorizedShop],
    grant: TokenGrant,
    now: datetime,
) -> dict[str, bool]:
    """Every shop registered or updated with the token pair, in one unit of work: whether each
    is new. Every shop of one authorization shares its token pair."""
    created: dict[str, bool] = {}
    async with uow() as tx:
        for shop in shops:
            created[shop.shop_id] = await tx.shops.connect(
                started.seller_id, shop.shop_id, shop.region, shop.name
            )
            await tx.credentials.set_credentials(
                link.vault,
                shop.shop_id,
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                shop_cipher=shop.cipher,
                access_token_expires_at=grant.access_token_expires_at,
                refresh_token_expires_at=grant.refresh_token_expires_at,
                now=now,
            )
    return created


async def _backfill(link: Link, seller_id: int, shop_id: str, now: datetime) -> str | None:
    """Queue the first import; why it was not (the poll imports the shop anyway), or None."""
    try:
        await ondemand.start(link, seller_id, shop_id, since=now - BACKFILL, now=now)
    except DomainError as exc:
        log.warning("first backfill of shop %s not queued: %s", shop_id, exc.message)
        return exc.message
    return None
