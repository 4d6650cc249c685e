"""Helpers for the core's integration tests: after-sales in a given state, and what is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales import accounts
from aftersales.domain import AfterSaleStatus, AfterSaleType, ReturnStatus
from aftersales.settings import Settings
from aftersales.store import queries
from aftersales.store.models import AfterSale, Shop
from tests.support import T0, Seller, make_sale

WINDOWS = Settings().dispute_windows

PLATFORM_TYPES = {
    AfterSaleType.RETURN_AND_REFUND: "RETURN_AND_REFUND",
    AfterSaleType.REFUND_ONLY: "REFUND",
    AfterSaleType.EXCHANGE: "REPLACEMENT",
}


def platform_status_for(type_: AfterSaleType, status: AfterSaleStatus) -> str:
    """A TikTok `return_status` that puts a new after-sale of `type_` in `status`."""
    if status is AfterSaleStatus.PENDING_REQUEST:
        if type_ is AfterSaleType.EXCHANGE:
            return "REPLACEMENT_REQUEST_PENDING"
        return "RETURN_OR_REFUND_REQUEST_PENDING"
    if status is AfterSaleStatus.SHIPPED_BY_BUYER:
        return "BUYER_SHIPPED_ITEM"
    raise ValueError(f"no start status {status} in these tests")


async def seller_id_of(seller: Seller) -> int:
    seller_id = await accounts.authenticate(seller.token)
    assert seller_id is not None
    return seller_id


async def sale_in(
    seller: Seller, type_: AfterSaleType, status: AfterSaleStatus, **extra: object
) -> int:
    """An after-sale created from a TikTok report, in `status`."""
    return await make_sale(
        seller,
        return_type=PLATFORM_TYPES[type_],
        status=platform_status_for(type_, status),
        **extra,  # type: ignore[arg-type]
    )


async def abnormal_return(
    seller: Seller, *, return_status: ReturnStatus = ReturnStatus.RETURNING
) -> int:
    """An abnormal return as the logistics feed creates it: no return id, no status."""
    shop = await Shop.get(shop_id=seller.shop_id)
    row = await AfterSale.create(
        shop_id=shop.id,
        order_id="576486316948499999",
        type=AfterSaleType.ABNORMAL_RETURN,
        status=None,
        return_status=return_status,
        tracking_number="JX0001",
        parcel_key="576486316948499999/JX0001",
        created_at=T0,
        updated_at=T0,
    )
    return row.id


@dataclass(frozen=True)
class Stored:
    """Everything the database holds about one after-sale."""

    sale: queries.SaleRecord
    history: list[queries.HistoryRecord]
    notes: list[queries.NoteRecord]
    items: list[queries.ItemRecord]
    last_event_at: datetime | None

    @property
    def unchanged_marks(self) -> tuple[object, ...]:
        """What any change moves: compare before and after a refused command."""
        return (
            self.sale.version,
            self.sale.status,
            self.sale.updated_at,
            len(self.history),
            len(self.notes),
        )


async def stored(seller_id: int, sale_id: int) -> Stored:
    record = await queries.get_sale(seller_id, sale_id)
    assert record is not None
    row = await AfterSale.get(id=sale_id)
    return Stored(
        sale=record,
        history=(await queries.history_by_sale([sale_id])).get(sale_id, []),
        notes=(await queries.notes_by_sale([sale_id])).get(sale_id, []),
        items=(await queries.items_by_sale([sale_id])).get(sale_id, []),
        last_event_at=row.last_event_at,
    )
