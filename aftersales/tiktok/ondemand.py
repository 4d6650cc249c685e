"""Import a shop's returns from TikTok now: one use case, two ways in (it sits with the TikTok
tasks rather than in aftersales/commands, which the layers keep below them). `aftersales sync` runs
it in the foreground and prints what it imported; `syncShop` queues it (aftersales/tiktok/
queue.py) and answers at once. Both check the same things and fail the same way:

- `since` needs a time zone, must fall in the years 1970 to 9999 (UTC), and not in the future
  (`Invalid`);
- the shop must exist (the seller's own, through the API: `NotFound`) and sync with TikTok
  (`Invalid`);
- one import of a shop at a time (`AlreadyRunning`), and through the API a seller starts at most
  a few within ten minutes (`RateLimited`);
- TikTok's refusal is `TikTokRefused`, with its code and message.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aftersales.domain.connection import connection
from aftersales.domain.errors import AlreadyRunning, Invalid, NotFound, RateLimited, TikTokRefused
from aftersales.store.credentials import CredentialsError, ShopCredentials
from aftersales.store.uow import reading, uow
from aftersales.tiktok import imports, queue
from aftersales.tiktok.client import TikTokError
from aftersales.tiktok.link import Link

log = logging.getLogger("aftersales.tiktok")

FIRST_YEAR, LAST_YEAR = 1970, 9999


async def run(
    link: Link | None, shop_id: str, *, since: datetime | None, now: datetime
) -> imports.ImportRun:
    """Import now, in the foreground (`aftersales sync`)."""
    link, creds = await _prepare(link, shop_id, since=since, now=now, seller_id=None)
    try:
        return await imports.sync_shop(link, creds, since=since)
    except imports.SyncBusy as exc:
        raise AlreadyRunning(f"{exc}: try again when it has finished", field="shopId") from None
    except TikTokError as exc:
        raise TikTokRefused(exc.describe()) from None


async def start(
    link: Link | None, seller_id: int, shop_id: str, *, since: datetime | None, now: datetime
) -> None:
    """Queue the import of one of the seller's shops and return at once (`syncShop`)."""
    link, creds = await _prepare(link, shop_id, since=since, now=now, seller_id=seller_id)
    async with uow() as tx:
        leased = await tx.polls.poll_leased(creds.shop_pk, now=now)
    if link.syncs.busy(creds.shop_pk) or leased:
        raise AlreadyRunning(
            f"an import of shop {creds.shop_id} is queued or running", field="shopId"
        )
    try:
        link.syncs.start(
            creds.shop_pk, seller_id, lambda: _in_background(link, creds, since), now=now
        )
    except queue.TooMany:
        raise RateLimited(
            f"at most {queue.STARTS_PER_SELLER} imports in {queue.STARTS_WINDOW}: try later"
        ) from None


async def _in_background(link: Link, creds: ShopCredentials, since: datetime | None) -> None:
    try:
        done = await imports.sync_shop(link, creds, since=since)
    except imports.SyncBusy:
        log.info("on-demand import of shop %s skipped: another is running", creds.shop_id)
    except Exception as exc:  # recorded on the shop by sync_shop
        log.warning("on-demand import of shop %s failed: %s", creds.shop_id, imports.describe(exc))
    else:
        log.info("on-demand import of shop %s: %s", creds.shop_id, done.summary())


async def _prepare(
    link: Link | None,
    shop_id: str,
    *,
    since: datetime | None,
    now: datetime,
    seller_id: int | None,
) -> tuple[Link, ShopCredentials]:
    _check_since(since, now)
    shop_id = shop_id.strip()
    if seller_id is not None:
        async with reading() as r:
            shops = await r.shops.shops_of(seller_id)
        shop = next((s for s in shops if s.shop_id == shop_id), None)
    else:
        async with uow() as tx:
            shop = await tx.shops.by_shop_id(shop_id)
    if shop is None:
        raise NotFound(
            "no shop of yours with this shopId"
            if seller_id is not None
            else f"no shop {shop_id} (see `aftersales shops list`)",
            field="shopId",
        )
    try:
        creds = await link.shop(shop.id) if link is not None else None
    except CredentialsError as exc:
        raise Invalid(str(exc), field="shopId") from None
    if link is None:
        raise Invalid(
            f"shop {shop.shop_id} does not sync with TikTok: TikTok sync is off here"
            " (TIKTOK_API_BASE_URL is not set)",
            field="shopId",
        )
    if creds is None:
        async with reading() as r:
            facts = await r.authorizations.facts_of(shop.shop_id)
        why = (
            connection(facts, sync_configured=True, now=link.clock()).why
            if facts is not None
            else "no TikTok credentials"
        )
        raise Invalid(f"shop {shop.shop_id} does not sync: {why}", field="shopId")
    return link, creds


def _check_since(since: datetime | None, now: datetime) -> None:
    if since is None:
        return
    if since.tzinfo is None:
        raise Invalid("since needs a time zone (e.g. 2026-11-01T00:00:00Z)", field="since")
    try:
        utc = since.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is in year 0 in UTC
        utc = None
    if utc is None or not FIRST_YEAR <= utc.year <= LAST_YEAR:
        raise Invalid(
            f"since must be a time in the years {FIRST_YEAR} to {LAST_YEAR} (UTC)", field="since"
        )
    if utc > now:
        raise Invalid("since is in the future: nothing was updated then yet", field="since")
