"""Warehouses and stock-in of returned items (docs/stock.md).

A stock-in locks the after-sale's row, checks the preconditions and the per-SKU cap, then
writes the movements, the inventory increments, the STOCK_IN history entry, the version bump and
(with an idempotency key) the result to replay, all in one transaction. Concurrent stock-ins of
one after-sale therefore run one after the other, and the second sees what the first moved.
Stock-ins of different after-sales into one SKU do not wait for each other: the level they raise
is checked against `MAX_LEVEL` when read and again, atomically, when incremented; a stock-in that
finds it raised meanwhile is retried from a fresh read, and refused if it no longer fits.

Only successes are remembered under an idempotency key: a call that failed moved nothing, so
running it again is harmless (and may succeed once the parcel has arrived).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from aftersales.commands.retry import Lost, retrying
from aftersales.commands.seller import load
from aftersales.domain import rules
from aftersales.domain import stock as inventory
from aftersales.domain.errors import Invalid, NotFound
from aftersales.domain.model import Actor, ChangeAction, EventSource, SellerAction
from aftersales.domain.stock import StockLine
from aftersales.store import stock as store
from aftersales.store.records import WarehouseRecord
from aftersales.store.uow import uow

OPERATION = "STOCK_IN"
BULK_OPERATION = "STOCK_IN_BULK"


@dataclass(frozen=True)
class StockIn:
    """One stock-in request. Bulk calls scope their key per after-sale (see `for_bulk_item`)."""

    warehouse_id: int | None
    lines: tuple[StockLine, ...]
    idempotency_key: str | None = None
    operation: str = OPERATION

    def for_bulk_item(self, sale_id: int) -> StockIn:
        if self.idempotency_key is None:
            return replace(self, operation=BULK_OPERATION)
        key = f"{self.idempotency_key}:{sale_id}"
        return replace(self, idempotency_key=key, operation=BULK_OPERATION)


@dataclass(frozen=True)
class StockInResult:
    after_sale_id: int
    warehouse_id: int
    moved: tuple[StockLine, ...]
    replayed: bool = False


async def create_warehouse(
    seller_id: int, code: str, name: str, address: str | None = None
) -> WarehouseRecord:
    new = inventory.validate_warehouse(code, name, address)
    async with uow() as tx:
        if await tx.stock.warehouse_count(seller_id) >= inventory.MAX_WAREHOUSES:
            raise Invalid(
                f"you have {inventory.MAX_WAREHOUSES} warehouses, the most a seller may have",
                field="code",
            )
        created = await tx.stock.create_warehouse(seller_id, new)
    if created is None:
        raise Invalid(f"you already have a warehouse with code {new.code!r}", field="code")
    return created


async def stock_in(
    seller_id: int,
    sale_id: int,
    command: StockIn,
    *,
    now: datetime,
    source: EventSource = EventSource.GRAPHQL,
) -> StockInResult:
    """STOCK_IN: move returned units into one of the seller's warehouses."""
    key = inventory.validate_key(command.idempotency_key)
    lines = inventory.validate_lines(command.lines)
    if command.warehouse_id is None:
        raise NotFound("no warehouse with this id", field="warehouseId")
    warehouse_id = command.warehouse_id
    asked = inventory.fingerprint(warehouse_id, lines)

    async def attempt() -> StockInResult:
        async with uow() as tx:
            sale = await load(tx, seller_id, sale_id, lock=True)
            if key is not None:
                prior = await tx.stock.find_result(seller_id, command.operation, key)
                if prior is not None:
                    return _replay(prior, sale_id, asked)
            rules.check(sale.as_sale(), SellerAction.STOCK_IN)
            warehouse = await tx.stock.warehouse_of(seller_id, warehouse_id)
            if warehouse is None:
                raise NotFound("no warehouse with this id", field="warehouseId")
            # Unknown contents (no items) leave nothing to cap against: the idempotencyKey is
            # the only protection then, so it is required.
            returned = await tx.stock.returned_quantities(sale_id)
            inventory.require_key_for_unknown_contents(returned, key)
            stocked = await tx.stock.stocked_quantities(sale_id)
            moved = inventory.plan_stock_in(command.lines, returned, stocked)
            levels = await tx.stock.levels(warehouse.id, [line.sku for line in moved])
            inventory.check_levels(command.lines, levels, warehouse=warehouse.code)
            touched = await tx.sales.touch(
                sale,
                at=now,
                actor=Actor.SELLER,
                action=ChangeAction.STOCK_IN,
                source=source,
                detail=_detail(warehouse, moved, key, contents_known=bool(returned)),
            )
            if not touched:
                raise Lost
            if not await tx.stock.record_movements(
                warehouse.id, sale_id, moved, now, ceiling=inventory.MAX_LEVEL
            ):
                raise Lost  # a concurrent stock-in raised a level since it was read
            result = StockInResult(sale_id, warehouse.id, tuple(moved))
            if key is not None:
                stored = {
                    "fingerprint": asked,
                    "warehouse_id": warehouse.id,
                    "moved": inventory.lines_to_json(moved),
                }
                if not await tx.stock.save_result(
                    seller_id, command.operation, key, sale_id, stored, now
                ):
                    raise Lost  # a concurrent call with this key won: replay it on retry
            return result

    return await retrying(attempt)


def _replay(prior: store.StoredResult, sale_id: int, asked: str) -> StockInResult:
    if prior.after_sale_id != sale_id:
        raise Invalid(
            "this idempotencyKey was already used for another after-sale; use a new key",
            field="idempotencyKey",
        )
    if prior.result.get("fingerprint") != asked:
        raise Invalid(
            "this idempotencyKey was already used with other lines or another warehouse;"
            " use a new key for a new stock-in",
            field="idempotencyKey",
        )
    return StockInResult(
        after_sale_id=sale_id,
        warehouse_id=int(prior.result["warehouse_id"]),
        moved=inventory.lines_from_json(prior.result.get("moved")),
        replayed=True,
    )


def _detail(
    warehouse: WarehouseRecord, moved: Sequence[StockLine], key: str | None, *, contents_known: bool
) -> dict[str, object]:
    detail: dict[str, object] = {
        "warehouse_id": warehouse.id,
        "warehouse_code": warehouse.code,
        "lines": inventory.lines_to_json(moved),
    }
    if key is not None:
        detail["idempotency_key"] = key
    if not contents_known:
        detail["contents_unknown"] = True
    return detail
