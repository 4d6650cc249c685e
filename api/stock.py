"""Warehouses, inventory and stock-in of returned items (SPEC §5, §6): thin resolvers."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry
from graphql import GraphQLError

from aftersales import domain, stock
from aftersales.inventory import StockLine
from aftersales.store import stock as reads
from api.context import Info
from api.errors import UserError, user_error
from api.mutations import run_bulk, run_command
from api.queries import parse_id
from api.types import AfterSale, BulkAfterSalePayload


@strawberry.type
class Warehouse:
    id: strawberry.ID
    code: str
    name: str
    address: str | None

    @classmethod
    def of(cls, record: reads.WarehouseRecord) -> Warehouse:
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


@strawberry.type
class StockMovementLine:
    sku: str
    quantity: int
    condition: domain.StockCondition


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
    condition: domain.StockCondition = domain.StockCondition.GOOD


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


def _command(input: StockInReturnedItemsInput | BulkStockInReturnedItemsInput) -> stock.StockIn:
    return stock.StockIn(
        warehouse_id=parse_id(input.warehouse_id),
        lines=tuple(StockLine(x.sku, x.quantity, x.condition) for x in input.lines),
        idempotency_key=input.idempotency_key,
    )


async def _stock_in(info: Info, input: StockInReturnedItemsInput) -> StockInPayload:
    ctx = info.context
    command = _command(input)
    results: list[stock.StockInResult] = []

    async def run(sale_id: int) -> None:
        results.append(await stock.stock_in(ctx.seller_id, sale_id, command, now=ctx.clock()))

    payload = await run_command(info, input.id, run)
    done = results[0] if results else None
    return StockInPayload(
        after_sale=payload.after_sale,
        user_errors=payload.user_errors,
        moved=[
            StockMovementLine(sku=x.sku, quantity=x.quantity, condition=x.condition)
            for x in (done.moved if done else ())
        ],
        replayed=done.replayed if done else False,
    )


async def _stock_in_bulk(info: Info, input: BulkStockInReturnedItemsInput) -> BulkAfterSalePayload:
    ctx = info.context
    command = _command(input)

    def run(sale_id: int) -> Awaitable[object]:
        return stock.stock_in(
            ctx.seller_id, sale_id, command.for_bulk_item(sale_id), now=ctx.clock()
        )

    return await run_bulk(info, input.ids, run)


async def _create_warehouse(info: Info, input: CreateWarehouseInput) -> WarehousePayload:
    try:
        record = await stock.create_warehouse(
            info.context.seller_id, input.code, input.name, input.address
        )
    except domain.DomainError as exc:
        return WarehousePayload(warehouse=None, user_errors=[user_error(exc)])
    return WarehousePayload(warehouse=Warehouse.of(record), user_errors=[])


async def _warehouses(info: Info) -> list[Warehouse]:
    return [Warehouse.of(w) for w in await reads.warehouses_of(info.context.seller_id)]


async def _inventory(
    info: Info, warehouse_id: strawberry.ID | None = None, sku: str | None = None
) -> list[InventoryLevel]:
    seller_id = info.context.seller_id
    wid: int | None = None
    if warehouse_id is not None:
        wid = parse_id(warehouse_id)
        if wid is None or await reads.warehouse_of(seller_id, wid) is None:
            # The same answer for another seller's warehouse: never reveal that it exists.
            raise GraphQLError("no warehouse with this id", extensions={"code": "NOT_FOUND"})
    levels = await reads.inventory_of(seller_id, wid, sku.strip() if sku else None)
    return [
        InventoryLevel(
            warehouse=Warehouse.of(x.warehouse), sku=x.sku, sellable=x.sellable, damaged=x.damaged
        )
        for x in levels
    ]


@strawberry.type
class StockQuery:
    warehouses = strawberry.field(resolver=_warehouses, description="Your warehouses, by code.")
    inventory = strawberry.field(
        resolver=_inventory,
        description="Inventory levels of your warehouses: of one warehouse when `warehouseId`"
        " is given (an unknown one is an error), of one SKU when `sku` is given.",
    )


m = strawberry.mutation


@strawberry.type
class StockMutation:
    create_warehouse = m(
        resolver=_create_warehouse, description="A receiving warehouse of the caller's."
    )
    stock_in_returned_items = m(
        resolver=_stock_in,
        description="STOCK_IN: returned units into a warehouse; never more than came back.",
    )
    stock_in_returned_items_bulk = m(resolver=_stock_in_bulk)
