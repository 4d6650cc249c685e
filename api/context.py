"""The per-request context: who is asking, settings, the clock and the dataloaders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader
from strawberry.types import Info as _Info

from aftersales.domain.connection import ConnectionFacts
from aftersales.settings import Settings
from aftersales.store.records import (
    HistoryRecord,
    ItemRecord,
    NoteRecord,
    SaleRecord,
    StockedInRecord,
)
from aftersales.store.uow import Reader, reading
from aftersales.tiktok.link import Link

V = TypeVar("V")

# Field metadata: the attribute of the object that holds this field's value when the resolver
# of the list (a page, one after-sale) fetched it already; None there means "run the field's
# own resolver". Read by api/schema.py's `FastExecution` (and by the resolvers themselves).
PREFETCHED = "prefetched"


def _loader(fetch: Callable[[Reader, Sequence[int]], Any]) -> DataLoader[int, list[Any]]:
    async def load(ids: list[int]) -> list[list[Any]]:
        async with reading() as r:
            grouped = await fetch(r, ids)
        return [grouped.get(i, []) for i in ids]

    return DataLoader(load_fn=load)


@dataclass
class Loaders:
    items: DataLoader[int, list[ItemRecord]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.sales.items_by_sale(ids))
    )
    notes: DataLoader[int, list[NoteRecord]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.sales.notes_by_sale(ids))
    )
    history: DataLoader[int, list[HistoryRecord]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.sales.history_by_sale(ids))
    )
    stocked_in: DataLoader[int, list[StockedInRecord]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.sales.stocked_in_by_sale(ids))
    )
    tags: DataLoader[int, list[str]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.sales.tags_by_sale(ids))
    )
    # An edited request's links (`supersedes`, `supersededBy`): at most one after-sale each.
    supersedes: DataLoader[int, list[SaleRecord]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.sales.supersedes_by_sale(ids))
    )
    superseded_by: DataLoader[int, list[SaleRecord]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.sales.superseded_by_by_sale(ids))
    )
    sync_errors: DataLoader[int, list[str]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.shops.sync_errors_by_shop(ids))
    )
    authorizations: DataLoader[int, list[ConnectionFacts]] = field(
        default_factory=lambda: _loader(lambda r, ids: r.authorizations.facts_by_shop(ids))
    )


@dataclass
class Context:
    seller_id: int
    settings: Settings
    clock: Callable[[], datetime]
    link: Link | None = None  # the TikTok link; None in local-only mode
    loaders: Loaders = field(default_factory=Loaders)


Info = _Info[Context, None]
