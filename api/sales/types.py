"""The after-sale as GraphQL shows it. Built from the store's records, never from ORM rows.

The domain's plain enums (AfterSaleType, SellerAction, ...) are GraphQL enums as they are."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)

from aftersales.domain import model as domain
from aftersales.domain.rules import actions_for
from aftersales.domain.sync import SyncStatus
from aftersales.domain.tiktok import acting_status
from aftersales.store.queries import SaleReads
from aftersales.store.records import (
    HistoryRecord,
    ItemRecord,
    NoteRecord,
    SaleRecord,
    StockedInRecord,
)
from aftersales.store.uow import reading
from api.context import PREFETCHED, Info
from api.errors import UserError
from api.shops.types import Shop


@strawberry.type
class Money:
    amount: Decimal
    currency: str


def money(amount: Decimal | None, currency: str | None) -> Money | None:
    if amount is None:
        return None
    return Money(amount=amount, currency=currency or "")


@strawberry.type
class AfterSaleItem:
    sku: str
    product_name: str | None
    quantity: int
    unit_refund: Money | None


@strawberry.type
class Note:
    text: str
    created_at: datetime


@strawberry.type
class HistoryEntry:
    at: datetime
    actor: domain.Actor
    action: str
    from_status: domain.AfterSaleStatus | None
    to_status: domain.AfterSaleStatus | None
    source: domain.EventSource
    actor_name: str | None = strawberry.field(
        description="Who acted, by name, when `actor` alone does not say: the rule's name for"
        " an entry of source RULE; null otherwise."
    )
    platform_at: datetime | None = strawberry.field(
        description="TikTok's own time for an entry that came from TikTok (its report's"
        " update time); null otherwise. `at` is when the change was applied here, and history"
        " lists entries in the order their changes were applied."
    )


@strawberry.type
class StockedIn:
    sku: str
    quantity: int
    condition: domain.StockCondition


def items_of(rows: Sequence[ItemRecord], currency: str | None) -> list[AfterSaleItem]:
    return [
        AfterSaleItem(
            sku=r.sku,
            product_name=r.product_name,
            quantity=r.quantity,
            unit_refund=money(r.unit_refund, currency),
        )
        for r in rows
    ]


def notes_of(rows: Sequence[NoteRecord]) -> list[Note]:
    return [Note(text=r.text, created_at=r.created_at) for r in rows]


def history_of(rows: Sequence[HistoryRecord]) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            at=r.at,
            actor=r.actor,
            action=r.action,
            from_status=r.from_status,
            to_status=r.to_status,
            source=r.source,
            actor_name=r.actor_name,
            platform_at=r.platform_at,
        )
        for r in rows
    ]


def stocked_in_of(rows: Sequence[StockedInRecord]) -> list[StockedIn]:
    return [StockedIn(sku=r.sku, quantity=r.quantity, condition=r.condition) for r in rows]


# The nested lists' resolvers: the list the page (or `afterSale`) prefetched when there is one
# (`Prefetched`), else the request's dataloader, which batches the ids of every after-sale.
async def _items(root: AfterSale, info: Info) -> list[AfterSaleItem]:
    if root.prefetched_items is not None:
        return root.prefetched_items
    rows = await info.context.loaders.items.load(root.record.id)
    return items_of(rows, root.record.currency)


async def _notes(root: AfterSale, info: Info) -> list[Note]:
    if root.prefetched_notes is not None:
        return root.prefetched_notes
    return notes_of(await info.context.loaders.notes.load(root.record.id))


async def _history(root: AfterSale, info: Info) -> list[HistoryEntry]:
    if root.prefetched_history is not None:
        return root.prefetched_history
    return history_of(await info.context.loaders.history.load(root.record.id))


async def _stocked_in(root: AfterSale, info: Info) -> list[StockedIn]:
    if root.prefetched_stocked_in is not None:
        return root.prefetched_stocked_in
    return stocked_in_of(await info.context.loaders.stocked_in.load(root.record.id))


async def _tags(root: AfterSale, info: Info) -> list[str]:
    if root.prefetched_tags is not None:
        return root.prefetched_tags
    return list(await info.context.loaders.tags.load(root.record.id))


# An edited request's links (aftersales/domain/edits.py), batched by the request's dataloaders.
async def _supersedes(root: AfterSale, info: Info) -> AfterSale | None:
    found = await info.context.loaders.supersedes.load(root.record.id)
    return AfterSale.of(found[0]) if found else None


async def _superseded_by(root: AfterSale, info: Info) -> AfterSale | None:
    found = await info.context.loaders.superseded_by.load(root.record.id)
    return AfterSale.of(found[0]) if found else None


# GraphQL name of each nested list -> how a set of after-sales' lists is fetched, in one
# statement (the same the dataloaders run).
NESTED_LISTS: dict[str, Callable[[SaleReads, Sequence[int]], Awaitable[dict[int, list[Any]]]]] = {
    "items": SaleReads.items_by_sale,
    "notes": SaleReads.notes_by_sale,
    "history": SaleReads.history_by_sale,
    "stockedIn": SaleReads.stocked_in_by_sale,
    "tags": SaleReads.tags_by_sale,
}


@dataclass(frozen=True)
class Prefetched:
    """Nested lists fetched for a set of after-sales (GraphQL name -> after-sale id -> rows):
    one statement per list asked for, as the dataloaders would run, but no resolver, future
    or task per after-sale."""

    lists: dict[str, dict[int, list[Any]]]

    @classmethod
    async def fetch(cls, ids: Sequence[int], wanted: Iterable[str]) -> Prefetched:
        names = [name for name in NESTED_LISTS if name in wanted]
        if not ids or not names:
            return cls({})
        async with reading() as r:
            if len(names) == 1:
                found = [await NESTED_LISTS[names[0]](r.sales, ids)]
            else:
                found = await asyncio.gather(*(NESTED_LISTS[name](r.sales, ids) for name in names))
        return cls(dict(zip(names, found, strict=True)))

    def rows(self, name: str, sale_id: int) -> list[Any] | None:
        """The rows of one after-sale's list; None when that list was not fetched."""
        grouped = self.lists.get(name)
        return None if grouped is None else grouped.get(sale_id, [])


NOTHING_PREFETCHED = Prefetched({})


def _fields(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    """The fields of a selection set, fragments spread; a selection with a directive
    (`@include`, `@skip`, ...) is left out, so that what it holds is never fetched ahead."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if selection.directives:
            continue
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen and not fragment.directives:
                yield from _fields(fragment.selection_set, fragments, seen | {name})


def nested_lists_asked(info: Info, path: Sequence[str] = ()) -> set[str]:
    """The nested lists (`NESTED_LISTS` names) the request asks for on the after-sales found
    at `path` below this field (`("edges", "node")` for a page; `()` for `afterSale` itself)."""
    raw = info._raw_info
    level: list[FieldNode] = list(raw.field_nodes)
    for name in path:
        level = [
            f
            for node in level
            for f in _fields(node.selection_set, raw.fragments)
            if f.name.value == name
        ]
    return {
        f.name.value
        for node in level
        for f in _fields(node.selection_set, raw.fragments)
        if f.name.value in NESTED_LISTS
    }


@strawberry.type
class AfterSale:
    """Built once per record (`AfterSale.of`) with plain fields, which Strawberry reads as
    attributes: far cheaper than a method resolver per field on a page of 50. Only the fields
    that need the context, or work to compute, have resolvers."""

    record: strawberry.Private[SaleRecord]
    id: strawberry.ID
    return_id: str | None
    order_id: str
    shop: Shop
    type: domain.AfterSaleType
    status: domain.AfterSaleStatus | None = strawberry.field(
        description="Null for abnormal returns, whose after-sales status is not shown."
    )
    return_status: domain.ReturnStatus
    platform_status: str | None = strawberry.field(
        description="The raw TikTok return_status last applied."
    )
    reason: str | None = strawberry.field(
        description="Why the buyer filed the request, as TikTok reports it."
    )
    reject_reason: str | None = strawberry.field(
        description="The seller's reason for the last rejection or refusal."
    )
    abnormal_reason: domain.AbnormalReason | None
    refund_requested: Money | None
    refund_amount: Money | None = strawberry.field(description="What was refunded, once refunded.")
    partial_refund_offer: Money | None
    items: list[AfterSaleItem] = strawberry.field(
        resolver=_items, metadata={PREFETCHED: "prefetched_items"}
    )
    tracking_number: str | None
    carrier: str | None
    seller_response_deadline: datetime | None = strawberry.field(
        description="When the seller must respond (TikTok's SLA)."
    )
    dispute_deadline: datetime | None = strawberry.field(
        description="When a rejection becomes final unless the buyer disputes it."
    )
    dispute_status: domain.DisputeStatus
    returned_at: datetime | None = strawberry.field(
        description="When the return parcel was delivered to the warehouse."
    )
    available_actions: list[domain.SellerAction] = strawberry.field(
        description="The seller actions allowed right now."
    )
    notes: list[Note] = strawberry.field(resolver=_notes, metadata={PREFETCHED: "prefetched_notes"})
    history: list[HistoryEntry] = strawberry.field(
        resolver=_history, metadata={PREFETCHED: "prefetched_history"}
    )
    stocked_in: list[StockedIn] = strawberry.field(
        resolver=_stocked_in, metadata={PREFETCHED: "prefetched_stocked_in"}
    )
    tags: list[str] = strawberry.field(
        resolver=_tags,
        metadata={PREFETCHED: "prefetched_tags"},
        description="The seller's tags (addTags), as first written, in the order added.",
    )
    sync_status: SyncStatus = strawberry.field(
        description="Where the last decision sent to TikTok stands (LOCAL_ONLY: not sent)."
    )
    sync_error: str | None = strawberry.field(
        description="Why it is not SYNCED yet: TikTok's code and message, or the transport error."
    )
    sync_attempts: int = strawberry.field(description="Calls made for the last decision.")
    quick_refund: bool = strawberry.field(
        description="TikTok's quick refund: refunded without waiting for the parcel, so its"
        " receipt cannot be rejected (no REJECT_RECEIPT)."
    )
    must_not_ship: bool = strawberry.field(
        description="A CANCELLATION TikTok applied (REFUNDED): the warehouse must not ship the"
        " order. False when TikTok answered the approval that the order had already shipped."
    )
    supersedes: AfterSale | None = strawberry.field(
        resolver=_supersedes,
        description="The request this one replaces: the buyer edited it, and TikTok gave the"
        " edit a new return id. That one is REQUEST_CLOSED (history action SUPERSEDED).",
    )
    superseded_by: AfterSale | None = strawberry.field(
        resolver=_superseded_by,
        description="The request that replaces this one (the buyer edited it): act on that"
        " one. Null while this one is current.",
    )
    created_at: datetime
    updated_at: datetime
    # The nested lists fetched with the page (or `afterSale`), None when they were not.
    prefetched_items: strawberry.Private[list[AfterSaleItem] | None] = None
    prefetched_notes: strawberry.Private[list[Note] | None] = None
    prefetched_history: strawberry.Private[list[HistoryEntry] | None] = None
    prefetched_stocked_in: strawberry.Private[list[StockedIn] | None] = None
    prefetched_tags: strawberry.Private[list[str] | None] = None

    @classmethod
    def of(cls, record: SaleRecord, prefetched: Prefetched = NOTHING_PREFETCHED) -> AfterSale:
        abnormal = record.type is domain.AfterSaleType.ABNORMAL_RETURN
        items = prefetched.rows("items", record.id)
        notes = prefetched.rows("notes", record.id)
        history = prefetched.rows("history", record.id)
        stocked_in = prefetched.rows("stockedIn", record.id)
        tags = prefetched.rows("tags", record.id)
        return cls(
            record=record,
            id=strawberry.ID(str(record.id)),
            return_id=record.return_id,
            order_id=record.order_id,
            shop=Shop.of(record.shop),
            type=record.type,
            status=None if abnormal else record.status,
            return_status=record.return_status,
            platform_status=record.platform_status,
            reason=record.reason,
            reject_reason=record.reject_reason,
            abnormal_reason=record.abnormal_reason,
            refund_requested=money(record.refund_requested, record.currency),
            refund_amount=money(record.refund_amount, record.currency),
            partial_refund_offer=money(record.partial_refund_offer, record.currency),
            tracking_number=record.tracking_number,
            carrier=record.carrier,
            seller_response_deadline=record.seller_response_deadline,
            dispute_deadline=record.dispute_deadline,
            dispute_status=record.dispute_status,
            returned_at=record.returned_at,
            available_actions=seller_actions(record),
            sync_status=SyncStatus(record.sync_status),
            sync_error=record.sync_error,
            sync_attempts=record.sync_attempts,
            quick_refund=record.quick_refund,
            must_not_ship=record.must_not_ship,
            created_at=record.created_at,
            updated_at=record.updated_at,
            prefetched_items=None if items is None else items_of(items, record.currency),
            prefetched_notes=None if notes is None else notes_of(notes),
            prefetched_history=None if history is None else history_of(history),
            prefetched_stocked_in=None if stocked_in is None else stocked_in_of(stocked_in),
            prefetched_tags=tags,
        )


def seller_actions(record: SaleRecord) -> list[domain.SellerAction]:
    """`availableActions`: the rules' actions from the status the seller acts from (TikTok's
    while the last decision is FAILED: docs/tiktok-sync.md), plus RETRY_SYNC while it is."""
    failed = record.sync_status == SyncStatus.FAILED.value
    status = record.status
    if failed:
        status = acting_status(record.status, record.platform_status, record.sync_status)
    actions = actions_for(
        record.type,
        status,
        record.tracking_number,
        record.return_status,
        quick_refund=record.quick_refund,
        region=record.shop.region,
    )
    return [*actions, domain.SellerAction.RETRY_SYNC] if failed else list(actions)


@strawberry.type
class AfterSalePayload:
    after_sale: AfterSale | None
    user_errors: list[UserError]


@strawberry.type
class BulkResult:
    id: strawberry.ID
    after_sale: AfterSale | None
    user_errors: list[UserError]


@strawberry.type
class BulkAfterSalePayload:
    results: list[BulkResult]
    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Errors with the call as a whole (such as too many ids); nothing was applied.",
    )
