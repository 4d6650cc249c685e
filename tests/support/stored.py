"""Everything the database holds about one after-sale, read through the store's read side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.store import queries
from aftersales.store.records import HistoryRecord, ItemRecord, NoteRecord, SaleRecord


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
    record = await queries.get_sale(seller_id, sale_id)
    assert record is not None
    return Stored(
        sale=record,
        history=(await queries.history_by_sale([sale_id])).get(sale_id, []),
        notes=(await queries.notes_by_sale([sale_id])).get(sale_id, []),
        items=(await queries.items_by_sale([sale_id])).get(sale_id, []),
        last_event_at=record.last_event_at,
    )
