"""Records: the plain, immutable values the store hands out, never ORM rows.

`SaleRecord` is both what the API shows and what a command loads to decide on: `as_sale()` and
`as_parcel()` are the one mapping from a stored after-sale to what the rules read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aftersales.domain.model import (
    AbnormalReason,
    Actor,
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    EventSource,
    Parcel,
    ReturnStatus,
    Sale,
    StockCondition,
)


@dataclass(frozen=True)
class ShopRecord:
    id: int
    shop_id: str
    region: str
    name: str


@dataclass(frozen=True)
class SaleRecord:
    id: int
    shop: ShopRecord
    return_id: str | None
    order_id: str
    type: AfterSaleType
    status: AfterSaleStatus | None
    return_status: ReturnStatus
    platform_status: str | None
    reason: str | None
    reject_reason: str | None
    abnormal_reason: AbnormalReason | None
    currency: str | None
    refund_requested: Decimal | None
    refund_amount: Decimal | None
    partial_refund_offer: Decimal | None
    tracking_number: str | None
    carrier: str | None
    seller_response_deadline: datetime | None
    dispute_deadline: datetime | None
    dispute_status: DisputeStatus
    returned_at: datetime | None
    # The newest TikTok update_time applied or local change made: reports at or before it are stale.
    last_event_at: datetime | None
    # The newest parcel event applied: older ones never move the parcel backwards.
    parcel_event_at: datetime | None
    sync_status: str
    sync_error: str | None
    sync_attempts: int
    # TikTok's own update_time of the report that last set `platform_status`.
    platform_updated_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    # TikTok's quick refund and an edited request's links (aftersales/domain/edits.py).
    quick_refund: bool = False
    pre_return_id: str | None = None
    next_return_id: str | None = None
    # A cancellation the warehouse must not ship (aftersales/domain/cancellations.py).
    must_not_ship: bool = False

    def as_sale(self) -> Sale:
        return Sale(
            type=self.type,
            status=self.status,
            return_status=self.return_status,
            region=self.shop.region,
            currency=self.currency,
            refund_requested=self.refund_requested,
            partial_refund_offer=self.partial_refund_offer,
            tracking_number=self.tracking_number,
            dispute_status=self.dispute_status,
            refund_amount=self.refund_amount,
            reason=self.reason,
            carrier=self.carrier,
            seller_response_deadline=self.seller_response_deadline,
            created_at=self.created_at,
            quick_refund=self.quick_refund,
            pre_return_id=self.pre_return_id,
            next_return_id=self.next_return_id,
        )

    def as_parcel(self) -> Parcel:
        return Parcel(
            status=self.status,
            return_status=self.return_status,
            tracking_number=self.tracking_number,
            carrier=self.carrier,
            parcel_event_at=self.parcel_event_at,
            returned_at=self.returned_at,
        )


@dataclass(frozen=True)
class ItemRecord:
    sku: str
    product_name: str | None
    quantity: int
    unit_refund: Decimal | None


@dataclass(frozen=True)
class NoteRecord:
    text: str
    created_at: datetime


@dataclass(frozen=True)
class HistoryRecord:
    at: datetime
    actor: Actor
    action: str
    from_status: AfterSaleStatus | None
    to_status: AfterSaleStatus | None
    source: EventSource
    platform_at: datetime | None = None  # TikTok's own time, for an entry that came from TikTok
    actor_name: str | None = None  # a rule's name for source RULE; null otherwise for now


@dataclass(frozen=True)
class StockedInRecord:
    sku: str
    quantity: int
    condition: StockCondition


@dataclass(frozen=True)
class WarehouseRecord:
    id: int
    code: str
    name: str
    address: str | None


@dataclass(frozen=True)
class LevelRecord:
    warehouse: WarehouseRecord
    sku: str
    sellable: int
    damaged: int
