"""`retrySync` and `syncShop` (docs/tiktok-sync.md)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime

import strawberry

from aftersales.commands import seller
from aftersales.domain.errors import AlreadyRunning, Invalid, NotFound, RateLimited
from aftersales.tiktok import ondemand
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
        description=(
            "Import returns updated since then (not in the future; years 1970 to 9999);"
            " default: since the last poll."
        ),
    )


@strawberry.type
class SyncShopPayload:
    started: bool = strawberry.field(
        description=(
            "Whether the import was queued. It runs in the background; `shops { syncError }`"
            " says why it failed, if it did."
        )
    )
    user_errors: list[UserError]


@strawberry.type
class SyncMutation:
    retry_sync = RETRY_SYNC.field()

    @strawberry.mutation(
        description=(
            "Import the shop's returns from TikTok (a Sync button, or a first backfill with"
            " `since`), through the same path as webhooks. Answers at once: the import is"
            " queued. ALREADY_RUNNING while an import of the shop is queued or running,"
            " RATE_LIMITED after 10 imports in 10 minutes."
        )
    )
    async def sync_shop(self, info: Info, input: SyncShopInput) -> SyncShopPayload:
        ctx = info.context
        try:
            await ondemand.start(
                ctx.link, ctx.seller_id, input.shop_id, since=input.since, now=ctx.clock()
            )
        except (Invalid, NotFound, AlreadyRunning, RateLimited) as exc:
            return SyncShopPayload(started=False, user_errors=[user_error(exc)])
        return SyncShopPayload(started=True, user_errors=[])
