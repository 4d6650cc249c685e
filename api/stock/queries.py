"""`warehouses` and `inventory`: thin resolvers over the store's read side."""

from __future__ import annotations

import base64
import binascii

import strawberry

from aftersales.domain.errors import Invalid, NotFound
from aftersales.domain.stock import MAX_WAREHOUSES
from aftersales.store.queries import MAX_ID, MAX_PAGE
from aftersales.store.uow import reading
from api.context import Info
from api.errors import graphql_error
from api.ids import parse_id
from api.stock.types import InventoryLevel, Warehouse

MAX_LEVELS = MAX_PAGE  # inventory levels a request may ask for at once


def encode_level_cursor(warehouse_id: int, sku: str) -> str:
    return base64.urlsafe_b64encode(f"{warehouse_id}|{sku}".encode()).decode()


def decode_level_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode()).decode()
        warehouse, separator, sku = raw.partition("|")
        warehouse_id = int(warehouse)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        separator, warehouse_id, sku = "", 0, ""
    if not separator or not 0 < warehouse_id <= MAX_ID or not sku:
        raise Invalid("the cursor is not one this API returned", field="after")
    return warehouse_id, sku


async def _warehouses(info: Info) -> list[Warehouse]:
    async with reading() as r:
        return [Warehouse.of(w) for w in await r.stock.warehouses_of(info.context.seller_id)]


async def _inventory(
    info: Info,
    warehouse_id: strawberry.ID | None = None,
    sku: str | None = None,
    first: int = MAX_LEVELS,
    after: str | None = None,
) -> list[InventoryLevel]:
    seller_id = info.context.seller_id
    if not 0 <= first <= MAX_LEVELS:
        raise graphql_error(Invalid(f"first must be between 0 and {MAX_LEVELS}", field="first"))
    try:
        past = None if after is None else decode_level_cursor(after)
    except Invalid as exc:
        raise graphql_error(exc) from None
    wid: int | None = None
    if warehouse_id is not None:
        wid = parse_id(warehouse_id)
        if wid is None:
            raise graphql_error(NotFound("no warehouse with this id", field="warehouseId"))
    async with reading() as r:
        if wid is not None and await r.stock.warehouse_of(seller_id, wid) is None:
            # The same answer for another seller's warehouse: never reveal that it exists.
            raise graphql_error(NotFound("no warehouse with this id", field="warehouseId"))
        levels = await r.stock.inventory_of(
            seller_id, wid, sku.strip() if sku else None, first=first, after=past
        )
    return [
        InventoryLevel(
            warehouse=Warehouse.of(x.warehouse),
            sku=x.sku,
            sellable=x.sellable,
            damaged=x.damaged,
            cursor=encode_level_cursor(x.warehouse.id, x.sku),
        )
        for x in levels
    ]


@strawberry.type
class StockQuery:
    warehouses = strawberry.field(
        resolver=_warehouses,
        description=f"Your warehouses, by code (a seller has at most {MAX_WAREHOUSES}).",
    )
    inventory = strawberry.field(
        resolver=_inventory,
        description="Inventory levels of your warehouses, by warehouse then SKU: of one warehouse"
        " when `warehouseId` is given (an unknown one is an error), of one SKU when `sku` is"
        f" given. At most `first` (0 to {MAX_LEVELS}) levels, after the level whose `cursor`"
        " is `after`.",
    )
