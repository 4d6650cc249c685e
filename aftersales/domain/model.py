"""The after-sale's vocabulary: enums, the views the rules read, and what a change is. Pure.

Nothing in `aftersales.domain` does I/O or reads the clock; every function that needs the time
takes `now`. The store turns rows into these values and back; the API shows them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypedDict


class AfterSaleType(enum.Enum):
    RETURN_AND_REFUND = "RETURN_AND_REFUND"
    REFUND_ONLY = "REFUND_ONLY"
    EXCHANGE = "EXCHANGE"
    ABNORMAL_RETURN = "ABNORMAL_RETURN"
    # A buyer's request to cancel an order before it ships (TikTok's cancellations, type 11).
    CANCELLATION = "CANCELLATION"


class AfterSaleStatus(enum.Enum):
    PENDING_REQUEST = "PENDING_REQUEST"
    AWAITING_BUYER_RESPONSE = "AWAITING_BUYER_RESPONSE"
    REJECTED = "REJECTED"
    AWAITING_BUYER_SHIPMENT = "AWAITING_BUYER_SHIPMENT"
    SHIPPED_BY_BUYER = "SHIPPED_BY_BUYER"
    RECEIPT_REJECTED = "RECEIPT_REJECTED"
    REFUNDED = "REFUNDED"
    REQUEST_CLOSED = "REQUEST_CLOSED"
    EXCHANGE_ACCEPTED = "EXCHANGE_ACCEPTED"


FINAL_STATUSES = frozenset(
    {AfterSaleStatus.REFUNDED, AfterSaleStatus.REQUEST_CLOSED, AfterSaleStatus.EXCHANGE_ACCEPTED}
)
# Statuses whose dispute window closes the request when it runs out (docs/timers.md).
DISPUTABLE_STATUSES = frozenset({AfterSaleStatus.REJECTED, AfterSaleStatus.RECEIPT_REJECTED})


class ReturnStatus(enum.Enum):
    TO_RETURN = "TO_RETURN"
    RETURNING = "RETURNING"
    RETURNED = "RETURNED"
    OTHER = "OTHER"


class DisputeStatus(enum.Enum):
    NONE = "NONE"
    IN_PROGRESS = "IN_PROGRESS"
    SUPPORT_BUYER = "SUPPORT_BUYER"
    SUPPORT_SELLER = "SUPPORT_SELLER"
    CLOSED = "CLOSED"


class AbnormalReason(enum.Enum):
    REFUSED_BY_BUYER = "REFUSED_BY_BUYER"
    PLATFORM_RECALL = "PLATFORM_RECALL"
    BUYER_UNREACHABLE = "BUYER_UNREACHABLE"
    LOGISTICS_ISSUE = "LOGISTICS_ISSUE"


class SellerAction(enum.Enum):
    ACCEPT_RETURN = "ACCEPT_RETURN"
    REJECT_RETURN = "REJECT_RETURN"
    OFFER_PARTIAL_REFUND = "OFFER_PARTIAL_REFUND"
    CONFIRM_RECEIPT = "CONFIRM_RECEIPT"
    REJECT_RECEIPT = "REJECT_RECEIPT"
    ACCEPT_REFUND = "ACCEPT_REFUND"
    REJECT_REFUND = "REJECT_REFUND"
    ACCEPT_EXCHANGE = "ACCEPT_EXCHANGE"
    REFUSE_EXCHANGE = "REFUSE_EXCHANGE"
    ISSUE_FULL_REFUND = "ISSUE_FULL_REFUND"
    APPROVE_CANCELLATION = "APPROVE_CANCELLATION"
    REJECT_CANCELLATION = "REJECT_CANCELLATION"
    ADD_NOTE = "ADD_NOTE"
    REPRINT_SHIPPING_LABEL = "REPRINT_SHIPPING_LABEL"
    STOCK_IN = "STOCK_IN"
    # `retrySync`: listed only while the last decision sent to TikTok is FAILED.
    RETRY_SYNC = "RETRY_SYNC"


class ChangeAction(enum.StrEnum):
    """What a history entry says happened. A `StrEnum`: stored, and shown by the API, as its
    name (`HistoryEntry.action` is a string there, SPEC §5)."""

    # The seller's actions (SellerAction), under the same names.
    ACCEPT_RETURN = "ACCEPT_RETURN"
    REJECT_RETURN = "REJECT_RETURN"
    OFFER_PARTIAL_REFUND = "OFFER_PARTIAL_REFUND"
    CONFIRM_RECEIPT = "CONFIRM_RECEIPT"
    REJECT_RECEIPT = "REJECT_RECEIPT"
    ACCEPT_REFUND = "ACCEPT_REFUND"
    REJECT_REFUND = "REJECT_REFUND"
    ACCEPT_EXCHANGE = "ACCEPT_EXCHANGE"
    REFUSE_EXCHANGE = "REFUSE_EXCHANGE"
    ISSUE_FULL_REFUND = "ISSUE_FULL_REFUND"
    APPROVE_CANCELLATION = "APPROVE_CANCELLATION"
    REJECT_CANCELLATION = "REJECT_CANCELLATION"
    ADD_NOTE = "ADD_NOTE"
    REPRINT_SHIPPING_LABEL = "REPRINT_SHIPPING_LABEL"
    STOCK_IN = "STOCK_IN"
    RETRY_SYNC = "RETRY_SYNC"
    RULE_FAILED = "RULE_FAILED"  # a rule's action was refused (detail: the rule and the error)
    # TikTok's reports (domain/tiktok.py).
    PLATFORM_STATUS_REPORTED = "PLATFORM_STATUS_REPORTED"
    PLATFORM_STATUS_UNMAPPED = "PLATFORM_STATUS_UNMAPPED"
    PLATFORM_DETAILS_FILLED = "PLATFORM_DETAILS_FILLED"
    # The logistics feed's parcel events (domain/parcels.py): PARCEL_ + the event's status.
    PARCEL_IN_TRANSIT = "PARCEL_IN_TRANSIT"
    PARCEL_DELIVERED = "PARCEL_DELIVERED"
    PARCEL_RETURN_TO_SENDER = "PARCEL_RETURN_TO_SENDER"
    ABNORMAL_RETURN_CREATED = "ABNORMAL_RETURN_CREATED"
    # The dispute-window sweep (docs/timers.md).
    DISPUTE_WINDOW_EXPIRED = "DISPUTE_WINDOW_EXPIRED"
    # The buyer edited the request: TikTok opened a new return in its place (domain/edits.py).
    SUPERSEDED = "SUPERSEDED"

    @classmethod
    def of(cls, action: SellerAction) -> ChangeAction:
        return cls(action.value)


class Actor(enum.Enum):
    SELLER = "SELLER"
    BUYER = "BUYER"
    PLATFORM = "PLATFORM"
    LOGISTICS = "LOGISTICS"
    SYSTEM = "SYSTEM"


class EventSource(enum.Enum):
    GRAPHQL = "GRAPHQL"
    TIKTOK_WEBHOOK = "TIKTOK_WEBHOOK"
    TIKTOK_API = "TIKTOK_API"  # fetched or polled from TikTok's API (docs/tiktok-sync.md)
    LOGISTICS_WEBHOOK = "LOGISTICS_WEBHOOK"
    SCHEDULER = "SCHEDULER"
    CLI = "CLI"
    RULE = "RULE"  # a seller's rule, acting on a request as it arrived (domain/triage.py)


class StockCondition(enum.Enum):
    GOOD = "GOOD"
    DAMAGED = "DAMAGED"


@dataclass(frozen=True)
class Sale:
    """The fields of an after-sale that the seller-action rules and the report rules read."""

    type: AfterSaleType
    status: AfterSaleStatus | None
    return_status: ReturnStatus
    region: str
    currency: str | None = None
    refund_requested: Decimal | None = None
    partial_refund_offer: Decimal | None = None
    tracking_number: str | None = None
    dispute_status: DisputeStatus = DisputeStatus.NONE
    # What a late (stale) TikTok report may still fill in when it is missing.
    refund_amount: Decimal | None = None
    reason: str | None = None
    carrier: str | None = None
    seller_response_deadline: datetime | None = None
    created_at: datetime | None = None
    # TikTok's `is_quick_refund`: refunded without waiting for the parcel, so its receipt
    # cannot be rejected.
    quick_refund: bool = False
    # An edited request's links (domain/edits.py): the return it replaces, the one replacing it.
    pre_return_id: str | None = None
    next_return_id: str | None = None


@dataclass(frozen=True)
class Parcel:
    """The fields of an after-sale that parcel events read."""

    status: AfterSaleStatus | None
    return_status: ReturnStatus
    tracking_number: str | None
    carrier: str | None
    parcel_event_at: datetime | None
    returned_at: datetime | None


@dataclass(frozen=True)
class LineItem:
    """One line of an after-sale: a SKU and how many units of it the buyer sends back."""

    sku: str
    product_name: str | None
    quantity: int
    unit_refund: Decimal | None = None


class ChangeFields(TypedDict, total=False):
    """The after-sale columns a change may write, by name; `items` replaces its lines."""

    status: AfterSaleStatus | None
    return_status: ReturnStatus
    platform_status: str | None
    reason: str | None
    reject_reason: str | None
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
    last_event_at: datetime | None
    parcel_event_at: datetime | None
    items: tuple[LineItem, ...]
    platform_updated_at: datetime | None  # TikTok's time of the report that set platform_status
    sync_status: str  # a report that ends a FAILED decision's state (docs/tiktok-sync.md)
    sync_error: str | None
    # TikTok's quick refund and edited-request links (domain/edits.py).
    quick_refund: bool
    pre_return_id: str | None
    next_return_id: str | None
    # A cancellation the warehouse must not ship (domain/cancellations.py), kept with the status.
    must_not_ship: bool


@dataclass(frozen=True)
class Change:
    """What a command does: the fields to write and the history entry to append.

    `recorded=False` marks bookkeeping that changes nothing anyone sees (e.g. the time of the
    newest parcel scan): it is written with the version check, but adds no history entry and
    keeps `updated_at`."""

    fields: ChangeFields
    action: ChangeAction
    from_status: AfterSaleStatus | None
    to_status: AfterSaleStatus | None
    recorded: bool = True


@dataclass(frozen=True)
class DisputeWindows:
    """The dispute window, with optional per-region overrides."""

    default: timedelta
    by_region: Mapping[str, timedelta] = field(default_factory=dict)

    def for_region(self, region: str) -> timedelta:
        return self.by_region.get(region.upper(), self.default)
