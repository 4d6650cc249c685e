"""Warehouses, inventory and stock-in as GraphQL shows them (docs/stock.md)."""

from __future__ import annotations

import strawberry

from aftersales.domain.model import StockCondition
from aftersales.store.records import WarehouseRecord
from api.errors import UserError
from api.sales.types import AfterSale


@strawberry.type
class Warehouse:
    id: strawberry.ID
    code: str
    name: str
    address: str | None

    @classmethod
    def of(cls, record: WarehouseRecord) -> Warehouse:
        return cls(
            id=strawberry.ID(str(record.id)),
            code=record.code,
            name=record.name,
            address=record.address,
        )


@strawberry.type(description="Units of one SKU in one warehouse.")
class InventoryLevel:
    warehouse: Warehouse
    sku: str
    sellable: int
    damaged: int
    cursor: str = strawberry.field(
        description="Pass it as `inventory(after:)` for the levels that follow this one."
    )


@strawberry.type
class StockMovementLine:
    sku: str
    quantity: int
    condition: StockCondition


@strawberry.input
class CreateWarehouseInput:
    code: str
    name: str
    address: str | None = strawberry.field(
        default=None, description="Printed on return labels; one line per line of text."
    )


@strawberry.type
class WarehousePayload:
    warehouse: Warehouse | None
    user_errors: list[UserError]


@strawberry.input
class StockInLineInput:
    sku: str
    quantity: int
    condition: StockCondition = StockCondition.GOOD


@strawberry.input
class StockInReturnedItemsInput:
    id: strawberry.ID
    warehouse_id: strawberry.ID
    lines: list[StockInLineInput]
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A repeated call with the same key returns the first result and moves"
        " nothing. Required when the parcel's contents are unknown.",
    )


@strawberry.input
class BulkStockInReturnedItemsInput:
    ids: list[strawberry.ID]
    warehouse_id: strawberry.ID
    lines: list[StockInLineInput]
    idempotency_key: str | None = strawberry.field(
        default=None, description="Applies to each id separately."
    )


@strawberry.type
class StockInPayload:
    after_sale: AfterSale | None
    user_errors: list[UserError]
    moved: list[StockMovementLine] = strawberry.field(
        description="What this call stocked in (or, when replayed, what the first call did)."
    )
    replayed: bool = strawberry.field(
        description="True when the idempotencyKey was seen before and nothing moved now."
    )
