"""`warehouses` and `inventory`: thin resolvers over the store's read side."""

from __future__ import annotations

import strawberry

from aftersales.domain.errors import NotFound
from aftersales.store.uow import reading
from api.context import Info
from api.errors import graphql_error
from api.ids import parse_id
from api.stock.types import InventoryLevel, Warehouse


async def _warehouses(info: Info) -> list[Warehouse]:
    async with reading() as r:
        return [Warehouse.of(w) for w in await r.stock.warehouses_of(info.context.seller_id)]


async def _inventory(
    info: Info, warehouse_id: strawberry.ID | None = None, sku: str | None = None
) -> list[InventoryLevel]:
    seller_id = info.context.seller_id
    wid: int | None = None
    if warehouse_id is not None:
        wid = parse_id(warehouse_id)
        if wid is None:
            raise graphql_error(NotFound("no warehouse with this id", field="warehouseId"))
    async with reading() as r:
        if wid is not None and await r.stock.warehouse_of(seller_id, wid) is None:
            # The same answer for another seller's warehouse: never reveal that it exists.
            raise graphql_error(NotFound("no warehouse with this id", field="warehouseId"))
        levels = await r.stock.inventory_of(seller_id, wid, sku.strip() if sku else None)
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
