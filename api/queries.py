"""Query resolvers: arguments -> read-side call -> output types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from aftersales import domain
from aftersales.store import queries
from api.context import Info
from api.types import AfterSale, Shop


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


def parse_id(value: strawberry.ID | str) -> int | None:
    """Our ids are positive integers; anything else simply finds nothing."""
    text = str(value).strip()
    # Ids are 32-bit integer columns: a larger number would fail in PostgreSQL, not find nothing.
    if not text.isascii() or not text.isdigit() or len(text) > len(str(queries.MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= queries.MAX_ID else None


@strawberry.type
class Query:
    @strawberry.field(
        description="After-sales of the caller's shops, newest first. `first` <= 100."
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
        )
        try:
            page = await queries.list_sales(info.context.seller_id, flt, first=first, after=after)
        except domain.Invalid as exc:
            raise ValueError(exc.message) from None
        edges = [
            AfterSaleEdge(cursor=queries.encode_cursor(r), node=AfterSale.of(r))
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

    @strawberry.field
    async def after_sale(self, info: Info, id: strawberry.ID) -> AfterSale | None:
        sale_id = parse_id(id)
        if sale_id is None:
            return None
        record = await queries.get_sale(info.context.seller_id, sale_id)
        return AfterSale.of(record) if record else None

    @strawberry.field(
        description="How many after-sales of one type are in each status (tab badges)."
    )
    async def after_sale_counts(
        self, info: Info, type: domain.AfterSaleType, shop_id: str | None = None
    ) -> list[StatusCount]:
        counts = await queries.count_by_status(info.context.seller_id, type, shop_id)
        if type is domain.AfterSaleType.ABNORMAL_RETURN:
            return [StatusCount(status=None, count=sum(counts.values()))]
        return [StatusCount(status=s, count=counts.get(s, 0)) for s in domain.AfterSaleStatus]

    @strawberry.field
    async def shops(self, info: Info) -> list[Shop]:
        return [Shop.of(s) for s in await queries.shops_of(info.context.seller_id)]
