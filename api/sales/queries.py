"""`afterSales`, `afterSale`, `afterSaleCounts`: arguments -> read-side call -> output types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from aftersales.commands.counts import status_counts
from aftersales.domain import model as domain
from aftersales.domain.errors import Invalid
from aftersales.domain.sync import SyncStatus
from aftersales.store import queries
from aftersales.store.uow import reading
from api.context import Info
from api.errors import graphql_error
from api.ids import parse_id
from api.sales.types import AfterSale, Prefetched, nested_lists_asked


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class AfterSaleEdge:
    cursor: str
    node: AfterSale


@strawberry.type
class AfterSaleConnection:
    edges: list[AfterSaleEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class StatusCount:
    status: domain.AfterSaleStatus | None
    count: int
    sync_failed: int = strawberry.field(
        default=0,
        description="How many in this status have their last decision to TikTok FAILED.",
    )


async def page_of(
    info: Info,
    flt: queries.SaleFilter,
    *,
    first: int,
    after: str | None,
    order: queries.AfterSaleOrder | None = None,
) -> AfterSaleConnection:
    """A page of the caller's after-sales that `flt` matches, as a connection (`afterSales`,
    `previewRule`)."""
    order_by = order or queries.AfterSaleOrder.NEWEST
    try:
        async with reading() as r:
            page = await r.sales.list_sales(
                info.context.seller_id, flt, first=first, after=after, order=order_by
            )
    except Invalid as exc:
        raise graphql_error(exc) from None
    # The nested lists asked for on the nodes, fetched now for the whole page: the same
    # statements the dataloaders would run, without a resolver call per after-sale.
    prefetched = await Prefetched.fetch(
        [r.id for r in page.records], nested_lists_asked(info, ("edges", "node"))
    )
    edges = [
        AfterSaleEdge(cursor=queries.encode_cursor(r, order_by), node=AfterSale.of(r, prefetched))
        for r in page.records
    ]
    return AfterSaleConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=page.total_count,
    )


@strawberry.type
class SaleQuery:
    @strawberry.field(
        description="After-sales of the caller's shops, newest first (or as `orderBy` says)."
        " `tags`: all of them present. `first` <= 100."
    )
    async def after_sales(
        self,
        info: Info,
        type: domain.AfterSaleType | None = None,
        status: domain.AfterSaleStatus | None = None,
        return_status: domain.ReturnStatus | None = None,
        shop_id: str | None = None,
        search: str | None = None,
        dispute_status: domain.DisputeStatus | None = None,
        awaiting_stock_in: bool | None = None,
        response_due_before: datetime | None = None,
        sync_status: SyncStatus | None = None,
        must_not_ship: bool | None = None,
        tags: list[str] | None = None,
        order_by: queries.AfterSaleOrder | None = queries.AfterSaleOrder.NEWEST,
        first: int = 20,
        after: str | None = None,
    ) -> AfterSaleConnection:
        flt = queries.SaleFilter(
            type=type,
            status=status,
            return_status=return_status,
            shop_id=shop_id,
            search=search,
            dispute_status=dispute_status,
            awaiting_stock_in=awaiting_stock_in,
            response_due_before=response_due_before,
            sync_status=sync_status,
            must_not_ship=must_not_ship,
            tags=None if tags is None else tuple(tags),
        )
        return await page_of(info, flt, first=first, after=after, order=order_by)

    @strawberry.field
    async def after_sale(self, info: Info, id: strawberry.ID) -> AfterSale | None:
        sale_id = parse_id(id)
        if sale_id is None:
            return None
        async with reading() as r:
            record = await r.sales.get_sale(info.context.seller_id, sale_id)
        if record is None:
            return None
        return AfterSale.of(record, await Prefetched.fetch([record.id], nested_lists_asked(info)))

    @strawberry.field(
        description="How many after-sales of one type are in each status (tab badges)."
    )
    async def after_sale_counts(
        self, info: Info, type: domain.AfterSaleType, shop_id: str | None = None
    ) -> list[StatusCount]:
        counts = await status_counts(info.context.seller_id, type, shop_id)
        if type is domain.AfterSaleType.ABNORMAL_RETURN:
            return [
                StatusCount(
                    status=None,
                    count=sum(counts.by_status.values()),
                    sync_failed=sum(counts.failed.values()),
                )
            ]
        return [
            StatusCount(
                status=s, count=counts.by_status.get(s, 0), sync_failed=counts.failed.get(s, 0)
            )
            for s in domain.AfterSaleStatus
        ]
