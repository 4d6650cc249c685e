"""After-sales on the write side: load one for a command, save its change with history.

Every save is a conditional update on `version` (optimistic concurrency, the same SQL on SQLite
and PostgreSQL) followed by its history entry, in the unit of work's transaction. A save that
finds the version moved returns False: the command retries from a fresh read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aftersales.domain.model import Actor, Change, EventSource, LineItem
from aftersales.store import rows
from aftersales.store.models import AfterSale, AfterSaleItem, HistoryEntry, Note
from aftersales.store.records import SaleRecord, ShopRecord
from aftersales.store.sql import Connection, dialect, insert_or_none

_LOCK_PG = 'SELECT 1 FROM "after_sale" WHERE "id" = $1 FOR NO KEY UPDATE'
# The after-sales of a shop that a parcel event's keys match, locked unless being written now
# (aftersales/store/rematches.py says why the parcel rematch takes them first).
_HOLD_MATCHING_PG = """
WITH matched AS (
    SELECT a.id FROM after_sale AS a JOIN shop AS s ON s.id = a.shop_id
    WHERE s.shop_id = $1 AND (a.return_id = $2 OR a.tracking_number = $3)
), held AS (
    SELECT id FROM after_sale WHERE id IN (SELECT id FROM matched)
    ORDER BY id
    FOR UPDATE SKIP LOCKED
)
SELECT (SELECT count(*) FROM matched) AS matched, (SELECT count(*) FROM held) AS held
"""


class Sales:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def _one(self, where: str, *params: Any, tail: str = "LIMIT 1") -> SaleRecord | None:
        found = await rows.fetch_sales(where, params, conn=self._conn, tail=tail)
        return rows.sale(found[0]) if found else None

    async def of_seller(
        self, seller_id: int, sale_id: int, *, lock: bool = False
    ) -> SaleRecord | None:
        """The after-sale if it belongs to one of the seller's shops, else None. With `lock`, its
        row is held until the transaction ends, where the database has row locks (PostgreSQL;
        SQLite has one writer at a time)."""
        if lock and dialect(self._conn) == "postgres":
            await self._conn.execute_query(_LOCK_PG, [sale_id])
        return await self._one('a."id" = ? AND s."seller_id" = ?', sale_id, seller_id)

    async def by_return_id(self, shop: ShopRecord, return_id: str) -> SaleRecord | None:
        return await self._one('a."shop_id" = ? AND a."return_id" = ?', shop.id, return_id)

    async def by_tracking(
        self, shop: ShopRecord, tracking_number: str, order_id: str | None
    ) -> SaleRecord | None:
        """The after-sale whose parcel has this tracking number (the order's own one first)."""
        newest = 'ORDER BY a."id" DESC LIMIT 1'
        where = 'a."shop_id" = ? AND a."tracking_number" = ?'
        if order_id:
            own = await self._one(
                where + ' AND a."order_id" = ?', shop.id, tracking_number, order_id, tail=newest
            )
            if own is not None:
                return own
        return await self._one(where, shop.id, tracking_number, tail=newest)

    async def create(
        self, shop: ShopRecord, fields: Mapping[str, Any], *, at: datetime
    ) -> SaleRecord | None:
        """Insert a new after-sale (the key `items` gives its lines); None when a concurrent
        writer inserted the same one first."""
        values = dict(fields)
        items: Sequence[LineItem] | None = values.pop("items", None)
        values.setdefault("created_at", at)
        values.setdefault("updated_at", at)

        async def insert(conn: Connection) -> AfterSale:
            return await AfterSale.create(using_db=conn, shop_id=shop.id, **values)

        row = await insert_or_none(self._conn, insert)
        if row is None:
            return None
        if items:
            await self._replace_items(row.id, items)
        return rows.sale([_column(row, shop, name) for name in rows.SALE_COLUMNS])

    async def save(
        self,
        sale: SaleRecord,
        change: Change,
        *,
        at: datetime,
        actor: Actor,
        source: EventSource,
        detail: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write `change` and its history entry if nobody changed the after-sale since `sale` was
        read. False on a lost race (nothing written). A change that is not `recorded` moves the
        version only: no history entry, `updated_at` kept."""
        fields = dict(change.fields)
        items: Sequence[LineItem] | None = fields.pop("items", None)
        if change.recorded:
            fields["updated_at"] = at
        if not await self._bump(sale, fields):
            return False
        if items is not None:
            await self._replace_items(sale.id, items)
        if change.recorded:
            await self.log(sale.id, change, at=at, actor=actor, source=source, detail=detail)
        return True

    async def touch(
        self,
        sale: SaleRecord,
        *,
        at: datetime,
        actor: Actor,
        action: str,
        source: EventSource,
        detail: Mapping[str, Any] | None = None,
    ) -> bool:
        """Record a change that keeps the status (a note, a reprint, a stock-in): the version
        moves, so racing writers see it, and history says what happened. False on a lost race."""
        return await self.save(
            sale,
            Change(fields={}, action=action, from_status=sale.status, to_status=sale.status),
            at=at,
            actor=actor,
            source=source,
            detail=detail,
        )

    async def hold_matching(
        self, shop_id: str, return_id: str | None, tracking_number: str | None
    ) -> bool:
        """Lock every after-sale of the shop with this return_id or tracking number until the
        transaction ends; False (nothing held that matters) when one of them is being written
        by another transaction right now. SQLite has one writer at a time: always True."""
        if dialect(self._conn) != "postgres":
            return True
        _, found = await self._conn.execute_query(
            _HOLD_MATCHING_PG, [shop_id, return_id, tracking_number]
        )
        matched, held = int(found[0]["matched"]), int(found[0]["held"])
        return matched > 0 and held == matched

    async def has_items(self, sale_id: int) -> bool:
        """Whether the after-sale has lines (items) already."""
        return bool(await AfterSaleItem.filter(after_sale_id=sale_id).using_db(self._conn).exists())

    async def add_note(self, sale_id: int, text: str, *, at: datetime) -> None:
        await Note.create(using_db=self._conn, after_sale_id=sale_id, text=text, created_at=at)

    async def _bump(self, sale: SaleRecord, fields: Mapping[str, Any]) -> bool:
        updated = (
            await AfterSale.filter(id=sale.id, version=sale.version)
            .using_db(self._conn)
            .update(**fields, version=sale.version + 1)
        )
        return bool(updated == 1)

    async def _replace_items(self, sale_id: int, items: Sequence[LineItem]) -> None:
        await AfterSaleItem.filter(after_sale_id=sale_id).using_db(self._conn).delete()
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
            using_db=self._conn,
        )

    async def log(
        self,
        sale_id: int,
        change: Change,
        *,
        at: datetime,
        actor: Actor,
        source: EventSource,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Append a history entry alone: for an after-sale just created, whose creation it
        records (`save` and `touch` append theirs themselves)."""
        await HistoryEntry.create(
            using_db=self._conn,
            after_sale_id=sale_id,
            at=at,
            actor=actor,
            action=change.action,
            from_status=change.from_status,
            to_status=change.to_status,
            source=source,
            detail=dict(detail) if detail else None,
        )


def _column(row: AfterSale, shop: ShopRecord, name: str) -> Any:
    """A column of `rows.SALE_COLUMNS` read off a freshly created row, so that the one decoder
    (`rows.sale`) builds its record."""
    if name.startswith("shop__"):
        return getattr(shop, {"shop__id": "id"}.get(name, name.removeprefix("shop__")))
    return getattr(row, name)
