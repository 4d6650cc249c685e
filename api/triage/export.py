"""`GET /export/after-sales.csv`: the caller's after-sales as CSV (RFC 4180, a header row),
streamed in keyset batches so memory stays flat at a million rows.

The bearer token is /graphql's; the query parameters are `afterSales`' arguments by name
(enums by name, `tags` repeated, times ISO 8601), without `first`/`after`. A parameter that is
unknown or malformed is a 400 naming it, before anything is streamed. A cell that starts with
`=`, `+`, `-`, `@`, TAB or CR gets a leading `'`, so a spreadsheet shows it and never runs it.
"""

from __future__ import annotations

import csv
import enum
import io
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from aftersales.domain import model as domain
from aftersales.domain.errors import Invalid
from aftersales.domain.sync import SyncStatus
from aftersales.store import queries
from aftersales.store.records import SaleRecord
from aftersales.store.uow import reading
from api.auth import Unauthenticated, seller_of, unauthorized

log = logging.getLogger("aftersales.export")

EXPORT_PATH = "/export/after-sales.csv"
BATCH = 1000
COLUMNS = (
    "id", "returnId", "orderId", "shopId", "shopName", "region", "type", "status",
    "returnStatus", "platformStatus", "reason", "refundRequested", "refundAmount", "currency",
    "trackingNumber", "carrier", "sellerResponseDeadline", "disputeDeadline", "disputeStatus",
    "syncStatus", "tags", "createdAt", "updatedAt",
)  # fmt: skip
RISKY = ("=", "+", "-", "@", "\t", "\r")

# Parameter -> the enum it names a member of.
_ENUMS: dict[str, type[enum.Enum]] = {
    "type": domain.AfterSaleType,
    "status": domain.AfterSaleStatus,
    "returnStatus": domain.ReturnStatus,
    "disputeStatus": domain.DisputeStatus,
    "syncStatus": SyncStatus,
    "orderBy": queries.AfterSaleOrder,
}
_TEXT = ("shopId", "search")
_KNOWN = {*_ENUMS, *_TEXT, "awaitingStockIn", "responseDueBefore", "tags"}


def inert(value: str) -> str:
    """The cell as a spreadsheet should show it: never a formula."""
    return "'" + value if value.startswith(RISKY) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.name)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return inert(str(value))


def row_of(record: SaleRecord, tags: Sequence[str]) -> list[str]:
    r = record
    status = None if r.type is domain.AfterSaleType.ABNORMAL_RETURN else r.status
    values = (
        r.id, r.return_id, r.order_id, r.shop.shop_id, r.shop.name, r.shop.region, r.type,
        status, r.return_status, r.platform_status, r.reason, r.refund_requested,
        r.refund_amount, r.currency, r.tracking_number, r.carrier, r.seller_response_deadline,
        r.dispute_deadline, r.dispute_status, r.sync_status, ", ".join(tags), r.created_at,
        r.updated_at,
    )  # fmt: skip
    return [_cell(v) for v in values]


def _one(params: QueryParams, name: str) -> str | None:
    given = params.getlist(name)
    if len(given) > 1:
        raise Invalid(f"{name} is given {len(given)} times; it takes one value", field=name)
    return given[0] if given else None


def parse(params: QueryParams) -> tuple[queries.SaleFilter, queries.AfterSaleOrder]:
    """`afterSales`' arguments from the query string, or `Invalid` naming the bad one."""
    for name in params:
        if name not in _KNOWN:
            hint = " (the export takes every row: no paging)" if name in ("first", "after") else ""
            raise Invalid(f"unknown parameter {name!r}{hint}", field=name)
    values: dict[str, Any] = {}
    for name, kind in _ENUMS.items():
        raw = _one(params, name)
        if raw is not None:
            try:
                values[name] = kind[raw]
            except KeyError:
                names = ", ".join(m.name for m in kind)
                raise Invalid(f"{name} must be one of {names}; got {raw!r}", field=name) from None
    stock = _one(params, "awaitingStockIn")
    if stock is not None and stock not in ("true", "false"):
        raise Invalid("awaitingStockIn must be true or false", field="awaitingStockIn")
    due_text = _one(params, "responseDueBefore")
    due = None
    if due_text is not None:
        try:
            due = datetime.fromisoformat(due_text)
        except ValueError:
            raise Invalid(
                "responseDueBefore must be an ISO 8601 time", field="responseDueBefore"
            ) from None
    tags = params.getlist("tags")
    flt = queries.SaleFilter(
        type=values.get("type"),
        status=values.get("status"),
        return_status=values.get("returnStatus"),
        shop_id=_one(params, "shopId"),
        search=_one(params, "search"),
        dispute_status=values.get("disputeStatus"),
        awaiting_stock_in=None if stock is None else stock == "true",
        response_due_before=due,
        sync_status=values.get("syncStatus"),
        tags=tuple(tags) if tags else None,
    )
    return flt, values.get("orderBy", queries.AfterSaleOrder.NEWEST)


async def _rows(
    first: list[SaleRecord], rest: AsyncIterator[list[SaleRecord]]
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: CRLF line ends, quotes doubled
    writer.writerow(COLUMNS)
    batch: list[SaleRecord] | None = first
    while batch:
        async with reading() as r:
            tags = await r.sales.tags_by_sale([s.id for s in batch])
        writer.writerows(row_of(s, tags.get(s.id, ())) for s in batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        batch = await anext(rest, None)
    if buffer.tell():
        yield buffer.getvalue().encode()


def routes(clock: Callable[[], datetime]) -> list[BaseRoute]:
    async def export(request: Request) -> Response:
        try:
            seller_id = await seller_of(request)
        except Unauthenticated as exc:
            return unauthorized(exc)
        try:
            flt, order = parse(request.query_params)
            # The first batch is read now: a filter the database refuses is a 400, not a
            # stream cut short.
            async with reading() as r:
                batches = r.sales.batches(seller_id, flt, order, size=BATCH)
                first: list[SaleRecord] = await anext(batches, [])
        except Invalid as exc:
            return JSONResponse({"error": exc.message, "parameter": exc.field}, status_code=400)
        day = clock().date().isoformat()
        return StreamingResponse(
            _rows(first, batches),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="after-sales-{day}.csv"',
                "Cache-Control": "private, no-store",
            },
        )

    return [Route(EXPORT_PATH, export, methods=["GET"])]
