"""Write-side persistence: loading an after-sale for a command and saving its change.

Every save is a conditional update on `version` (optimistic concurrency, the same SQL on SQLite
and PostgreSQL) followed by its history entry, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from aftersales.domain import (
    Actor,
    AfterSaleStatus,
    Change,
    EventSource,
    Sale,
)
from aftersales.platform import LineItem
from aftersales.store.models import AfterSale, AfterSaleItem, HistoryEntry, Note, Shop

Connection = BaseDBAsyncClient


@asynccontextmanager
async def transaction() -> AsyncIterator[Connection]:
    async with in_transaction("default") as conn:
        yield conn


def to_sale(row: AfterSale, region: str) -> Sale:
    return Sale(
        type=row.type,
        status=row.status,
        return_status=row.return_status,
        region=region,
        currency=row.currency,
        refund_requested=row.refund_requested,
        partial_refund_offer=row.partial_refund_offer,
        tracking_number=row.tracking_number,
        dispute_status=row.dispute_status,
    )


async def load_for_seller(
    conn: Connection, seller_id: int, sale_id: int, *, lock: bool = False
) -> tuple[AfterSale, Shop] | None:
    """The after-sale if it belongs to one of the seller's shops, else None. With `lock`, its
    row (not its shop's) is held until the transaction ends, where the database has row locks."""
    query = AfterSale.filter(id=sale_id, shop__seller_id=seller_id).using_db(conn)
    if lock:
        query = query.select_for_update(of=("after_sale",), no_key=True)
    row = await query.select_related("shop").first()
    if row is None:
        return None
    return row, row.shop


async def load_by_return_id(conn: Connection, shop: Shop, return_id: str) -> AfterSale | None:
    return await AfterSale.filter(shop_id=shop.id, return_id=return_id).using_db(conn).first()


async def save_change(
    conn: Connection,
    row: AfterSale,
    change: Change,
    *,
    at: datetime,
    actor: Actor,
    source: EventSource,
    detail: Mapping[str, Any] | None = None,
) -> bool:
    """Write `change` if nobody changed the row since it was read. False on a lost race."""
    fields = dict(change.fields)
    items: Sequence[LineItem] | None = fields.pop("items", None)
    fields["updated_at"] = at
    updated = (
        await AfterSale.filter(id=row.id, version=row.version)
        .using_db(conn)
        .update(**fields, version=row.version + 1)
    )
    if updated != 1:
        return False
    for name, value in fields.items():
        setattr(row, name, value)
    row.version += 1
    if items is not None:
        await replace_items(conn, row.id, items)
    await append_history(
        conn,
        row.id,
        at=at,
        actor=actor,
        action=change.action,
        from_status=change.from_status,
        to_status=change.to_status,
        source=source,
        detail=detail,
    )
    return True


async def replace_items(conn: Connection, sale_id: int, items: Sequence[LineItem]) -> None:
    await AfterSaleItem.filter(after_sale_id=sale_id).using_db(conn).delete()
    await AfterSaleItem.bulk_create(
        [
            AfterSaleItem(
                after_sale_id=sale_id,
                sku=item.sku,
                product_name=item.product_name,
                quantity=item.quantity,
                unit_refund=item.unit_refund,
            )
            for item in items
        ],
        using_db=conn,
    )


async def append_history(
    conn: Connection,
    sale_id: int,
    *,
    at: datetime,
    actor: Actor,
    action: str,
    from_status: AfterSaleStatus | None,
    to_status: AfterSaleStatus | None,
    source: EventSource,
    detail: Mapping[str, Any] | None = None,
) -> None:
    await HistoryEntry.create(
        using_db=conn,
        after_sale_id=sale_id,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        source=source,
        detail=dict(detail) if detail else None,
    )


async def add_note(conn: Connection, sale_id: int, text: str, at: datetime) -> None:
    await Note.create(using_db=conn, after_sale_id=sale_id, text=text, created_at=at)


async def bump_version(conn: Connection, row: AfterSale, at: datetime) -> bool:
    """Mark a status-preserving change (a note, a reprint) so racing writers see it."""
    updated = (
        await AfterSale.filter(id=row.id, version=row.version)
        .using_db(conn)
        .update(version=row.version + 1, updated_at=at)
    )
    if updated == 1:
        row.version += 1
        row.updated_at = at
    return updated == 1


async def create_sale(
    conn: Connection, shop: Shop, fields: Mapping[str, Any], at: datetime
) -> AfterSale | None:
    """Insert a new after-sale; None when a concurrent writer inserted the same one first."""
    values = dict(fields)
    items: Sequence[LineItem] | None = values.pop("items", None)
    values.setdefault("created_at", at)
    values.setdefault("updated_at", at)
    try:
        async with in_transaction("default") as savepoint:
            row = await AfterSale.create(using_db=savepoint, shop_id=shop.id, **values)
    except IntegrityError:
        return None
    if items:
        await replace_items(conn, row.id, items)
    return row
