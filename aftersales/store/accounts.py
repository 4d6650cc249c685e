"""Persistence of sellers, shops and tokens."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from aftersales.domain import Conflict, NotFound
from aftersales.store.models import ApiToken, Seller, Shop


async def add_shop(
    seller_name: str,
    shop_id: str,
    region: str,
    name: str,
    *,
    access_token: str | None,
    shop_cipher: str | None,
) -> tuple[int, bool]:
    async with in_transaction("default") as conn:
        existing = (
            await Shop.filter(shop_id=shop_id).using_db(conn).select_related("seller").first()
        )
        if existing is not None:
            raise Conflict(
                f"shop {shop_id} is already registered to seller {existing.seller.name!r}",
                field="shop_id",
            )
        seller, created = await Seller.get_or_create(name=seller_name, using_db=conn)
        try:
            await Shop.create(
                using_db=conn,
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


async def add_token(seller_name: str, token_hash: str) -> None:
    seller = await Seller.filter(name=seller_name).first()
    if seller is None:
        raise NotFound(
            f"no seller named {seller_name!r}; register a shop for it first"
            " with `aftersales shops add`",
            field="seller",
        )
    await ApiToken.create(seller_id=seller.id, token_hash=token_hash)


async def seller_for_token(token_hash: str) -> int | None:
    token = await ApiToken.filter(token_hash=token_hash, revoked_at=None).first()
    return token.seller_id if token is not None else None  # type: ignore[attr-defined]
