"""`shops`: the caller's TikTok shops."""

from __future__ import annotations

import strawberry

from aftersales.store.uow import reading
from api.context import Info
from api.shops.types import Shop


@strawberry.type
class ShopQuery:
    @strawberry.field
    async def shops(self, info: Info) -> list[Shop]:
        async with reading() as r:
            return [Shop.of(s) for s in await r.shops.shops_of(info.context.seller_id)]
