"""Read side: the lists, counts and nested lists that the API shows, as plain records.

One query for a page, one per nested list for a whole page (the API's dataloaders batch ids).
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from aftersales.domain.errors import Invalid
from aftersales.domain.model import (
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    ReturnStatus,
)
from aftersales.domain.sync import SyncStatus
from aftersales.domain.tags import MAX_LENGTH as MAX_TAG
from aftersales.domain.tags import key as tag_key
from aftersales.domain.triage import Rule
from aftersales.store import counts, cursors, keyset, rows
from aftersales.store.cursors import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_ID,
    decode_cursor,
    decode_deadline_cursor,
)
from aftersales.store.cursors import in_range as _in_range
from aftersales.store.models import AfterSale, AfterSaleTag, Shop
from aftersales.store.nested import NestedReads
from aftersales.store.records import (
    HistoryRecord,
    ItemRecord,
    NoteRecord,
    SaleRecord,
    ShopRecord,
    StockedInRecord,
)
from aftersales.store.rules import rule_matches
from aftersales.store.sql import Connection
from aftersales.store.stock import awaiting_stock_in

__all__ = [
    "MAX_ID",
    "HistoryRecord",
    "ItemRecord",
    "NoteRecord",
    "Page",
    "SaleFilter",
    "SaleRecord",
    "ShopRecord",
    "StockedInRecord",
]

MAX_PAGE = 100
# Statuses in which the seller owes TikTok a response (the seller response SLA).
AWAITING_SELLER = (AfterSaleStatus.PENDING_REQUEST, AfterSaleStatus.SHIPPED_BY_BUYER)


@dataclass(frozen=True)
class SaleFilter:
    type: AfterSaleType | None = None
    status: AfterSaleStatus | None = None
    return_status: ReturnStatus | None = None
    shop_id: str | None = None
    search: str | None = None
    dispute_status: DisputeStatus | None = None
    awaiting_stock_in: bool | None = None
    response_due_before: datetime | None = None
    sync_status: SyncStatus | None = None
    must_not_ship: bool | None = None
    # Tags that must all be present (compared case-insensitively: aftersales/domain/tags.py).
    tags: tuple[str, ...] | None = None
    # What a rule's conditions match (previewRule), and a lower bound of `created_at`.
    rule: Rule | None = None
    created_since: datetime | None = None


class AfterSaleOrder(enum.Enum):
    """A page's order: newest first, or the urgent queue (the soonest seller response deadline
    first, after-sales without one last; ties by id)."""

    NEWEST = "NEWEST"
    RESPONSE_DEADLINE = "RESPONSE_DEADLINE"


def encode_cursor(record: SaleRecord, order: AfterSaleOrder = AfterSaleOrder.NEWEST) -> str:
    """The cursor of `record` in a page of this order."""
    return cursors.encode_cursor(record, urgent=order is AfterSaleOrder.RESPONSE_DEADLINE)


@dataclass(frozen=True)
class Page:
    records: list[SaleRecord]
    total_count: int
    has_next_page: bool


NOTHING = Q(id__in=[])


def _equals(model: type[Model], column: str, value: str, path: str | None = None) -> Q:
    """`path = value`, or a filter that matches nothing when `value` is longer than the column
    can hold (Tortoise would refuse to even send such a value)."""
    limit = getattr(model._meta.fields_map[column], "max_length", None)
    if limit is not None and len(value) > limit:
        return NOTHING
    return Q(**{path or column: value})


def _scoped(conn: Connection, seller_id: int, flt: SaleFilter) -> Q:
    if flt.shop_id is not None:
        # `shop_id = (SELECT id ...)`, not a join: the planner then walks the
        # (shop_id, type, status, created_at, id) index backwards and stops after a page,
        # where a join made it read and sort every match (30 ms at a million rows).
        own = _equals(Shop, "shop_id", flt.shop_id)
        q = (
            NOTHING
            if own is NOTHING
            else Q(
                shop_id=Subquery(Shop.filter(own, seller_id=seller_id).using_db(conn).values("id"))
            )
        )
    else:
        q = Q(shop__seller_id=seller_id)
    if flt.type is not None:
        q &= Q(type=flt.type)
    if flt.status is not None:
        q &= Q(status=flt.status)
    if flt.return_status is not None:
        q &= Q(return_status=flt.return_status)
    if flt.dispute_status is not None:
        q &= Q(dispute_status=flt.dispute_status)
    if flt.sync_status is not None:
        q &= Q(sync_status=flt.sync_status.value)
    if flt.must_not_ship is not None:
        q &= Q(must_not_ship=flt.must_not_ship)
    if flt.search:
        term = flt.search.strip()
        q &= (
            _equals(AfterSale, "return_id", term)
            | _equals(AfterSale, "order_id", term)
            | _equals(AfterSale, "tracking_number", term)
        )
    if flt.response_due_before is not None:
        # SQLite compares the stored UTC text: a limit written in another offset must be
        # converted first, or "16:30+07:00" would sort after "10:00+00:00".
        due = _in_range(flt.response_due_before)
        if due is None:
            raise Invalid(
                f"responseDueBefore must be a time in the years {FIRST_YEAR} to {LAST_YEAR} (UTC)",
                field="responseDueBefore",
            )
        q &= Q(seller_response_deadline__lte=due, status__in=AWAITING_SELLER)
    if flt.rule is not None:
        q &= rule_matches(conn, flt.rule)
    if flt.created_since is not None:
        since = _in_range(flt.created_since)
        if since is None:
            raise Invalid(
                f"since must be a time in the years {FIRST_YEAR} to {LAST_YEAR} (UTC)",
                field="since",
            )
        q &= Q(created_at__gte=since)
    for tag in flt.tags or ():
        wanted = tag_key(tag)
        if not wanted or len(wanted) > MAX_TAG:
            return NOTHING  # no after-sale holds such a tag
        # One `id IN (...)` per tag, each an index range of (key, after_sale_id).
        q &= Q(
            id__in=Subquery(AfterSaleTag.filter(key=wanted).using_db(conn).values("after_sale_id"))
        )
    return q


# `_plain_page`'s filters: a column of the after-sale equal to an enum's value.
_PLAIN_EQUALS = ("type", "status", "return_status", "dispute_status")


def _plain_page(
    seller_id: int, flt: SaleFilter, cursor: tuple[datetime, int] | None
) -> tuple[str, list[Any], str, list[Any]] | None:
    """The page's and its total's WHERE (with their parameters) written out, the same SQL
    `_scoped` makes Tortoise build, for the filters a list's tabs use (shop, type, statuses,
    cursor); None for the others (search, stock-in, response deadline, a shop id longer than
    the column), which keep Tortoise's query builder."""
    if (
        flt.search
        or flt.awaiting_stock_in is not None
        or flt.response_due_before is not None
        or flt.tags
        or flt.rule is not None
        or flt.created_since is not None
    ):
        return None
    where: list[str] = []
    params: list[Any] = []
    if flt.shop_id is not None:
        limit = getattr(Shop._meta.fields_map["shop_id"], "max_length", None)
        if limit is not None and len(flt.shop_id) > limit:
            return None
        # A scalar subquery, not a join: see `_scoped`.
        where.append(
            'a."shop_id" = (SELECT "id" FROM "shop" WHERE "shop_id" = ? AND "seller_id" = ?)'
        )
        params += [flt.shop_id, seller_id]
    else:
        where.append('s."seller_id" = ?')
        params.append(seller_id)
    for name in _PLAIN_EQUALS:
        value = getattr(flt, name)
        if value is not None:
            where.append(f'a."{name}" = ?')
            params.append(value.value)
    if flt.sync_status is not None:
        # A literal, not a parameter: the partial indexes of FAILED and PENDING after-sales
        # (migration 0009) are used only for a predicate that names their value.
        where.append(f"a.\"sync_status\" = '{flt.sync_status.value}'")
    if flt.must_not_ship is not None:
        # A literal too: the partial index of must-not-ship cancellations (migration 0011).
        where.append(f'a."must_not_ship" = {"TRUE" if flt.must_not_ship else "FALSE"}')
    count_where, count_params = " AND ".join(where), list(params)
    if cursor is not None:
        created_at, sale_id = cursor
        where.append('(a."created_at" < ? OR (a."created_at" = ? AND a."id" < ?))')
        params += [created_at, created_at, sale_id]
    return " AND ".join(where), params, count_where, count_params


class SaleReads(NestedReads):
    """The read side of after-sales, on the read handle (`reading()` in aftersales/store/uow.py):
    pages and one after-sale here, their nested lists from `NestedReads`."""

    async def list_sales(
        self,
        seller_id: int,
        flt: SaleFilter,
        *,
        first: int,
        after: str | None,
        order: AfterSaleOrder = AfterSaleOrder.NEWEST,
    ) -> Page:
        if first < 0 or first > MAX_PAGE:
            raise Invalid(f"first must be between 0 and {MAX_PAGE}", field="first")
        if order is AfterSaleOrder.RESPONSE_DEADLINE:
            return await self._urgent(seller_id, flt, first=first, after=after)
        cursor = decode_cursor(after) if after else None
        plain = _plain_page(seller_id, flt, cursor) if first > 0 else None
        if plain is not None:
            where, params, count_where, count_params = plain
            found, total = await rows.fetch_page_with_total(
                self._conn, where, params, count_where, count_params, first + 1
            )
            if total is None:  # an empty page: the total counts the matches before the cursor too
                scoped = _scoped(self._conn, seller_id, flt)
                total = await self._matching(scoped).count() if after else 0
            return Page(
                records=[rows.sale(r) for r in found[:first]],
                total_count=total,
                has_next_page=len(found) > first,
            )
        q = _scoped(self._conn, seller_id, flt)
        if flt.awaiting_stock_in is not None:
            waiting = awaiting_stock_in()
            q &= waiting if flt.awaiting_stock_in else ~waiting
        page_q = q
        if cursor is not None:
            created_at, sale_id = cursor
            page_q &= Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=sale_id)
        if first == 0:
            # A count only: no rows, so no next page to follow (a pager would loop on a page that
            # has no cursor to go on from).
            total_count = await self._matching(q).count()
            return Page(records=[], total_count=total_count, has_next_page=False)
        query = (
            self._matching(page_q)
            .order_by("-created_at", "-id")
            .limit(first + 1)
            .values_list(*rows.SALE_COLUMNS)
        )
        # One statement: the page, each row carrying the total (a subquery run once).
        found, total = await rows.fetch_with_total(self._conn, query, self._matching(q).count())
        if total is None:  # an empty page: the total counts the matches before the cursor too
            total = await self._matching(q).count() if after else 0
        return Page(
            records=[rows.sale(r) for r in found[:first]],
            total_count=total,
            has_next_page=len(found) > first,
        )

    async def _urgent(
        self, seller_id: int, flt: SaleFilter, *, first: int, after: str | None
    ) -> Page:
        """The urgent queue, as two keyset ranges read in turn: the after-sales with a deadline
        by (deadline, id), then those without one by id. Each is an index range on both
        databases (SQLite sorts NULL first, so `NULLS LAST` is not one ORDER BY there)."""
        due, last_id = decode_deadline_cursor(after) if after else (None, 0)
        q = self._filtered(seller_id, flt)
        total = await self._matching(q).count()
        found = await keyset.urgent_rows(
            self._matching, q, first + 1, due, last_id, started=after is not None
        )
        return Page(
            records=[rows.sale(r) for r in found[:first]],
            total_count=total,
            has_next_page=len(found) > first,
        )

    def _filtered(self, seller_id: int, flt: SaleFilter) -> Q:
        q = _scoped(self._conn, seller_id, flt)
        if flt.awaiting_stock_in is not None:
            waiting = awaiting_stock_in()
            q &= waiting if flt.awaiting_stock_in else ~waiting
        return q

    async def batches(
        self, seller_id: int, flt: SaleFilter, order: AfterSaleOrder, *, size: int = 1000
    ) -> AsyncIterator[list[SaleRecord]]:
        """Every after-sale `flt` matches, in `order`, `size` at a time: keyset batches, no
        totals (the CSV export: constant memory whatever the count). Raises `Invalid` for a
        bad filter before yielding anything. The filters of a list's tabs run as SQL written
        out (`_plain_page`), the others through Tortoise's query builder."""
        q = self._filtered(seller_id, flt)
        plain = _plain_page(seller_id, flt, None)
        urgent = order is AfterSaleOrder.RESPONSE_DEADLINE
        due: datetime | None = None
        created: datetime | None = None
        last_id = 0
        started = False
        while True:
            if plain is not None:
                found = await keyset.plain_batch(
                    self._conn, plain, urgent, size, due, created, last_id, started=started
                )
            elif urgent:
                found = await keyset.urgent_rows(
                    self._matching, q, size, due, last_id, started=started
                )
            else:
                page_q = q
                if created is not None:
                    page_q &= Q(created_at__lt=created) | Q(created_at=created, id__lt=last_id)
                found = await (
                    self._matching(page_q)
                    .order_by("-created_at", "-id")
                    .limit(size)
                    .values_list(*rows.SALE_COLUMNS)
                )
            records = [rows.sale(r) for r in found]
            if records:
                yield records
            if len(records) < size:
                return
            last = records[-1]
            started, last_id = True, last.id
            due, created = last.seller_response_deadline, last.created_at

    def _matching(self, q: Q) -> QuerySet[AfterSale]:
        return AfterSale.filter(q).using_db(self._conn)

    async def get_sale(self, seller_id: int, sale_id: int) -> SaleRecord | None:
        found = await rows.fetch_sales(
            self._conn, 'a."id" = ? AND s."seller_id" = ?', [sale_id, seller_id]
        )
        return rows.sale(found[0]) if found else None

    async def count_by_status(
        self, seller_id: int, type_: AfterSaleType, shop_id: str | None
    ) -> counts.StatusCounts:
        """Per-status counts, from the counts table the triggers keep (store/counts.py)."""
        if shop_id is not None and _equals(Shop, "shop_id", shop_id) is NOTHING:
            return counts.StatusCounts({}, untidy=False)  # longer than any shop id: no such shop
        return await counts.count_by_status(self._conn, seller_id, type_, shop_id)
