"""Everything the database holds about one after-sale, read through the store's read side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.store.records import HistoryRecord, ItemRecord, NoteRecord, SaleRecord
from aftersales.store.uow import reading


@dataclass(frozen=True)
class Stored:
    """Everything the database holds about one after-sale."""

    sale: SaleRecord
    history: list[HistoryRecord]
    notes: list[NoteRecord]
    items: list[ItemRecord]
    last_event_at: datetime | None

    @property
    def unchanged_marks(self) -> tuple[object, ...]:
        """What any change moves: compare before and after a refused command."""
        return (
            self.sale.version,
            self.sale.status,
            self.sale.updated_at,
            len(self.history),
            len(self.notes),
        )


async def stored(seller_id: int, sale_id: int) -> Stored:
    async with reading() as r:
        record = await r.sales.get_sale(seller_id, sale_id)
        assert record is not None
        return Stored(
            sale=record,
            history=(await r.sales.history_by_sale([sale_id])).get(sale_id, []),
            notes=(await r.sales.notes_by_sale([sale_id])).get(sale_id, []),
            items=(await r.sales.items_by_sale([sale_id])).get(sale_id, []),
            last_event_at=record.last_event_at,
        )
