"""Helpers for the stock-in and label tests: parcels that arrived, warehouses, seller ids.

Parcels are delivered through the logistics service (aftersales.logistics.apply_parcel_event),
the way production marks them RETURNED, never by writing return_status directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from aftersales import accounts, logistics, stock
from aftersales.domain import StockCondition
from aftersales.inventory import StockLine
from aftersales.parcels import ParcelEvent, ParcelItem
from aftersales.platform import LineItem
from tests.support import T0, Seller, make_sale

_events = {"n": 0}


def _event_id() -> str:
    _events["n"] += 1
    return f"trk-{_events['n']:06d}"


async def seller_id(seller: Seller) -> int:
    found = await accounts.authenticate(seller.token)
    assert found is not None
    return found


async def warehouse(seller: Seller, code: str = "KL1", address: str | None = None) -> int:
    created = await stock.create_warehouse(
        await seller_id(seller), code, f"Warehouse {code}", address
    )
    return created.id


async def deliver(
    seller: Seller,
    *,
    return_id: str | None = None,
    tracking_number: str | None = None,
    at: datetime = T0 + timedelta(days=3),
) -> None:
    """The logistics feed reports the parcel DELIVERED to the warehouse."""
    result = await logistics.apply_parcel_event(
        ParcelEvent(
            event_id=_event_id(),
            occurred_at=at,
            shop_id=seller.shop_id,
            status="DELIVERED",
            return_id=return_id,
            tracking_number=tracking_number,
        ),
        now=at,
    )
    assert result.after_sale_id is not None, result


async def returned_sale(
    seller: Seller,
    *,
    status: str = "RETURN_OR_REFUND_REQUEST_SUCCESS",
    return_type: str = "RETURN_AND_REFUND",
    items: dict[str, int] | None = None,
    tracking_number: str | None = "JX0001",
    delivered: bool = True,
) -> int:
    """A request in `status` (a TikTok return_status) whose parcel arrived when `delivered`."""
    _events["n"] += 1
    return_id = f"57648631694{_events['n']:08d}"
    lines = tuple(
        LineItem(sku, f"Product {sku}", qty) for sku, qty in (items or {"SKU-A": 3}).items()
    )
    sale_id = await make_sale(
        seller,
        status=status,
        return_type=return_type,
        return_id=return_id,
        items=lines,
        tracking_number=tracking_number,
        carrier="J&T Express" if tracking_number else None,
    )
    if delivered:
        await deliver(seller, return_id=return_id)
    return sale_id


async def abnormal_return(
    seller: Seller,
    *,
    items: dict[str, int] | None = None,
    tracking_number: str | None = None,
    delivered: bool = True,
) -> int:
    """A forward parcel refused by the buyer and sent back; `items` None: contents unknown."""
    _events["n"] += 1
    tracking = tracking_number or f"JXA{_events['n']:06d}"
    result = await logistics.apply_parcel_event(
        ParcelEvent(
            event_id=_event_id(),
            occurred_at=T0 + timedelta(days=1),
            shop_id=seller.shop_id,
            status="RETURN_TO_SENDER",
            order_id=f"5764863169{_events['n']:09d}",
            tracking_number=tracking,
            carrier="J&T Express",
            abnormal_reason="REFUSED_BY_BUYER",
            items=tuple(ParcelItem(s, q) for s, q in items.items()) if items else None,
        ),
        now=T0 + timedelta(days=1),
    )
    assert result.after_sale_id is not None, result
    if delivered:
        await deliver(seller, tracking_number=tracking)
    return result.after_sale_id


def good(sku: str, quantity: int) -> StockLine:
    return StockLine(sku, quantity, StockCondition.GOOD)


def damaged(sku: str, quantity: int) -> StockLine:
    return StockLine(sku, quantity, StockCondition.DAMAGED)
