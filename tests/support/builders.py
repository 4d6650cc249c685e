"""Arranging data the way production creates it: sellers through the account commands, after-sales
through TikTok reports, parcels through logistics events, stock through the stock commands."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.commands import accounts, stock
from aftersales.commands.parcels import apply_parcel_event
from aftersales.commands.reports import apply_return_report
from aftersales.domain.model import (
    AfterSaleStatus,
    AfterSaleType,
    DisputeWindows,
    LineItem,
    StockCondition,
)
from aftersales.domain.outcome import Result
from aftersales.domain.parcels import ParcelEvent, ParcelItem
from aftersales.domain.stock import StockLine
from aftersales.domain.tiktok import ReturnReport
from aftersales.settings import Settings
from aftersales.store.uow import uow
from tests.support.clock import T0

WINDOWS = Settings().dispute_windows


def unique_id(digits: int = 19) -> str:
    """A fresh id of TikTok's shape (a string of digits), unique in this run."""
    return str(10 ** (digits - 1) + uuid.uuid4().int % (9 * 10 ** (digits - 1)))


@dataclass
class Seller:
    name: str
    token: str
    shop_id: str
    region: str
    shop_name: str = ""


async def make_seller(region: str = "MY", name: str | None = None) -> Seller:
    """A seller with one shop in `region` and an API token."""
    shop_id = unique_id()
    name = name or f"seller-{shop_id[-8:]}"
    shop_name = f"Shop {shop_id[-4:]}"
    await accounts.add_shop(name, shop_id, region, shop_name)
    token = await accounts.create_token(name)
    return Seller(name=name, token=token, shop_id=shop_id, region=region, shop_name=shop_name)


async def seller_id_of(seller: Seller) -> int:
    found = await accounts.authenticate(seller.token, now=T0)
    assert found is not None
    return found


def report(
    status: str,
    *,
    return_id: str = "576486316948490001",
    return_type: str = "RETURN_AND_REFUND",
    at: datetime = T0,
    order_id: str | None = None,
    role: str = "BUYER",
    **extra: Any,
) -> ReturnReport:
    """A TikTok return report, as the inbox parses one."""
    return ReturnReport(
        return_id=return_id,
        order_id=order_id or return_id,
        return_type=return_type,
        return_status=status,
        update_time=at,
        create_time=extra.pop("create_time", at),
        role=role,
        **extra,
    )


async def apply_report(
    shop_id: str, report: ReturnReport, *, now: datetime, windows: DisputeWindows = WINDOWS
) -> Result:
    """The report command in a unit of work of its own (the inbox runs it in the delivery's)."""
    async with uow() as tx:
        return await apply_return_report(tx, shop_id, report, now=now, windows=windows)


async def apply_parcel(event: ParcelEvent, *, now: datetime) -> Result:
    """The parcel-event command in a unit of work of its own."""
    async with uow() as tx:
        return await apply_parcel_event(tx, event, now=now)


async def make_sale(
    seller: Seller,
    *,
    return_type: str = "RETURN_AND_REFUND",
    status: str = "RETURN_OR_REFUND_REQUEST_PENDING",
    return_id: str | None = None,
    at: datetime = T0,
    refund: str | None = "100.00",
    currency: str = "MYR",
    settings: Settings | None = None,
    **extra: Any,
) -> int:
    """An after-sale created from a TikTok report in `status` (a TikTok return_status)."""
    items = extra.pop("items", (LineItem("SKU-1", "Blue mug", 1, Decimal(refund or "0")),))
    result = await apply_report(
        seller.shop_id,
        report(
            status,
            return_id=return_id or unique_id(),
            return_type=return_type,
            at=at,
            currency=currency if refund else None,
            refund_total=Decimal(refund) if refund else None,
            items=items,
            **extra,
        ),
        now=at,
        windows=(settings or Settings()).dispute_windows,
    )
    assert result.after_sale_id is not None
    return result.after_sale_id


PLATFORM_TYPES = {
    AfterSaleType.RETURN_AND_REFUND: "RETURN_AND_REFUND",
    AfterSaleType.REFUND_ONLY: "REFUND",
    AfterSaleType.EXCHANGE: "REPLACEMENT",
    AfterSaleType.CANCELLATION: "CANCELLATION",  # a type-11 report, as the inbox reads it
}


def platform_status_for(type_: AfterSaleType, status: AfterSaleStatus) -> str:
    """A TikTok `return_status` that puts a new after-sale of `type_` in `status`."""
    if status is AfterSaleStatus.PENDING_REQUEST:
        if type_ is AfterSaleType.EXCHANGE:
            return "REPLACEMENT_REQUEST_PENDING"
        if type_ is AfterSaleType.CANCELLATION:
            return "CANCELLATION_REQUEST_PENDING"
        return "RETURN_OR_REFUND_REQUEST_PENDING"
    if status is AfterSaleStatus.SHIPPED_BY_BUYER:
        return "BUYER_SHIPPED_ITEM"
    raise ValueError(f"no start status {status} in these tests")


async def sale_in(
    seller: Seller, type_: AfterSaleType, status: AfterSaleStatus, **extra: Any
) -> int:
    """An after-sale of `type_` created from a TikTok report, in `status`."""
    return await make_sale(
        seller,
        return_type=PLATFORM_TYPES[type_],
        status=platform_status_for(type_, status),
        **extra,
    )


async def parcel_delivered(
    seller: Seller,
    *,
    return_id: str | None = None,
    tracking_number: str | None = None,
    at: datetime = T0 + timedelta(days=3),
) -> None:
    """The logistics feed reports the return parcel DELIVERED to the warehouse."""
    result = await apply_parcel(
        ParcelEvent(
            event_id=f"trk-{unique_id(12)}",
            occurred_at=at,
            shop_id=seller.shop_id,
            status="DELIVERED",
            return_id=return_id,
            tracking_number=tracking_number,
        ),
        now=at,
    )
    assert result.after_sale_id is not None, result


async def abnormal_return(
    seller: Seller,
    *,
    order_id: str | None = None,
    tracking_number: str | None = None,
    items: dict[str, int] | None = None,
    delivered: bool = False,
    at: datetime = T0,
) -> int:
    """A forward parcel refused by the buyer and coming back: the logistics feed's
    RETURN_TO_SENDER with no return id opens the abnormal return. `items` None: contents
    unknown. With `delivered`, the parcel then arrives at the warehouse."""
    tracking = tracking_number or f"JXA{unique_id(8)}"
    result = await apply_parcel(
        ParcelEvent(
            event_id=f"rts-{unique_id(12)}",
            occurred_at=at,
            shop_id=seller.shop_id,
            status="RETURN_TO_SENDER",
            order_id=order_id or unique_id(),
            tracking_number=tracking,
            carrier="J&T Express",
            abnormal_reason="REFUSED_BY_BUYER",
            items=tuple(ParcelItem(s, q) for s, q in items.items()) if items else None,
        ),
        now=at,
    )
    assert result.after_sale_id is not None, result
    if delivered:
        await parcel_delivered(seller, tracking_number=tracking)
    return result.after_sale_id


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
    return_id = unique_id()
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
        await parcel_delivered(seller, return_id=return_id)
    return sale_id


async def warehouse(seller: Seller, code: str = "KL1", address: str | None = None) -> int:
    created = await stock.create_warehouse(
        await seller_id_of(seller), code, f"Warehouse {code}", address
    )
    return created.id


def good(sku: str, quantity: int) -> StockLine:
    return StockLine(sku, quantity, StockCondition.GOOD)


def damaged(sku: str, quantity: int) -> StockLine:
    return StockLine(sku, quantity, StockCondition.DAMAGED)
