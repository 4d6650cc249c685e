"""Sellers, their shops and their API tokens."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections
from tortoise.exceptions import IntegrityError

from aftersales.domain.errors import Conflict, NotFound
from aftersales.domain.model import AfterSaleType
from aftersales.store.models import ApiToken, Seller, Shop
from aftersales.store.records import ShopRecord
from aftersales.store.sql import Connection


def shop_record(row: Shop) -> ShopRecord:
    return ShopRecord(id=row.id, shop_id=row.shop_id, region=row.region, name=row.name)


class Shops:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def by_shop_id(self, shop_id: str) -> ShopRecord | None:
        """The shop with this TikTok shop_id, or None when it is not registered (yet)."""
        row = await Shop.filter(shop_id=shop_id).using_db(self._conn).first()
        return shop_record(row) if row is not None else None

    async def register(
        self,
        seller_name: str,
        shop_id: str,
        region: str,
        name: str,
        *,
        access_token: str | None,
        shop_cipher: str | None,
    ) -> tuple[int, bool]:
        """Add the shop to the seller, creating the seller when new: (seller id, created)."""
        existing = (
            await Shop.filter(shop_id=shop_id).using_db(self._conn).select_related("seller").first()
        )
        if existing is not None:
            raise Conflict(
                f"shop {shop_id} is already registered to seller {existing.seller.name!r}",
                field="shop_id",
            )
        seller, created = await Seller.get_or_create(name=seller_name, using_db=self._conn)
        try:
            await Shop.create(
                using_db=self._conn,
                seller_id=seller.id,
                shop_id=shop_id,
                region=region,
                name=name,
                access_token=access_token,
                shop_cipher=shop_cipher,
            )
        except IntegrityError:
            raise Conflict(f"shop {shop_id} is already registered", field="shop_id") from None
        return seller.id, created

    async def add_token(self, seller_name: str, token_hash: str) -> None:
        seller = await Seller.filter(name=seller_name).using_db(self._conn).first()
        if seller is None:
            raise NotFound(
                f"no seller named {seller_name!r}; register a shop for it first"
                " with `aftersales shops add`",
                field="seller",
            )
        await ApiToken.create(using_db=self._conn, seller_id=seller.id, token_hash=token_hash)


async def seller_for_token(token_hash: str) -> int | None:
    """The seller owning the token with this hash, unless it was revoked."""
    found = await ApiToken.filter(token_hash=token_hash, revoked_at=None).values("seller_id")
    return int(found[0]["seller_id"]) if found else None


@dataclass(frozen=True)
class ShopOverview:
    shop: ShopRecord
    seller: str
    after_sales: dict[AfterSaleType, int]  # by type; types without any are left out


_OVERVIEW = """
SELECT s.id, s.shop_id, s.region, s.name, se.name AS seller, a.type, count(a.id) AS n
FROM shop AS s
JOIN seller AS se ON se.id = s.seller_id
LEFT JOIN after_sale AS a ON a.shop_id = s.id
GROUP BY s.id, s.shop_id, s.region, s.name, se.name, a.type
ORDER BY se.name, s.shop_id
"""


async def overview() -> list[ShopOverview]:
    """Every shop with its seller and how many after-sales of each type it has."""
    _, found = await connections.get("default").execute_query(_OVERVIEW)
    shops: dict[int, ShopOverview] = {}
    for row in found:
        entry = shops.get(row["id"])
        if entry is None:
            record = ShopRecord(row["id"], row["shop_id"], row["region"], row["name"])
            entry = shops[row["id"]] = ShopOverview(record, row["seller"], {})
        if row["type"] is not None:
            entry.after_sales[AfterSaleType(row["type"])] = int(row["n"])
    return list(shops.values())
