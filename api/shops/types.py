"""A seller's TikTok shop, as GraphQL shows it."""

from __future__ import annotations

import strawberry

from aftersales.store.records import ShopRecord


@strawberry.type
class Shop:
    shop_id: str
    region: str
    name: str

    @classmethod
    def of(cls, record: ShopRecord) -> Shop:
        return cls(shop_id=record.shop_id, region=record.region, name=record.name)
