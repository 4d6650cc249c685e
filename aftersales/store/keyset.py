"""The keyset ranges of the orders that the page query does not serve by itself: the urgent
queue (`orderBy: RESPONSE_DEADLINE`) and the export's batches (aftersales/store/queries.py).

The urgent queue is two ranges read in turn: after-sales with a deadline by (deadline, id),
then those without one by id. Each is an index range on both databases (SQLite sorts NULL
first, so `NULLS LAST` is not one ORDER BY there)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from aftersales.store import rows
from aftersales.store.models import AfterSale
from aftersales.store.sql import Connection


async def urgent_rows(
    matching: Callable[[Q], QuerySet[AfterSale]],
    q: Q,
    limit: int,
    due: datetime | None,
    last_id: int,
    *,
    started: bool,
) -> list[Any]:
    """Up to `limit` rows of the urgent queue after (due, last_id) (`started`: a cursor
    was given; a None `due` then means it was among those without a deadline)."""
    found: list[Any] = []
    if limit <= 0:
        return found
    if not started or due is not None:
        dated = q & Q(seller_response_deadline__isnull=False)
        if due is not None:
            dated &= Q(seller_response_deadline__gt=due) | Q(
                seller_response_deadline=due, id__gt=last_id
            )
        found += await (
            matching(dated)
            .order_by("seller_response_deadline", "id")
            .limit(limit)
            .values_list(*rows.SALE_COLUMNS)
        )
    if len(found) < limit:
        undated = q & Q(seller_response_deadline__isnull=True)
        if started and due is None:
            undated &= Q(id__gt=last_id)
        found += await (
            matching(undated)
            .order_by("id")
            .limit(limit - len(found))
            .values_list(*rows.SALE_COLUMNS)
        )
    return found


async def plain_batch(
    conn: Connection,
    plain: tuple[str, list[Any], str, list[Any]],
    urgent: bool,
    size: int,
    due: datetime | None,
    created: datetime | None,
    last_id: int,
    *,
    started: bool,
) -> list[Any]:
    """`batches`' next rows by SQL written out (`plain`: `_plain_page`'s WHERE and its
    parameters): the same keyset ranges."""
    where, params = plain[0], plain[1]
    if not urgent:
        if created is not None:
            where += ' AND (a."created_at" < ? OR (a."created_at" = ? AND a."id" < ?))'
            params = [*params, created, created, last_id]
        tail = f'ORDER BY a."created_at" DESC, a."id" DESC LIMIT {int(size)}'
        return list(await rows.fetch_sales(conn, where, params, tail=tail))
    found: list[Any] = []
    if not started or due is not None:
        dated, more = where + ' AND a."seller_response_deadline" IS NOT NULL', list(params)
        if due is not None:
            dated += (
                ' AND (a."seller_response_deadline" > ?'
                ' OR (a."seller_response_deadline" = ? AND a."id" > ?))'
            )
            more += [due, due, last_id]
        tail = f'ORDER BY a."seller_response_deadline", a."id" LIMIT {int(size)}'
        found += await rows.fetch_sales(conn, dated, more, tail=tail)
    if len(found) < size:
        undated, more = where + ' AND a."seller_response_deadline" IS NULL', list(params)
        if started and due is None:
            undated += ' AND a."id" > ?'
            more.append(last_id)
        tail = f'ORDER BY a."id" LIMIT {int(size - len(found))}'
        found += await rows.fetch_sales(conn, undated, more, tail=tail)
    return found
