"""After-sales on the write side: load one for a command, save its change with history.

Every save is a conditional update on `version` (optimistic concurrency, the same SQL on SQLite
and PostgreSQL) followed by its history entry, in the unit of work's transaction. A save that
finds the version moved returns False: the command retries from a fresh read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.models import Model

from aftersales.domain.model import Actor, Change, ChangeAction, EventSource, LineItem
from aftersales.domain.outcome import Outcome
from aftersales.store import rows, sql
from aftersales.store.deliveries import LOGISTICS
from aftersales.store.models import AfterSale, AfterSaleItem, HistoryEntry, Note
from aftersales.store.records import SaleRecord, ShopRecord
from aftersales.store.sql import Connection, dialect

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


@dataclass(frozen=True)
class ReportLookup:
    """What a TikTok report needs before it decides (`Sales.for_report`)."""

    shop: ShopRecord | None  # None: the shop is not registered (yet)
    sale: SaleRecord | None  # the after-sale of the report's return, if there is one
    has_items: bool  # that after-sale has lines already
    # Parcel events wait (`unmatched`) for this return_id or tracking number (inbox/late.py).
    events_waiting: bool
    # A held after-sale that names this return as the request it replaces (its return_id):
    # this one is superseded (aftersales/domain/edits.py).
    successor: str | None = None
    has_rules: bool = False  # the shop's seller has an enabled rule


@dataclass(frozen=True)
class Entry:
    """A history entry: `change` applied at `at` by `actor` through `source`; `platform_at`:
    TikTok's own time for a change that came from TikTok."""

    change: Change
    at: datetime
    actor: Actor
    source: EventSource
    detail: Mapping[str, Any] | None = None
    platform_at: datetime | None = None
    actor_name: str | None = None  # who by name, when the actor alone does not say (a rule)


# A new after-sale's lines go into the statement that inserts it up to this many (on PostgreSQL,
# one `INSERT ... SELECT` each); a return with more has them inserted in one more statement.
_LINES_IN_ONE_STATEMENT = 32

# A new after-sale: a concurrent writer's insert of the same one (same return, or same parcel
# of an abnormal return) makes this one insert nothing, without an error that would abort
# PostgreSQL's transaction, so no savepoint is needed around it.
_CREATED = ' ON CONFLICT DO NOTHING RETURNING "id"'


class Sales:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def for_report(
        self, shop_id: str, return_id: str, tracking_number: str | None
    ) -> ReportLookup:
        """The shop, the after-sale of `return_id` in it, whether that has lines, whether
        parcel events wait for the return or `tracking_number`, and the return that replaces
        it if one is held: one statement."""
        params = [LOGISTICS, Outcome.UNMATCHED.value, return_id, tracking_number, return_id]
        found = await sql.select(self._conn, rows.REPORT_SELECT, [*params, return_id, shop_id])
        if not found:
            return ReportLookup(None, None, has_items=False, events_waiting=False)
        row = tuple(found[0])
        columns = len(rows.SALE_COLUMNS)
        sale = None if row[0] is None else rows.sale(row[:columns])
        return ReportLookup(
            rows.shop(row),
            sale,
            has_items=bool(row[columns]),
            events_waiting=bool(row[columns + 1]),
            successor=row[columns + 2],
            has_rules=bool(row[columns + 3]),
        )

    async def serialize_order(self, shop: ShopRecord, order_id: str) -> bool:
        """Wait until no other transaction is creating an after-sale of the same order, so the
        two returns of an edited request (same order) always see each other: whichever commits
        second finds the first (PostgreSQL: an advisory lock held until this transaction ends;
        read committed then shows the other's row). SQLite has one writer at a time: nothing to
        wait for. Whether a lock was taken."""
        if dialect(self._conn) != "postgres":
            return False
        await self._conn.execute_query(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))", [shop.id, order_id]
        )
        return True

    async def successor_of(self, shop: ShopRecord, return_id: str) -> str | None:
        """The return_id of a held after-sale that names `return_id` as the request it
        replaces (aftersales/domain/edits.py), if any."""
        found = await rows.fetch_sales(
            self._conn,
            'a."shop_id" = ? AND a."pre_return_id" = ?',
            [shop.id, return_id],
            tail='ORDER BY a."id" LIMIT 1',
        )
        return rows.sale(found[0]).return_id if found else None

    async def _one(self, where: str, *params: Any, tail: str = "LIMIT 1") -> SaleRecord | None:
        found = await rows.fetch_sales(self._conn, where, params, tail=tail)
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
        self,
        shop: ShopRecord,
        fields: Mapping[str, Any],
        *,
        at: datetime,
        entry: Entry | None = None,
    ) -> SaleRecord | None:
        """Insert a new after-sale with these fields (the key `items` gives its lines) and, with
        `entry`, the history entry that records its creation; None when a concurrent writer
        inserted the same one first (nothing written then).

        On PostgreSQL that is one statement (the lines and the entry inserted in a `WITH` from
        the after-sale's insert, so none when it inserted nothing); on SQLite one each."""
        values = dict(fields)
        items: Sequence[LineItem] = values.pop("items", None) or ()
        values.setdefault("created_at", at)
        values.setdefault("updated_at", at)
        values["shop_id"] = shop.id
        statement, params = sql.insert(AfterSale, [values], tail=_CREATED)
        lines = [_line(None, item) for item in items]
        entries = [] if entry is None else [_entry(None, entry)]
        if dialect(self._conn) == "postgres":
            together = lines if len(lines) <= _LINES_IN_ONE_STATEMENT else []
            clauses = [f"WITH a AS ({statement})"]
            # Sub-statements of a WITH run in no set order: each line is inserted from the row
            # the previous one returned, so their ids (the order lines are read in) follow the
            # report's.
            previous = "a"
            for n, row in enumerate(together):
                clause, more = sql.insert_select(
                    AfterSaleItem,
                    row,
                    source=previous,
                    refs={"after_sale_id": f'{previous}."id"'},
                    tail=' RETURNING "after_sale_id" AS "id"',
                )
                clauses.append(f"i{n} AS ({clause})")
                params.extend(more)
                previous = f"i{n}"
            for n, row in enumerate(entries):
                clause, more = sql.insert_select(
                    HistoryEntry, row, source="a", refs={"after_sale_id": 'a."id"'}
                )
                clauses.append(f"h{n} AS ({clause})")
                params.extend(more)
            statement = ", ".join(clauses) + ' SELECT "id" FROM a'
            lines = lines[len(together) :]
            entries = []
        inserted = await sql.returning(self._conn, statement, params)
        if not inserted:
            return None
        sale_id = int(inserted[0]["id"])
        if lines:
            await self._insert(AfterSaleItem, [dict(row, after_sale_id=sale_id) for row in lines])
        if entries:
            await self._insert(HistoryEntry, [dict(row, after_sale_id=sale_id) for row in entries])
        return _created(sale_id, shop, values)

    async def save(
        self,
        sale: SaleRecord,
        change: Change,
        *,
        at: datetime,
        actor: Actor,
        source: EventSource,
        detail: Mapping[str, Any] | None = None,
        platform_at: datetime | None = None,
        actor_name: str | None = None,
    ) -> bool:
        """Write `change` and its history entry if nobody changed the after-sale since `sale` was
        read. False on a lost race (nothing written). A change that is not `recorded` moves the
        version only: no history entry, `updated_at` kept.

        The entry is written under the version check, so entries' ids follow the order the
        changes were applied (history reads in that order), and it carries the time its change
        was applied: `at`, the moment the caller started, unless a change applied in between
        (which this one lost to and was retried after) is later; then that change's time, so
        times never run backwards along history. `platform_at`: TikTok's own time."""
        fields: dict[str, Any] = dict(change.fields)
        items: Sequence[LineItem] | None = fields.pop("items", None)
        at = max(at, sale.updated_at)
        if change.recorded:
            fields["updated_at"] = at
        if not await self._bump(sale, fields):
            return False
        if items is not None:
            await self._replace_items(sale.id, items)
        if change.recorded:
            entry = Entry(change, at, actor, source, detail, platform_at, actor_name)
            await self._insert(HistoryEntry, [_entry(sale.id, entry)])
        return True

    async def touch(
        self,
        sale: SaleRecord,
        *,
        at: datetime,
        actor: Actor,
        action: ChangeAction,
        source: EventSource,
        detail: Mapping[str, Any] | None = None,
        actor_name: str | None = None,
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
            actor_name=actor_name,
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

    async def by_id(self, sale_id: int) -> SaleRecord | None:
        return await self._one('a."id" = ?', sale_id)

    async def skus(self, sale_id: int) -> frozenset[str]:
        """The SKUs of the after-sale's lines."""
        found = await sql.select(
            self._conn, 'SELECT "sku" FROM "after_sale_item" WHERE "after_sale_id" = ?', [sale_id]
        )
        return frozenset(str(row[0]) for row in found)

    async def has_items(self, sale_id: int) -> bool:
        """Whether the after-sale has lines (items) already."""
        return bool(await AfterSaleItem.filter(after_sale_id=sale_id).using_db(self._conn).exists())

    async def add_note(self, sale_id: int, text: str, *, at: datetime) -> None:
        await Note.create(using_db=self._conn, after_sale_id=sale_id, text=text, created_at=at)

    async def _bump(self, sale: SaleRecord, fields: Mapping[str, Any]) -> bool:
        statement, params = sql.update(
            AfterSale, {**fields, "version": sale.version + 1}, '"id"=? AND "version"=?'
        )
        return await sql.execute(self._conn, statement, [*params, sale.id, sale.version]) == 1

    async def _replace_items(self, sale_id: int, items: Sequence[LineItem]) -> None:
        await AfterSaleItem.filter(after_sale_id=sale_id).using_db(self._conn).delete()
        if items:
            await self._insert_items(sale_id, items)

    async def _insert_items(self, sale_id: int, items: Sequence[LineItem]) -> None:
        await self._insert(AfterSaleItem, [_line(sale_id, item) for item in items])

    async def _insert(self, model: type[Model], rows: Sequence[Mapping[str, Any]]) -> None:
        statement, params = sql.insert(model, rows)
        await sql.execute(self._conn, statement, params)


def _line(sale_id: int | None, item: LineItem) -> dict[str, Any]:
    return {
        "after_sale_id": sale_id,
        "sku": item.sku,
        "product_name": item.product_name,
        "quantity": item.quantity,
        "unit_refund": item.unit_refund,
    }


def _entry(sale_id: int | None, entry: Entry) -> dict[str, Any]:
    return {
        "after_sale_id": sale_id,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.change.action,
        "from_status": entry.change.from_status,
        "to_status": entry.change.to_status,
        "source": entry.source,
        "detail": dict(entry.detail) if entry.detail else None,
        "platform_at": entry.platform_at,
        "actor_name": entry.actor_name,
    }


def _created(sale_id: int, shop: ShopRecord, values: Mapping[str, Any]) -> SaleRecord:
    """The record of an after-sale just inserted with `values` (the model's defaults for the
    columns left out), built by the one decoder (`rows.sale`)."""
    fields = AfterSale._meta.fields_map

    def column(name: str) -> Any:
        if name == "id":
            return sale_id
        if name.startswith("shop__"):
            return getattr(shop, {"shop__id": "id"}.get(name, name.removeprefix("shop__")))
        if name in values:
            return values[name]
        default = fields[name].default
        return default() if callable(default) else default

    return rows.sale([column(name) for name in rows.SALE_COLUMNS])
