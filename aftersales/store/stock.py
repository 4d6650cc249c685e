"""Persistence of warehouses, inventory levels, stock movements and idempotent results.

Stock-in serializes on the after-sale's row: `lock_sale` takes a row lock on PostgreSQL
(SELECT ... FOR NO KEY UPDATE; SQLite serializes writers by itself) and the caller still bumps
the row's version, so optimistic writers elsewhere see the change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, RawSQL
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from aftersales.domain import AfterSaleType, ReturnStatus, StockCondition
from aftersales.inventory import NewWarehouse, StockLine
from aftersales.store import repository
from aftersales.store.models import (
    AfterSale,
    AfterSaleItem,
    IdempotentResult,
    InventoryLevel,
    Shop,
    StockMovement,
    Warehouse,
)
from aftersales.store.repository import Connection


@dataclass(frozen=True)
class WarehouseRecord:
    id: int
    code: str
    name: str
    address: str | None


@dataclass(frozen=True)
class LevelRecord:
    warehouse: WarehouseRecord
    sku: str
    sellable: int
    damaged: int


@dataclass(frozen=True)
class StoredResult:
    after_sale_id: int
    result: dict[str, Any]


def _warehouse(row: Warehouse) -> WarehouseRecord:
    return WarehouseRecord(row.id, row.code, row.name, row.address)


# --- warehouses and inventory -------------------------------------------------------------


async def create_warehouse(seller_id: int, new: NewWarehouse) -> WarehouseRecord | None:
    """None when the seller already has a warehouse with this code."""
    try:
        row = await Warehouse.create(
            seller_id=seller_id, code=new.code, name=new.name, address=new.address
        )
    except IntegrityError:
        return None
    return _warehouse(row)


async def warehouses_of(seller_id: int) -> list[WarehouseRecord]:
    return [_warehouse(w) for w in await Warehouse.filter(seller_id=seller_id).order_by("code")]


async def warehouse_of(
    seller_id: int, warehouse_id: int, conn: Connection | None = None
) -> WarehouseRecord | None:
    """The warehouse if it belongs to the seller, else None (another seller's is not found)."""
    row = await Warehouse.filter(id=warehouse_id, seller_id=seller_id).using_db(conn).first()
    return _warehouse(row) if row is not None else None


async def inventory_of(
    seller_id: int, warehouse_id: int | None, sku: str | None
) -> list[LevelRecord]:
    q = Q(warehouse__seller_id=seller_id)
    if warehouse_id is not None:
        q &= Q(warehouse_id=warehouse_id)
    if sku is not None:
        limit = InventoryLevel._meta.fields_map["sku"].max_length  # type: ignore[attr-defined]
        if len(sku) > limit:
            return []  # longer than any stored SKU: nothing can match
        q &= Q(sku=sku)
    rows = (
        await InventoryLevel.filter(q).select_related("warehouse").order_by("warehouse_id", "sku")
    )
    return [LevelRecord(_warehouse(r.warehouse), r.sku, r.sellable, r.damaged) for r in rows]


# --- stock-in ---------------------------------------------------------------------------


async def lock_sale(
    conn: Connection, seller_id: int, sale_id: int
) -> tuple[AfterSale, Shop] | None:
    """Load the seller's after-sale and hold its row until the transaction ends."""
    return await repository.load_for_seller(conn, seller_id, sale_id, lock=True)


async def returned_quantities(conn: Connection, sale_id: int) -> dict[str, int]:
    return await _sum_by_sku(AfterSaleItem, conn, sale_id)


async def stocked_quantities(conn: Connection, sale_id: int) -> dict[str, int]:
    return await _sum_by_sku(StockMovement, conn, sale_id)


async def _sum_by_sku(
    model: type[AfterSaleItem] | type[StockMovement], conn: Connection, sale_id: int
) -> dict[str, int]:
    rows = (
        await model.filter(after_sale_id=sale_id)
        .using_db(conn)
        .annotate(total=Sum("quantity"))
        .group_by("sku")
        .values("sku", "total")
    )
    return {r["sku"]: int(r["total"] or 0) for r in rows}


async def record_movements(
    conn: Connection, warehouse_id: int, sale_id: int, lines: Sequence[StockLine], at: datetime
) -> None:
    """One movement per line, and the warehouse's levels incremented in place."""
    await StockMovement.bulk_create(
        [
            StockMovement(
                warehouse_id=warehouse_id,
                after_sale_id=sale_id,
                sku=line.sku,
                quantity=line.quantity,
                condition=line.condition,
                created_at=at,
            )
            for line in lines
        ],
        using_db=conn,
    )
    deltas: dict[str, dict[str, int]] = defaultdict(lambda: {"sellable": 0, "damaged": 0})
    for line in lines:
        column = "sellable" if line.condition is StockCondition.GOOD else "damaged"
        deltas[line.sku][column] += line.quantity
    for sku, delta in deltas.items():
        await _increment_level(conn, warehouse_id, sku, delta["sellable"], delta["damaged"])


async def _increment_level(
    conn: Connection, warehouse_id: int, sku: str, sellable: int, damaged: int
) -> None:
    # An atomic increment, so stock-ins of different after-sales into one SKU never lose units.
    level = InventoryLevel.filter(warehouse_id=warehouse_id, sku=sku).using_db(conn)
    bump = {"sellable": F("sellable") + sellable, "damaged": F("damaged") + damaged}
    if await level.update(**bump):
        return
    try:
        async with in_transaction("default") as savepoint:  # a concurrent first insert may win
            await InventoryLevel.create(
                using_db=savepoint,
                warehouse_id=warehouse_id,
                sku=sku,
                sellable=sellable,
                damaged=damaged,
            )
    except IntegrityError:
        await level.update(**bump)


async def find_result(
    conn: Connection, seller_id: int, operation: str, key: str
) -> StoredResult | None:
    row = (
        await IdempotentResult.filter(seller_id=seller_id, operation=operation, key=key)
        .using_db(conn)
        .first()
    )
    return StoredResult(row.after_sale_id, dict(row.result)) if row is not None else None


async def save_result(
    conn: Connection,
    seller_id: int,
    operation: str,
    key: str,
    sale_id: int,
    result: dict[str, Any],
    at: datetime,
) -> bool:
    """False when a concurrent call stored a result under the same key first."""
    try:
        async with in_transaction("default") as savepoint:
            await IdempotentResult.create(
                using_db=savepoint,
                seller_id=seller_id,
                operation=operation,
                key=key,
                after_sale_id=sale_id,
                result=result,
                created_at=at,
            )
    except IntegrityError:
        return False
    return True


# --- read side: the awaitingStockIn filter ------------------------------------------------

# Correlated with the outer "after_sale" row, so the database checks only the candidates the
# other filters left (one index probe per SKU), never every item of every parcel.
_UNDER_STOCKED = RawSQL(
    '(SELECT i.after_sale_id FROM after_sale_item i WHERE i.after_sale_id = "after_sale"."id"'
    " GROUP BY i.after_sale_id, i.sku HAVING SUM(i.quantity) > COALESCE((SELECT SUM(m.quantity)"
    " FROM stock_movement m WHERE m.after_sale_id = i.after_sale_id AND m.sku = i.sku), 0))"
)
_HAS_ITEMS = RawSQL(
    '(SELECT i.after_sale_id FROM after_sale_item i WHERE i.after_sale_id = "after_sale"."id")'
)
_HAS_MOVEMENTS = RawSQL(
    '(SELECT m.after_sale_id FROM stock_movement m WHERE m.after_sale_id = "after_sale"."id")'
)


def awaiting_stock_in() -> Q:
    """Parcels that arrived and are not fully stocked in (SPEC §6): some SKU has fewer units
    stocked in than returned, or the contents are unknown and nothing was stocked in yet.
    Refund-only requests have no goods to stock in, whatever the parcel feed said."""
    return (
        Q(return_status=ReturnStatus.RETURNED)
        & ~Q(type=AfterSaleType.REFUND_ONLY)
        & (Q(id__in=_UNDER_STOCKED) | (~Q(id__in=_HAS_ITEMS) & ~Q(id__in=_HAS_MOVEMENTS)))
    )
