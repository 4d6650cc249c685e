"""A seller's TikTok shop, as GraphQL shows it."""

from __future__ import annotations

import strawberry

from aftersales.store.records import ShopRecord
from api.context import Info


@strawberry.type
class Shop:
    shop_id: str
    region: str
    name: str
    pk: strawberry.Private[int]

    @strawberry.field(
        description=(
            "Why the shop's last poll, import or credential read failed (TikTok's code and"
            " message, at most 1,000 characters); null when it went through."
        )
    )
    async def sync_error(self, info: Info) -> str | None:
        found = await info.context.loaders.sync_errors.load(self.pk)
        return found[0] if found else None

    @classmethod
    def of(cls, record: ShopRecord) -> Shop:
        return cls(shop_id=record.shop_id, region=record.region, name=record.name, pk=record.id)
