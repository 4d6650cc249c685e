"""`afterSaleStats`: counts, refunded money and the median time to decide, by a key, computed
in SQL (aftersales/store/stats.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from aftersales.domain.errors import Invalid
from aftersales.store.cursors import FIRST_YEAR, LAST_YEAR, in_range
from aftersales.store.stats import AfterSaleStatsGroup
from aftersales.store.uow import reading
from api.context import Info
from api.errors import graphql_error
from api.sales.types import Money


@strawberry.type
class AfterSaleStat:
    key: str = strawberry.field(
        description="SKU: a line's sku (a request counts once under each of its SKUs);"
        ' REASON: the reason ("" when none); SHOP: the shopId; TYPE: the type; DAY: YYYY-MM-DD'
        " (UTC) of createdAt."
    )
    count: int
    refunded: list[Money] = strawberry.field(
        description="refundAmount summed over REFUNDED requests, one entry per currency."
    )
    median_hours_to_decision: float | None = strawberry.field(
        description="Median hours from createdAt to the first change out of PENDING_REQUEST by"
        " the seller or a rule; null when none was decided."
    )


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    utc = in_range(value)
    if utc is None:
        raise graphql_error(
            Invalid(
                f"{name} must be a time in the years {FIRST_YEAR} to {LAST_YEAR} (UTC)", field=name
            )
        )
    return utc


@strawberry.type
class StatsQuery:
    @strawberry.field(
        description="After-sales of the caller's shops (or of `shopIds`) created in [from, to),"
        " grouped by `groupBy`, ordered by key."
    )
    async def after_sale_stats(
        self,
        info: Info,
        group_by: AfterSaleStatsGroup,
        shop_ids: list[str] | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> list[AfterSaleStat]:
        since, until = _utc(from_, "from"), _utc(to, "to")
        async with reading() as r:
            found = await r.stats.stats(
                info.context.seller_id, group_by, shop_ids=shop_ids, since=since, until=until
            )
        return [
            AfterSaleStat(
                key=row.key,
                count=row.count,
                refunded=[Money(amount=a, currency=c) for a, c in row.refunded],
                median_hours_to_decision=row.median_hours,
            )
            for row in found
        ]
