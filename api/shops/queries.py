"""`shops`: the caller's TikTok shops."""

from __future__ import annotations

import strawberry

from aftersales.store import queries
from api.context import Info
from api.shops.types import Shop


@strawberry.type
class ShopQuery:
    @strawberry.field
    async def shops(self, info: Info) -> list[Shop]:
        return [Shop.of(s) for s in await queries.shops_of(info.context.seller_id)]
