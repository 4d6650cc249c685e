"""The nested lists of after-sales (items, notes, history, stock-ins, tags, edited requests'
links): one statement per list for a whole page (the API's dataloaders batch ids)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from aftersales.domain.model import Actor, AfterSaleStatus, EventSource, StockCondition
from aftersales.store import rows, tags
from aftersales.store.records import (
    HistoryRecord,
    ItemRecord,
    NoteRecord,
    SaleRecord,
    StockedInRecord,
)
from aftersales.store.sql import Connection

# Stored values -> enum members, for the nested lists' rows (a page decodes hundreds of them;
# a dict lookup is several times cheaper than the enum's call). An unknown value still fails as
# the enum's call does.
_ACTORS = {m.value: m for m in Actor}
_STATUSES = {m.value: m for m in AfterSaleStatus}
_SOURCES = {m.value: m for m in EventSource}


class NestedReads:
    """The nested lists, on the read handle (the base of `SaleReads`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def supersedes_by_sale(self, ids: Sequence[int]) -> dict[int, list[SaleRecord]]:
        """The after-sale each one replaces (an edited request, aftersales/domain/edits.py)."""
        return await self._linked(rows.SUPERSEDES_SQL, ids)

    async def superseded_by_by_sale(self, ids: Sequence[int]) -> dict[int, list[SaleRecord]]:
        """The after-sale that replaces each one (the buyer edited the request)."""
        return await self._linked(rows.SUPERSEDED_BY_SQL, ids)

    async def _linked(self, sql: str, ids: Sequence[int]) -> dict[int, list[SaleRecord]]:
        grouped: dict[int, list[SaleRecord]] = defaultdict(list)
        for row in await rows.fetch_by_sale(self._conn, sql, ids):
            grouped[row[0]].append(rows.sale(tuple(row)[1:]))
        return grouped

    async def items_by_sale(self, ids: Sequence[int]) -> dict[int, list[ItemRecord]]:
        grouped: dict[int, list[ItemRecord]] = defaultdict(list)
        found = await rows.fetch_by_sale(self._conn, rows.ITEMS_SQL, ids)
        for sale_id, sku, product_name, quantity, unit_refund in found:
            grouped[sale_id].append(
                ItemRecord(sku, product_name, quantity, rows.money(unit_refund))
            )
        return grouped

    async def notes_by_sale(self, ids: Sequence[int]) -> dict[int, list[NoteRecord]]:
        grouped: dict[int, list[NoteRecord]] = defaultdict(list)
        for sale_id, text, created_at in await rows.fetch_by_sale(self._conn, rows.NOTES_SQL, ids):
            grouped[sale_id].append(NoteRecord(text, rows.when(created_at)))
        return grouped

    async def history_by_sale(self, ids: Sequence[int]) -> dict[int, list[HistoryRecord]]:
        grouped: dict[int, list[HistoryRecord]] = defaultdict(list)
        when = rows.when
        found = await rows.fetch_by_sale(self._conn, rows.HISTORY_SQL, ids)
        for sale_id, at, actor, action, from_, to, source, platform_at, actor_name in found:
            grouped[sale_id].append(
                HistoryRecord(
                    when(at),
                    _ACTORS.get(actor) or Actor(actor),
                    action,
                    None if from_ is None else _STATUSES.get(from_) or AfterSaleStatus(from_),
                    None if to is None else _STATUSES.get(to) or AfterSaleStatus(to),
                    _SOURCES.get(source) or EventSource(source),
                    None if platform_at is None else when(platform_at),
                    actor_name,
                )
            )
        return grouped

    async def tags_by_sale(self, ids: Sequence[int]) -> dict[int, list[str]]:
        return await tags.tags_by_sale(self._conn, ids)

    async def stocked_in_by_sale(self, ids: Sequence[int]) -> dict[int, list[StockedInRecord]]:
        totals: dict[tuple[int, str, StockCondition], int] = defaultdict(int)
        found = await rows.fetch_by_sale(self._conn, rows.STOCKED_IN_SQL, ids)
        for sale_id, sku, condition, quantity in found:
            totals[(sale_id, sku, StockCondition(condition))] += quantity
        grouped: dict[int, list[StockedInRecord]] = defaultdict(list)
        for (sale_id, sku, condition), quantity in totals.items():
            grouped[sale_id].append(StockedInRecord(sku, quantity, condition))
        return grouped
