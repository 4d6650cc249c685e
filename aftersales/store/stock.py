"""Persistence of warehouses, inventory levels, stock movements and idempotent results.

Stock-in serializes on the after-sale's row: the command loads it with
`tx.sales.of_seller(..., lock=True)` (SELECT ... FOR NO KEY UPDATE on PostgreSQL; SQLite
serializes writers by itself) and still moves its version, so optimistic writers elsewhere see
the change. `StockReads` is the read side, on the read handle; `Stock` adds the writes, in a
unit of work.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import F, Q, RawSQL
from tortoise.functions import Sum

from aftersales.domain.model import AfterSaleType, ReturnStatus, StockCondition
from aftersales.domain.stock import NewWarehouse, StockLine
from aftersales.store.models import (
    AfterSaleItem,
    IdempotentResult,
    InventoryLevel,
    Seller,
    StockMovement,
    Warehouse,
)
from aftersales.store.records import LevelRecord, WarehouseRecord
from aftersales.store.sql import Connection, Savepoint, dialect, insert_or_none


@dataclass(frozen=True)
class StoredResult:
    after_sale_id: int
    result: dict[str, Any]


def _warehouse(row: Warehouse) -> WarehouseRecord:
    return WarehouseRecord(row.id, row.code, row.name, row.address)


# --- warehouses and inventory: the read side -------------------------------------------


MAX_LEVELS = 100  # inventory levels one read returns at most (a page, as in store/queries.py)


class StockReads:
    """Warehouses and inventory on the read handle (`reading()` in aftersales/store/uow.py)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def warehouses_of(self, seller_id: int) -> list[WarehouseRecord]:
        query = Warehouse.filter(seller_id=seller_id).using_db(self._conn).order_by("code")
        return [_warehouse(w) for w in await query]

    async def warehouse_of(self, seller_id: int, warehouse_id: int) -> WarehouseRecord | None:
        """The warehouse if it belongs to the seller, else None (another seller's is not found)."""
        query = Warehouse.filter(id=warehouse_id, seller_id=seller_id).using_db(self._conn)
        row = await query.first()
        return _warehouse(row) if row is not None else None

    async def inventory_of(
        self,
        seller_id: int,
        warehouse_id: int | None,
        sku: str | None,
        *,
        first: int = MAX_LEVELS,
        after: tuple[int, str] | None = None,
    ) -> list[LevelRecord]:
        """At most `first` levels, by warehouse id then SKU, from just past `after` (a level's
        warehouse id and SKU) when given."""
        q = Q(warehouse__seller_id=seller_id)
        if warehouse_id is not None:
            q &= Q(warehouse_id=warehouse_id)
        if sku is not None:
            limit = InventoryLevel._meta.fields_map["sku"].max_length  # type: ignore[attr-defined]
            if len(sku) > limit:
                return []  # longer than any stored SKU: nothing can match
            q &= Q(sku=sku)
        if after is not None:
            q &= Q(warehouse_id__gt=after[0]) | Q(warehouse_id=after[0], sku__gt=after[1])
        if first <= 0:
            return []
        rows = (
            await InventoryLevel.filter(q)
            .using_db(self._conn)
            .select_related("warehouse")
            .order_by("warehouse_id", "sku")
            .limit(first)
        )
        return [LevelRecord(_warehouse(r.warehouse), r.sku, r.sellable, r.damaged) for r in rows]


# --- warehouses and stock-in, in a unit of work -------------------------------------------


class Stock(StockReads):
    def __init__(self, conn: Connection, savepoint: Savepoint) -> None:
        super().__init__(conn)
        self._savepoint = savepoint

    async def warehouse_count(self, seller_id: int) -> int:
        """The seller's warehouses, counted under a lock on the seller's row (PostgreSQL), so
        two transactions creating one each cannot both see room for the last."""
        if dialect(self._conn) == "postgres":
            await Seller.filter(id=seller_id).using_db(self._conn).select_for_update().first()
        return await Warehouse.filter(seller_id=seller_id).using_db(self._conn).count()

    async def create_warehouse(self, seller_id: int, new: NewWarehouse) -> WarehouseRecord | None:
        """None when the seller already has a warehouse with this code."""

        async def insert(conn: Connection) -> Warehouse:
            return await Warehouse.create(
                using_db=conn,
                seller_id=seller_id,
                code=new.code,
                name=new.name,
                address=new.address,
            )

        row = await insert_or_none(self._savepoint, insert)
        return _warehouse(row) if row is not None else None

    async def returned_quantities(self, sale_id: int) -> dict[str, int]:
        return await self._sum_by_sku(AfterSaleItem, sale_id)

    async def stocked_quantities(self, sale_id: int) -> dict[str, int]:
        return await self._sum_by_sku(StockMovement, sale_id)

    async def _sum_by_sku(
        self, model: type[AfterSaleItem] | type[StockMovement], sale_id: int
    ) -> dict[str, int]:
        found = (
            await model.filter(after_sale_id=sale_id)
            .using_db(self._conn)
            .annotate(total=Sum("quantity"))
            .group_by("sku")
            .values("sku", "total")
        )
        return {r["sku"]: int(r["total"] or 0) for r in found}

    async def levels(self, warehouse_id: int, skus: Sequence[str]) -> dict[str, tuple[int, int]]:
        """(sellable, damaged) of these SKUs in the warehouse; a SKU without a level is absent."""
        found = (
            await InventoryLevel.filter(warehouse_id=warehouse_id, sku__in=list(skus))
            .using_db(self._conn)
            .values_list("sku", "sellable", "damaged")
        )
        return {sku: (int(sellable), int(damaged)) for sku, sellable, damaged in found}

    async def record_movements(
        self,
        warehouse_id: int,
        sale_id: int,
        lines: Sequence[StockLine],
        at: datetime,
        *,
        ceiling: int,
    ) -> bool:
        """One movement per line, and the warehouse's levels incremented in place, none past
        `ceiling`. False, having written part of it, when a concurrent stock-in took a level
        too close to `ceiling` since the caller read it: roll back and retry from a fresh read.
        """
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
            using_db=self._conn,
        )
        deltas: dict[str, dict[str, int]] = defaultdict(lambda: {"sellable": 0, "damaged": 0})
        for line in lines:
            column = "sellable" if line.condition is StockCondition.GOOD else "damaged"
            deltas[line.sku][column] += line.quantity
        for sku, delta in deltas.items():
            raised = await self._increment_level(
                warehouse_id, sku, delta["sellable"], delta["damaged"], ceiling
            )
            if not raised:
                return False
        return True

    async def _increment_level(
        self, warehouse_id: int, sku: str, sellable: int, damaged: int, ceiling: int
    ) -> bool:
        # An atomic increment, so stock-ins of different after-sales into one SKU never lose
        # units; guarded (`level <= ceiling - delta`, which cannot overflow in SQL) so a level
        # never passes the ceiling, whoever commits first.
        level = InventoryLevel.filter(warehouse_id=warehouse_id, sku=sku).using_db(self._conn)
        bump = {"sellable": F("sellable") + sellable, "damaged": F("damaged") + damaged}
        within = level.filter(sellable__lte=ceiling - sellable, damaged__lte=ceiling - damaged)
        if await within.update(**bump):
            return True

        async def insert(conn: Connection) -> InventoryLevel:
            return await InventoryLevel.create(
                using_db=conn,
                warehouse_id=warehouse_id,
                sku=sku,
                sellable=sellable,
                damaged=damaged,
            )

        if not await level.exists() and await insert_or_none(self._savepoint, insert) is not None:
            return True
        # The level exists: it was too high, or a concurrent first insert committed since the
        # update above. Once more, then it is too high for this increment.
        return bool(await within.update(**bump))

    async def find_result(self, seller_id: int, operation: str, key: str) -> StoredResult | None:
        row = (
            await IdempotentResult.filter(seller_id=seller_id, operation=operation, key=key)
            .using_db(self._conn)
            .first()
        )
        return StoredResult(row.after_sale_id, dict(row.result)) if row is not None else None

    async def save_result(
        self,
        seller_id: int,
        operation: str,
        key: str,
        sale_id: int,
        result: dict[str, Any],
        at: datetime,
    ) -> bool:
        """False when a concurrent call stored a result under the same key first."""

        async def insert(conn: Connection) -> IdempotentResult:
            return await IdempotentResult.create(
                using_db=conn,
                seller_id=seller_id,
                operation=operation,
                key=key,
                after_sale_id=sale_id,
                result=result,
                created_at=at,
            )

        return await insert_or_none(self._savepoint, insert) is not None


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
    """Parcels that arrived and are not fully stocked in (docs/stock.md): some SKU has fewer units
    stocked in than returned, or the contents are unknown and nothing was stocked in yet.
    Refund-only requests have no goods to stock in, whatever the parcel feed said."""
    return (
        Q(return_status=ReturnStatus.RETURNED)
        & ~Q(type=AfterSaleType.REFUND_ONLY)
        & (Q(id__in=_UNDER_STOCKED) | (~Q(id__in=_HAS_ITEMS) & ~Q(id__in=_HAS_MOVEMENTS)))
    )
