"""Sellers, their shops and their API tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from aftersales.domain.errors import Conflict, NotFound
from aftersales.domain.model import AfterSaleType
from aftersales.store.models import ApiToken, Seller, Shop
from aftersales.store.records import ShopRecord
from aftersales.store.rows import when_or_none
from aftersales.store.sql import Connection, for_dialect


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

    async def connect(self, seller_id: int, shop_id: str, region: str, name: str) -> bool:
        """Register a shop an authorization covers for the seller, or update its region and
        name: whether it is new. `Conflict` naming the shop when another seller has it."""
        existing = (
            await Shop.filter(shop_id=shop_id).using_db(self._conn).select_related("seller").first()
        )
        if existing is not None and existing.seller.id != seller_id:
            raise Conflict(
                f"shop {shop_id} is already registered to another seller", field="shop_id"
            )
        if existing is not None:
            await Shop.filter(id=existing.id).using_db(self._conn).update(region=region, name=name)
            return False
        try:
            await Shop.create(
                using_db=self._conn, seller_id=seller_id, shop_id=shop_id, region=region, name=name
            )
        except IntegrityError:
            raise Conflict(
                f"shop {shop_id} is already registered to another seller", field="shop_id"
            ) from None
        return True

    async def set_locale(self, shop_id: str, locale: str | None) -> bool:
        """The language TikTok's texts are asked in for the shop (None: its region's); False:
        no shop with this shop_id."""
        return bool(await Shop.filter(shop_id=shop_id).using_db(self._conn).update(locale=locale))

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

    async def token_used(self, token_id: int, at: datetime, *, unless_since: datetime) -> None:
        """Record a use of the token at `at`, unless one since `unless_since` is recorded
        already: conditional, so that concurrent requests of one token write it once."""
        await (
            ApiToken.filter(Q(last_used_at=None) | Q(last_used_at__lte=unless_since), id=token_id)
            .using_db(self._conn)
            .update(last_used_at=at)
        )

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


@dataclass(frozen=True)
class TokenUse:
    """What authenticating with a token needs to know of it."""

    id: int
    seller_id: int
    expires_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class ShopOverview:
    shop: ShopRecord
    seller: str
    after_sales: dict[AfterSaleType, int]  # by type; types without any are left out


# Every authenticated request looks its token up: written out, since Tortoise's query builder
# took longer to build the statement than the database to run it. Never cached across requests:
# a revoked token stops working at once.
_TOKEN = (
    'SELECT "id", "seller_id", "expires_at", "last_used_at" FROM "api_token"'
    ' WHERE "token_hash" = ? AND "revoked_at" IS NULL'
)

_OVERVIEW = """
SELECT s.id, s.shop_id, s.region, s.name, se.name AS seller, a.type, count(a.id) AS n
FROM shop AS s
JOIN seller AS se ON se.id = s.seller_id
LEFT JOIN after_sale AS a ON a.shop_id = s.id
GROUP BY s.id, s.shop_id, s.region, s.name, se.name, a.type
ORDER BY se.name, s.shop_id
"""


class ShopReads:
    """Sellers, shops and tokens on the read handle (`reading()` in aftersales/store/uow.py)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def token(self, token_hash: str) -> TokenUse | None:
        """The unrevoked token with this hash (its expiry is the caller's to check)."""
        _, found = await self._conn.execute_query(for_dialect(self._conn, _TOKEN), [token_hash])
        if not found:
            return None
        token_id, seller_id, expires_at, last_used_at = tuple(found[0])
        return TokenUse(token_id, seller_id, when_or_none(expires_at), when_or_none(last_used_at))

    async def shops_of(self, seller_id: int) -> list[ShopRecord]:
        query = Shop.filter(seller_id=seller_id).using_db(self._conn).order_by("shop_id")
        return [shop_record(s) for s in await query]

    async def sync_errors_by_shop(self, ids: Sequence[int]) -> dict[int, list[str]]:
        """Why each shop's last sync failed (`shop.sync_error`), for the shops that have one."""
        found = (
            await Shop.filter(id__in=list(ids), sync_error__isnull=False)
            .using_db(self._conn)
            .only("id", "sync_error")
        )
        return {row.id: [row.sync_error or ""] for row in found}

    async def failing_shops(self) -> list[tuple[str, str]]:
        """`(shop_id, sync_error)` of each shop whose last sync failed, by shop id."""
        found = (
            await Shop.filter(sync_error__isnull=False)
            .using_db(self._conn)
            .order_by("shop_id")
            .only("shop_id", "sync_error")
        )
        return [(row.shop_id, row.sync_error or "") for row in found]

    async def overview(self) -> list[ShopOverview]:
        """Every shop with its seller and how many after-sales of each type it has."""
        _, found = await self._conn.execute_query(_OVERVIEW)
        shops: dict[int, ShopOverview] = {}
        for row in found:
            entry = shops.get(row["id"])
            if entry is None:
                record = ShopRecord(row["id"], row["shop_id"], row["region"], row["name"])
                entry = shops[row["id"]] = ShopOverview(record, row["seller"], {})
            if row["type"] is not None:
                entry.after_sales[AfterSaleType(row["type"])] = int(row["n"])
        return list(shops.values())
