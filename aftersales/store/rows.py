"""Raw rows into read-side records, without building ORM instances.

Turning rows into model instances (or passing every value through its field object) costs
Tortoise several times what the SELECT itself costs, and the read side needs neither: it runs
the SQL (built by a QuerySet wherever filters are involved, written out below for the plain
lookups by after-sale ids) and decodes each column by the rules Tortoise itself applies:

- times: SQLite returns the stored ISO text, asyncpg an aware datetime; both come out aware in
  Tortoise's default time zone (UTC), a naive value being taken to be in that zone already;
- money: a Decimal quantized to the column's two places (`MONEY` in models.py);
- enums: looked up by value.

Tests compare these records with what the write side stored, on both databases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from tortoise.queryset import CountQuery, ValuesListQuery
from tortoise.timezone import get_default_timezone

from aftersales.domain.model import (
    AbnormalReason,
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    ReturnStatus,
)
from aftersales.store.records import SaleRecord, ShopRecord
from aftersales.store.sql import Connection, dialect, numbered

Row = Sequence[Any]
CENT = Decimal("0.01")

# The columns `sale` decodes, in its order (QuerySet.values_list names, joins included).
SALE_COLUMNS = (
    "id",
    "shop__id",
    "shop__shop_id",
    "shop__region",
    "shop__name",
    "return_id",
    "order_id",
    "type",
    "status",
    "return_status",
    "platform_status",
    "reason",
    "reject_reason",
    "abnormal_reason",
    "currency",
    "refund_requested",
    "refund_amount",
    "partial_refund_offer",
    "tracking_number",
    "carrier",
    "seller_response_deadline",
    "dispute_deadline",
    "dispute_status",
    "returned_at",
    "last_event_at",
    "parcel_event_at",
    "sync_status",
    "sync_error",
    "sync_attempts",
    "platform_updated_at",
    "version",
    "created_at",
    "updated_at",
    "quick_refund",
    "pre_return_id",
    "next_return_id",
    "must_not_ship",
)

# `SALE_COLUMNS` written out, for the lookups of one after-sale by key: building them through a
# QuerySet (with its join to shop) cost more than running them.
_SALE_LIST = ",".join(
    f's."{c.removeprefix("shop__")}"' if c.startswith("shop__") else f'a."{c}"'
    for c in SALE_COLUMNS
)
SALE_SELECT = f'SELECT {_SALE_LIST} FROM "after_sale" AS a JOIN "shop" AS s ON s."id" = a."shop_id"'

# What a TikTok report needs before it decides, in one statement: its shop (no row: not
# registered), the after-sale of that return if there is one (its columns null otherwise),
# whether that after-sale has lines, whether parcel events wait for the return or its
# tracking number (aftersales/inbox/late.py), the return that names this one as the request
# it replaces, if one is held (aftersales/domain/edits.py), and whether the shop's seller has
# an enabled rule (aftersales/commands/triage.py). Parameters: the waiting events'
# source and outcome, the return_id and tracking number they are matched by, the return_id
# (for the successor), the return_id, the shop_id.
REPORT_SELECT = (
    f"SELECT {_SALE_LIST},"
    ' (a."id" IS NOT NULL AND EXISTS (SELECT 1 FROM "after_sale_item" AS i'
    ' WHERE i."after_sale_id" = a."id")) AS has_items,'
    ' EXISTS (SELECT 1 FROM "webhook_delivery" AS w WHERE w."source" = ?'
    ' AND w."shop_id" = s."shop_id" AND w."outcome" = ?'
    ' AND (w."match_return_id" = ? OR w."match_tracking_number" = ?)) AS waiting,'
    ' (SELECT n."return_id" FROM "after_sale" AS n WHERE n."shop_id" = s."id"'
    ' AND n."pre_return_id" = ? ORDER BY n."id" LIMIT 1) AS successor,'
    ' EXISTS (SELECT 1 FROM "triage_rule" AS r WHERE r."seller_id" = s."seller_id"'
    ' AND r."enabled") AS has_rules'
    ' FROM "shop" AS s LEFT JOIN "after_sale" AS a'
    ' ON a."shop_id" = s."id" AND a."return_id" = ?'
    ' WHERE s."shop_id" = ?'
)

# An edited request's links (aftersales/domain/edits.py), for a set of after-sales `y`: the
# after-sale `a` it replaces (`supersedes`) or that replaces it (`supersededBy`), in the same
# shop. Each side may have learnt the link (TikTok's `pre_return_id` on the new one,
# `next_return_id` on the old one), so either is read.
_LINKED = (
    f'SELECT y."id",{_SALE_LIST} FROM "after_sale" AS y JOIN "after_sale" AS a'
    ' ON a."shop_id" = y."shop_id" AND a."id" <> y."id" AND ({link})'
    ' JOIN "shop" AS s ON s."id" = a."shop_id"'
    ' WHERE y."id" IN ({{ids}}) ORDER BY a."id"'
)
SUPERSEDES_SQL = _LINKED.format(
    link='a."return_id" = y."pre_return_id" OR a."next_return_id" = y."return_id"'
)
SUPERSEDED_BY_SQL = _LINKED.format(
    link='a."return_id" = y."next_return_id" OR a."pre_return_id" = y."return_id"'
)

# Nested lists for a set of after-sales; `{ids}` becomes one placeholder per id.
ITEMS_SQL = (
    'SELECT "after_sale_id","sku","product_name","quantity","unit_refund"'
    ' FROM "after_sale_item" WHERE "after_sale_id" IN ({ids}) ORDER BY "id"'
)
NOTES_SQL = (
    'SELECT "after_sale_id","text","created_at" FROM "note"'
    ' WHERE "after_sale_id" IN ({ids}) ORDER BY "created_at","id"'
)
# In the order the changes were applied: entries are written under the after-sale's version
# check, so a later change's entry always has the greater id (`at` may tie, or come from a
# caller's clock).
HISTORY_SQL = (
    'SELECT "after_sale_id","at","actor","action","from_status","to_status","source",'
    '"platform_at","actor_name" FROM "history_entry" WHERE "after_sale_id" IN ({ids}) ORDER BY "id"'
)
STOCKED_IN_SQL = (
    'SELECT "after_sale_id","sku","condition","quantity" FROM "stock_movement"'
    ' WHERE "after_sale_id" IN ({ids}) ORDER BY "id"'
)


async def fetch_by_sale(conn: Connection, sql: str, ids: Sequence[int]) -> Sequence[Row]:
    """Run one of the `*_SQL` statements above for these after-sale ids."""
    if not ids:
        return []
    if dialect(conn) == "postgres":
        marks = ",".join(f"${n}" for n in range(1, len(ids) + 1))
    else:
        marks = ",".join("?" * len(ids))
    _, found = await conn.execute_query(sql.format(ids=marks), [int(i) for i in ids])
    return cast(Sequence[Row], found)


async def fetch_sales(
    conn: Connection, where: str, params: Sequence[Any], *, tail: str = "LIMIT 1"
) -> Sequence[Row]:
    """`SALE_SELECT` with a `WHERE` written with `?` placeholders (and `tail`: ordering, limit),
    on `conn`; rows for `sale`."""
    client = conn
    sql = f"{SALE_SELECT} WHERE {where} {tail}"
    if dialect(client) == "postgres":
        sql = numbered(sql)
    _, found = await client.execute_query(sql, list(params))
    return cast(Sequence[Row], found)


def shop(row: Row) -> ShopRecord:
    """The shop of a row of `SALE_COLUMNS` (that of `REPORT_SELECT` too)."""
    return ShopRecord(id=row[1], shop_id=row[2], region=row[3], name=row[4])


async def fetch(conn: Connection, query: ValuesListQuery[Any]) -> Sequence[Row]:
    """Run a QuerySet's SQL (so filters and dialect stay Tortoise's) but leave the values raw,
    on `conn` (build the QuerySet with `.using_db(conn)` too)."""
    query.sql()  # builds `query.query` for its connection's dialect
    sql, params = query.query.get_parameterized_sql()
    _, found = await conn.execute_query(sql, params)
    return cast(Sequence[Row], found)


def _parameterized(query: ValuesListQuery[Any] | CountQuery) -> tuple[str, list[Any]]:
    """A QuerySet's SQL and parameters, built once: `QuerySet.sql()` builds both and keeps only
    the text, so calling `get_parameterized_sql()` after it builds them a second time."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)


async def fetch_with_total(
    conn: Connection, page: ValuesListQuery[Any], count: CountQuery
) -> tuple[Sequence[Row], int | None]:
    """A page's rows and, in the same statement, `count`'s total: `count` becomes a scalar
    subquery in the page's column list (uncorrelated: both databases run it once). Rows come
    back without that last column; the total is None when the page is empty."""
    page_sql, page_params = _parameterized(page)
    count_sql, count_params = _parameterized(count)
    head, from_, tail = page_sql.partition(' FROM "after_sale"')
    assert from_, page_sql
    if dialect(conn) == "postgres":  # numbered: the count's placeholders follow the page's
        shift = len(page_params)
        count_sql = re.sub(r"\$(\d+)", lambda m: f"${int(m[1]) + shift}", count_sql)
        params = [*page_params, *count_params]
    else:  # positional: the count's come first in the text
        params = [*count_params, *page_params]
    sql = f"{head},({count_sql}) {from_}{tail}"
    _, found = await conn.execute_query(sql, params)
    if not found:
        return [], None
    total = int(tuple(found[0])[-1])
    return [tuple(r)[:-1] for r in found], total


async def fetch_page_with_total(
    conn: Connection,
    where: str,
    params: Sequence[Any],
    count_where: str,
    count_params: Sequence[Any],
    limit: int,
) -> tuple[Sequence[Row], int | None]:
    """`fetch_with_total` for a page written out by hand (`queries._plain_page`), skipping
    Tortoise's query builder, which cost more than a page's SQL takes to run: `SALE_SELECT`
    rows (`a` the after-sale, `s` its shop) matching `where`, newest first, at most `limit`,
    each carrying the count of `count_where` (over `a` alone, or `a` joined to `s` when it
    names `s`). Both are written with `?` placeholders."""
    joined = ' JOIN "shop" AS s ON s."id" = a."shop_id"' if 's."' in count_where else ""
    count = f'SELECT COUNT(*) FROM "after_sale" AS a{joined} WHERE {count_where}'
    head, from_ = SALE_SELECT.split(" FROM ", 1)
    sql = (
        f"{head},({count}) FROM {from_} WHERE {where}"
        ' ORDER BY a."created_at" DESC, a."id" DESC LIMIT ?'
    )
    if dialect(conn) == "postgres":
        sql = numbered(sql)
    _, found = await conn.execute_query(sql, [*count_params, *params, limit])
    if not found:
        return [], None
    total = int(tuple(found[0])[-1])
    return [tuple(r)[:-1] for r in found], total


def when(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    zone = get_default_timezone()
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def when_or_none(value: Any) -> datetime | None:
    return None if value is None else when(value)


def money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(CENT)


def sale(row: Row) -> SaleRecord:
    """A row of `SALE_COLUMNS`."""
    (
        id_,
        shop_pk,
        shop_id,
        region,
        name,
        return_id,
        order_id,
        type_,
        status,
        return_status,
        platform_status,
        reason,
        reject_reason,
        abnormal_reason,
        currency,
        refund_requested,
        refund_amount,
        partial_refund_offer,
        tracking_number,
        carrier,
        seller_response_deadline,
        dispute_deadline,
        dispute_status,
        returned_at,
        last_event_at,
        parcel_event_at,
        sync_status,
        sync_error,
        sync_attempts,
        platform_updated_at,
        version,
        created_at,
        updated_at,
        quick_refund,
        pre_return_id,
        next_return_id,
        must_not_ship,
    ) = row
    return SaleRecord(
        id=id_,
        shop=ShopRecord(id=shop_pk, shop_id=shop_id, region=region, name=name),
        return_id=return_id,
        order_id=order_id,
        type=AfterSaleType(type_),
        status=None if status is None else AfterSaleStatus(status),
        return_status=ReturnStatus(return_status),
        platform_status=platform_status,
        reason=reason,
        reject_reason=reject_reason,
        abnormal_reason=None if abnormal_reason is None else AbnormalReason(abnormal_reason),
        currency=currency,
        refund_requested=money(refund_requested),
        refund_amount=money(refund_amount),
        partial_refund_offer=money(partial_refund_offer),
        tracking_number=tracking_number,
        carrier=carrier,
        seller_response_deadline=when_or_none(seller_response_deadline),
        dispute_deadline=when_or_none(dispute_deadline),
        dispute_status=DisputeStatus(dispute_status),
        returned_at=when_or_none(returned_at),
        last_event_at=when_or_none(last_event_at),
        parcel_event_at=when_or_none(parcel_event_at),
        sync_status=sync_status,
        sync_error=sync_error,
        sync_attempts=sync_attempts,
        platform_updated_at=when_or_none(platform_updated_at),
        version=version,
        created_at=when(created_at),
        updated_at=when(updated_at),
        quick_refund=bool(quick_refund),
        pre_return_id=pre_return_id,
        next_return_id=next_return_id,
        must_not_ship=bool(must_not_ship),
    )
