"""The after-sale as GraphQL shows it. Built from the store's records, never from ORM rows.

The domain's plain enums (AfterSaleType, SellerAction, ...) are GraphQL enums as they are."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from aftersales.domain import model as domain
from aftersales.domain.rules import available_actions
from aftersales.domain.sync import SyncStatus
from aftersales.store.records import SaleRecord
from api.context import Info
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


@strawberry.type
class StockedIn:
    sku: str
    quantity: int
    condition: domain.StockCondition


async def _items(root: AfterSale, info: Info) -> list[AfterSaleItem]:
    rows = await info.context.loaders.items.load(root.record.id)
    return [
        AfterSaleItem(
            sku=r.sku,
            product_name=r.product_name,
            quantity=r.quantity,
            unit_refund=money(r.unit_refund, root.record.currency),
        )
        for r in rows
    ]


def _available_actions(root: AfterSale) -> list[domain.SellerAction]:
    return available_actions(root.record.as_sale())


async def _notes(root: AfterSale, info: Info) -> list[Note]:
    rows = await info.context.loaders.notes.load(root.record.id)
    return [Note(text=r.text, created_at=r.created_at) for r in rows]


async def _history(root: AfterSale, info: Info) -> list[HistoryEntry]:
    rows = await info.context.loaders.history.load(root.record.id)
    return [
        HistoryEntry(
            at=r.at,
            actor=r.actor,
            action=r.action,
            from_status=r.from_status,
            to_status=r.to_status,
            source=r.source,
        )
        for r in rows
    ]


async def _stocked_in(root: AfterSale, info: Info) -> list[StockedIn]:
    rows = await info.context.loaders.stocked_in.load(root.record.id)
    return [StockedIn(sku=r.sku, quantity=r.quantity, condition=r.condition) for r in rows]


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
    items: list[AfterSaleItem] = strawberry.field(resolver=_items)
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
        resolver=_available_actions, description="The seller actions allowed right now."
    )
    notes: list[Note] = strawberry.field(resolver=_notes)
    history: list[HistoryEntry] = strawberry.field(resolver=_history)
    stocked_in: list[StockedIn] = strawberry.field(resolver=_stocked_in)
    sync_status: SyncStatus = strawberry.field(
        description="Where the last decision sent to TikTok stands (LOCAL_ONLY: not sent)."
    )
    sync_error: str | None = strawberry.field(
        description="Why it is not SYNCED yet: TikTok's code and message, or the transport error."
    )
    sync_attempts: int = strawberry.field(description="Calls made for the last decision.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: SaleRecord) -> AfterSale:
        abnormal = record.type is domain.AfterSaleType.ABNORMAL_RETURN
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
            sync_status=SyncStatus(record.sync_status),
            sync_error=record.sync_error,
            sync_attempts=record.sync_attempts,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


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
