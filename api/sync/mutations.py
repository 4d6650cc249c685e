"""`retrySync` and `syncShop` (docs/tiktok-sync.md)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from aftersales.commands import seller
from aftersales.domain.errors import Invalid, NotFound, TikTokRefused
from aftersales.store.uow import reading
from aftersales.tiktok import imports
from aftersales.tiktok.client import TikTokError
from api.actions import Command, SellerMutation
from api.context import Context, Info
from api.errors import UserError, user_error
from api.sales.mutations import AfterSaleIdInput


def retry(ctx: Context, input: AfterSaleIdInput) -> Command[int]:
    def run(sale_id: int) -> Awaitable[int]:
        return seller.retry_sync(ctx.seller_id, sale_id, now=ctx.clock())

    return run


RETRY_SYNC = SellerMutation(
    retry,
    AfterSaleIdInput,
    None,
    description=(
        "Send the after-sale's last decision to TikTok again after its sync FAILED: attempts"
        " and the 24-hour retry budget start over."
    ),
)


@strawberry.input
class SyncShopInput:
    shop_id: str = strawberry.field(description="TikTok's id of one of your shops.")
    since: datetime | None = strawberry.field(
        default=None,
        description="Import returns updated since then; default: since the last poll.",
    )


@strawberry.type
class SyncShopPayload:
    returns: int = strawberry.field(description="Return objects fetched from TikTok and applied.")
    pages: int
    user_errors: list[UserError]


@strawberry.type
class SyncMutation:
    retry_sync = RETRY_SYNC.field()

    @strawberry.mutation(
        description=(
            "Import the shop's returns from TikTok now (a Sync button, or a first backfill with"
            " `since`), through the same path as webhooks."
        )
    )
    async def sync_shop(self, info: Info, input: SyncShopInput) -> SyncShopPayload:
        try:
            run = await _sync_shop(info.context, input)
        except (Invalid, NotFound, TikTokRefused) as exc:
            return SyncShopPayload(returns=0, pages=0, user_errors=[user_error(exc)])
        return SyncShopPayload(returns=run.returns, pages=run.pages, user_errors=[])


async def _sync_shop(ctx: Context, input: SyncShopInput) -> imports.ImportRun:
    async with reading() as r:
        shops = {s.shop_id: s for s in await r.shops.shops_of(ctx.seller_id)}
    shop = shops.get(input.shop_id.strip())
    if shop is None:
        raise NotFound("no shop of yours with this shopId", field="shopId")
    if input.since is not None and input.since.tzinfo is None:
        raise Invalid("since needs a time zone (e.g. 2026-11-01T00:00:00Z)", field="since")
    link = ctx.link
    creds = await link.shop(shop.id) if link is not None else None
    if link is None or creds is None:
        raise Invalid(
            "this shop does not sync with TikTok: it needs TIKTOK_API_BASE_URL and credentials"
            " (`aftersales shops credentials`)",
            field="shopId",
        )
    try:
        return await imports.sync_shop(link, creds, since=input.since)
    except TikTokError as exc:
        raise TikTokRefused(exc.describe()) from None
