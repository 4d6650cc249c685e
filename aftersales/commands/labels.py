"""Return shipping labels (REPRINT_SHIPPING_LABEL): the reprint, and what a label shows.

`reprint` is the command: it checks the rule (`rules.check`), records the reprint in history and
says which label to fetch. `label_for` gathers what the label shows, read only, for the download
(the API draws the PDF).

When no warehouse is named, a seller's only warehouse is used; with several, the label carries
no return address (name one with `warehouseId`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.commands.retry import Lost, retrying
from aftersales.commands.seller import load
from aftersales.domain import rules
from aftersales.domain.errors import NotFound
from aftersales.domain.model import (
    AbnormalReason,
    Actor,
    AfterSaleType,
    ChangeAction,
    EventSource,
    SellerAction,
)
from aftersales.store.records import WarehouseRecord
from aftersales.store.stock import StockReads
from aftersales.store.uow import reading, uow


@dataclass(frozen=True)
class Label:
    """Which label to fetch: the after-sale, and the warehouse whose address it carries."""

    after_sale_id: int
    warehouse_id: int | None


@dataclass(frozen=True)
class LabelData:
    after_sale_id: int
    tracking_number: str
    carrier: str | None
    order_id: str
    return_id: str | None
    type: AfterSaleType
    abnormal_reason: AbnormalReason | None
    shop_name: str
    region: str
    warehouse: WarehouseRecord | None


async def _warehouse(
    stock: StockReads, seller_id: int, warehouse_id: int | None
) -> WarehouseRecord | None:
    """The warehouse the label names, read through `stock` (the caller's unit of work or read
    handle)."""
    if warehouse_id is None:
        owned = await stock.warehouses_of(seller_id)
        return owned[0] if len(owned) == 1 else None
    found = await stock.warehouse_of(seller_id, warehouse_id)
    if found is None:
        raise NotFound("no warehouse with this id", field="warehouseId")
    return found


async def label_for(seller_id: int, sale_id: int, warehouse_id: int | None) -> LabelData:
    """What the seller's label for this after-sale shows; NotFound for anyone else."""
    async with reading() as r:
        record = await r.sales.get_sale(seller_id, sale_id)
        if record is None:
            raise NotFound("no after-sale with this id", field="id")
        rules.check(record.as_sale(), SellerAction.REPRINT_SHIPPING_LABEL)
        warehouse = await _warehouse(r.stock, seller_id, warehouse_id)
    assert record.tracking_number, "check() refuses a label without a tracking number"
    return LabelData(
        after_sale_id=record.id,
        tracking_number=record.tracking_number,
        carrier=record.carrier,
        order_id=record.order_id,
        return_id=record.return_id,
        type=record.type,
        abnormal_reason=record.abnormal_reason,
        shop_name=record.shop.name,
        region=record.shop.region,
        warehouse=warehouse,
    )


async def reprint(
    seller_id: int,
    sale_id: int,
    warehouse_id: int | None,
    *,
    now: datetime,
    source: EventSource = EventSource.GRAPHQL,
) -> Label:
    """REPRINT_SHIPPING_LABEL: allowed as `rules.check` says; recorded in history."""

    async def attempt() -> Label:
        async with uow() as tx:
            sale = await load(tx, seller_id, sale_id)
            rules.check(sale.as_sale(), SellerAction.REPRINT_SHIPPING_LABEL)
            warehouse = await _warehouse(tx.stock, seller_id, warehouse_id)
            touched = await tx.sales.touch(
                sale,
                at=now,
                actor=Actor.SELLER,
                action=ChangeAction.REPRINT_SHIPPING_LABEL,
                source=source,
                detail={"warehouse_id": warehouse.id} if warehouse else None,
            )
            if not touched:
                raise Lost
            return Label(sale_id, warehouse.id if warehouse else None)

    return await retrying(attempt)
