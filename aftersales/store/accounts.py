"""Sellers, their shops and their API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

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
            )
        except IntegrityError:
            raise Conflict(f"shop {shop_id} is already registered", field="shop_id") from None
        return seller.id, created

    async def _seller(self, seller_name: str) -> Seller:
        seller = await Seller.filter(name=seller_name).using_db(self._conn).first()
        if seller is None:
            raise NotFound(
                f"no seller named {seller_name!r}; register a shop for it first"
                " with `aftersales shops add`",
                field="seller",
            )
        return seller

    async def add_token(
        self,
        seller_name: str,
        token_hash: str,
        *,
        name: str | None = None,
        expires_at: datetime | None = None,
    ) -> TokenRecord:
        seller = await self._seller(seller_name)
        row = await ApiToken.create(
            using_db=self._conn,
            seller_id=seller.id,
            token_hash=token_hash,
            name=name,
            expires_at=expires_at,
        )
        return token_record(row, seller.name)

    async def tokens_of(self, seller_name: str) -> list[TokenRecord]:
        """The seller's tokens, oldest first, revoked and expired ones included."""
        seller = await self._seller(seller_name)
        rows = await ApiToken.filter(seller_id=seller.id).using_db(self._conn).order_by("id")
        return [token_record(row, seller.name) for row in rows]

    async def revoke_token(self, token_id: int, at: datetime) -> tuple[TokenRecord, bool]:
        """Revoke the token: (the token as it is now, whether this call revoked it)."""
        query = ApiToken.filter(id=token_id).using_db(self._conn)
        revoked = await query.filter(revoked_at=None).update(revoked_at=at)
        row = await query.select_related("seller").first()
        if row is None:
            raise NotFound(f"no API token with id {token_id}", field="id")
        return token_record(row, row.seller.name), bool(revoked)


@dataclass(frozen=True)
class TokenRecord:
    """An API token as operators see it: never the token, nor its hash."""

    id: int
    seller: str
    name: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


def token_record(row: ApiToken, seller: str) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        seller=seller,
        name=row.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


# How stale `last_used_at` may get. Recording every use would turn each authenticated read into
# a write (on SQLite, one that waits for the database's single writer); this way a token costs
# at most one UPDATE a minute, and `tokens list` is still exact to the minute.
LAST_USED_RESOLUTION = timedelta(seconds=60)


async def seller_for_token(token_hash: str, now: datetime) -> int | None:
    """The seller owning the token with this hash, unless it was revoked or has expired at
    `now`. Records the use in `last_used_at` when the recorded one is a minute old or more."""
    found = await ApiToken.filter(token_hash=token_hash, revoked_at=None).values(
        "id", "seller_id", "expires_at", "last_used_at"
    )
    if not found:
        return None
    token = found[0]
    if token["expires_at"] is not None and token["expires_at"] <= now:
        return None
    stale = now - LAST_USED_RESOLUTION
    if token["last_used_at"] is None or token["last_used_at"] <= stale:
        # Conditional, so that concurrent requests of one token write it once between them.
        await ApiToken.filter(
            Q(last_used_at=None) | Q(last_used_at__lte=stale), id=token["id"]
        ).update(last_used_at=now)
    return int(token["seller_id"])


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
