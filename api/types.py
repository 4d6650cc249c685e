"""GraphQL output types. Built from the read side's records, never from ORM rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from aftersales import domain
from aftersales.store import queries
from api.context import Info
from api.errors import UserError

AfterSaleType = strawberry.enum(domain.AfterSaleType)
AfterSaleStatus = strawberry.enum(domain.AfterSaleStatus)
ReturnStatus = strawberry.enum(domain.ReturnStatus)
DisputeStatus = strawberry.enum(domain.DisputeStatus)
AbnormalReason = strawberry.enum(domain.AbnormalReason)
SellerAction = strawberry.enum(domain.SellerAction)
Actor = strawberry.enum(domain.Actor)
EventSource = strawberry.enum(domain.EventSource)
StockCondition = strawberry.enum(domain.StockCondition)


@strawberry.type
class Money:
    amount: Decimal
    currency: str


def money(amount: Decimal | None, currency: str | None) -> Money | None:
    if amount is None:
        return None
    return Money(amount=amount, currency=currency or "")


@strawberry.type
class Shop:
    shop_id: str
    region: str
    name: str

    @classmethod
    def of(cls, record: queries.ShopRecord) -> Shop:
        return cls(shop_id=record.shop_id, region=record.region, name=record.name)


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


@strawberry.type
class AfterSale:
    record: strawberry.Private[queries.SaleRecord]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.id))

    @strawberry.field
    def return_id(self) -> str | None:
        return self.record.return_id

    @strawberry.field
    def order_id(self) -> str:
        return self.record.order_id

    @strawberry.field
    def shop(self) -> Shop:
        return Shop.of(self.record.shop)

    @strawberry.field
    def type(self) -> domain.AfterSaleType:
        return self.record.type

    @strawberry.field(
        description="Null for abnormal returns, whose after-sales status is not shown."
    )
    def status(self) -> domain.AfterSaleStatus | None:
        if self.record.type is domain.AfterSaleType.ABNORMAL_RETURN:
            return None
        return self.record.status

    @strawberry.field
    def return_status(self) -> domain.ReturnStatus:
        return self.record.return_status

    @strawberry.field(description="The raw TikTok return_status last applied.")
    def platform_status(self) -> str | None:
        return self.record.platform_status

    @strawberry.field(description="Why the buyer filed the request, as TikTok reports it.")
    def reason(self) -> str | None:
        return self.record.reason

    @strawberry.field(description="The seller's reason for the last rejection or refusal.")
    def reject_reason(self) -> str | None:
        return self.record.reject_reason

    @strawberry.field
    def abnormal_reason(self) -> domain.AbnormalReason | None:
        return self.record.abnormal_reason

    @strawberry.field
    def refund_requested(self) -> Money | None:
        return money(self.record.refund_requested, self.record.currency)

    @strawberry.field(description="What was refunded, once refunded.")
    def refund_amount(self) -> Money | None:
        return money(self.record.refund_amount, self.record.currency)

    @strawberry.field
    def partial_refund_offer(self) -> Money | None:
        return money(self.record.partial_refund_offer, self.record.currency)

    @strawberry.field
    async def items(self, info: Info) -> list[AfterSaleItem]:
        rows = await info.context.loaders.items.load(self.record.id)
        return [
            AfterSaleItem(
                sku=r.sku,
                product_name=r.product_name,
                quantity=r.quantity,
                unit_refund=money(r.unit_refund, self.record.currency),
            )
            for r in rows
        ]

    @strawberry.field
    def tracking_number(self) -> str | None:
        return self.record.tracking_number

    @strawberry.field
    def carrier(self) -> str | None:
        return self.record.carrier

    @strawberry.field(description="When the seller must respond (TikTok's SLA).")
    def seller_response_deadline(self) -> datetime | None:
        return self.record.seller_response_deadline

    @strawberry.field(description="When a rejection becomes final unless the buyer disputes it.")
    def dispute_deadline(self) -> datetime | None:
        return self.record.dispute_deadline

    @strawberry.field
    def dispute_status(self) -> domain.DisputeStatus:
        return self.record.dispute_status

    @strawberry.field(description="When the return parcel was delivered to the warehouse.")
    def returned_at(self) -> datetime | None:
        return self.record.returned_at

    @strawberry.field(description="The seller actions allowed right now.")
    def available_actions(self) -> list[domain.SellerAction]:
        return domain.available_actions(self.record.as_sale())

    @strawberry.field
    async def notes(self, info: Info) -> list[Note]:
        rows = await info.context.loaders.notes.load(self.record.id)
        return [Note(text=r.text, created_at=r.created_at) for r in rows]

    @strawberry.field
    async def history(self, info: Info) -> list[HistoryEntry]:
        rows = await info.context.loaders.history.load(self.record.id)
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

    @strawberry.field
    async def stocked_in(self, info: Info) -> list[StockedIn]:
        rows = await info.context.loaders.stocked_in.load(self.record.id)
        return [StockedIn(sku=r.sku, quantity=r.quantity, condition=r.condition) for r in rows]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.record.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.record.updated_at


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
