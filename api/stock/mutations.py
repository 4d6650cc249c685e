"""`createWarehouse` and `stockInReturnedItems` (with its bulk form): thin resolvers."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry

from aftersales.commands import stock
from aftersales.domain.errors import DomainError
from aftersales.domain.stock import StockLine
from api.actions import Command, Done, SellerMutation
from api.context import Context, Info
from api.errors import user_error
from api.ids import parse_id
from api.stock.types import (
    BulkStockInReturnedItemsInput,
    CreateWarehouseInput,
    StockInPayload,
    StockInReturnedItemsInput,
    StockMovementLine,
    Warehouse,
    WarehousePayload,
)


def _request(input: StockInReturnedItemsInput | BulkStockInReturnedItemsInput) -> stock.StockIn:
    return stock.StockIn(
        warehouse_id=parse_id(input.warehouse_id),
        lines=tuple(StockLine(x.sku, x.quantity, x.condition) for x in input.lines),
        idempotency_key=input.idempotency_key,
    )


def _stock_in(ctx: Context, input: StockInReturnedItemsInput) -> Command[stock.StockInResult]:
    request = _request(input)

    def run(sale_id: int) -> Awaitable[stock.StockInResult]:
        return stock.stock_in(ctx.seller_id, sale_id, request, now=ctx.clock())

    return run


def _stock_in_each(
    ctx: Context, input: BulkStockInReturnedItemsInput
) -> Command[stock.StockInResult]:
    request = _request(input)

    def run(sale_id: int) -> Awaitable[stock.StockInResult]:
        item = request.for_bulk_item(sale_id)
        return stock.stock_in(ctx.seller_id, sale_id, item, now=ctx.clock())

    return run


def _payload(done: Done[stock.StockInResult]) -> StockInPayload:
    moved = done.result.moved if done.result else ()
    return StockInPayload(
        after_sale=done.after_sale,
        user_errors=done.user_errors,
        moved=[
            StockMovementLine(sku=x.sku, quantity=x.quantity, condition=x.condition) for x in moved
        ],
        replayed=done.result.replayed if done.result else False,
    )


STOCK_IN = SellerMutation(
    _stock_in,
    StockInReturnedItemsInput,
    BulkStockInReturnedItemsInput,
    bulk_build=_stock_in_each,
    payload=_payload,
    payload_type=StockInPayload,
    description="STOCK_IN: returned units into a warehouse; never more than came back.",
)


async def _create_warehouse(info: Info, input: CreateWarehouseInput) -> WarehousePayload:
    try:
        record = await stock.create_warehouse(
            info.context.seller_id, input.code, input.name, input.address
        )
    except DomainError as exc:
        return WarehousePayload(warehouse=None, user_errors=[user_error(exc)])
    return WarehousePayload(warehouse=Warehouse.of(record), user_errors=[])


@strawberry.type
class StockMutation:
    create_warehouse = strawberry.mutation(
        resolver=_create_warehouse, description="A receiving warehouse of the caller's."
    )
    stock_in_returned_items = STOCK_IN.field()
    stock_in_returned_items_bulk = STOCK_IN.bulk_field()
