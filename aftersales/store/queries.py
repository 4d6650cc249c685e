"""Read side: the lists, counts and nested lists that the API shows, as plain records.

One query for a page, one per nested list for a whole page (the API's dataloaders batch ids).
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.functions import Count

from aftersales.domain import (
    AbnormalReason,
    Actor,
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    EventSource,
    Invalid,
    ReturnStatus,
    Sale,
    StockCondition,
)
from aftersales.store.models import (
    AfterSale,
    AfterSaleItem,
    HistoryEntry,
    Note,
    Shop,
    StockMovement,
)
from aftersales.store.stock import awaiting_stock_in

MAX_PAGE = 100
MAX_ID = 2**31 - 1  # ids are 32-bit integer columns
# Statuses in which the seller owes TikTok a response (SPEC §4 seller response SLA).
AWAITING_SELLER = (AfterSaleStatus.PENDING_REQUEST, AfterSaleStatus.SHIPPED_BY_BUYER)


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
    sync_status: str
    sync_error: str | None
    version: int
    created_at: datetime
    updated_at: datetime

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


@dataclass(frozen=True)
class StockedInRecord:
    sku: str
    quantity: int
    condition: StockCondition


@dataclass(frozen=True)
class SaleFilter:
    type: AfterSaleType | None = None
    status: AfterSaleStatus | None = None
    return_status: ReturnStatus | None = None
    shop_id: str | None = None
    search: str | None = None
    dispute_status: DisputeStatus | None = None
    awaiting_stock_in: bool | None = None
    response_due_before: datetime | None = None


@dataclass(frozen=True)
class Page:
    records: list[SaleRecord]
    total_count: int
    has_next_page: bool


def _shop(row: Shop) -> ShopRecord:
    return ShopRecord(id=row.id, shop_id=row.shop_id, region=row.region, name=row.name)


def _record(row: AfterSale) -> SaleRecord:
    return SaleRecord(
        id=row.id,
        shop=_shop(row.shop),
        return_id=row.return_id,
        order_id=row.order_id,
        type=row.type,
        status=row.status,
        return_status=row.return_status,
        platform_status=row.platform_status,
        reason=row.reason,
        reject_reason=row.reject_reason,
        abnormal_reason=row.abnormal_reason,
        currency=row.currency,
        refund_requested=row.refund_requested,
        refund_amount=row.refund_amount,
        partial_refund_offer=row.partial_refund_offer,
        tracking_number=row.tracking_number,
        carrier=row.carrier,
        seller_response_deadline=row.seller_response_deadline,
        dispute_deadline=row.dispute_deadline,
        dispute_status=row.dispute_status,
        returned_at=row.returned_at,
        sync_status=row.sync_status,
        sync_error=row.sync_error,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def encode_cursor(record: SaleRecord) -> str:
    raw = f"{record.created_at.isoformat()}|{record.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        created, _, sale_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        at, number = datetime.fromisoformat(created), int(sale_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        at, number = None, 0
    # A naive time or an id beyond the integer column would fail in the database, not here.
    if at is None or at.tzinfo is None or not 0 < number <= MAX_ID:
        raise Invalid("the cursor is not one this API returned", field="after")
    return at, number


def _utc(value: datetime) -> datetime:
    """A time as UTC; a time without an offset is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _scoped(seller_id: int, flt: SaleFilter) -> Q:
    q = Q(shop__seller_id=seller_id)
    if flt.type is not None:
        q &= Q(type=flt.type)
    if flt.status is not None:
        q &= Q(status=flt.status)
    if flt.return_status is not None:
        q &= Q(return_status=flt.return_status)
    if flt.shop_id is not None:
        q &= Q(shop__shop_id=flt.shop_id)
    if flt.dispute_status is not None:
        q &= Q(dispute_status=flt.dispute_status)
    if flt.search:
        term = flt.search.strip()
        q &= Q(return_id=term) | Q(order_id=term) | Q(tracking_number=term)
    if flt.response_due_before is not None:
        # SQLite compares the stored UTC text: a limit written in another offset must be
        # converted first, or "16:30+07:00" would sort after "10:00+00:00".
        due = _utc(flt.response_due_before)
        q &= Q(seller_response_deadline__lte=due, status__in=AWAITING_SELLER)
    return q


async def list_sales(seller_id: int, flt: SaleFilter, *, first: int, after: str | None) -> Page:
    if first < 0 or first > MAX_PAGE:
        raise Invalid(f"first must be between 0 and {MAX_PAGE}", field="first")
    q = _scoped(seller_id, flt)
    if flt.awaiting_stock_in is not None:
        waiting = awaiting_stock_in()
        q &= waiting if flt.awaiting_stock_in else ~waiting
    total = await AfterSale.filter(q).count()
    page_q = q
    if after:
        created_at, sale_id = decode_cursor(after)
        page_q &= Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=sale_id)
    rows = (
        await AfterSale.filter(page_q)
        .select_related("shop")
        .order_by("-created_at", "-id")
        .limit(first + 1)
    )
    return Page(
        records=[_record(r) for r in rows[:first]],
        total_count=total,
        has_next_page=len(rows) > first,
    )


async def get_sale(seller_id: int, sale_id: int) -> SaleRecord | None:
    row = (
        await AfterSale.filter(id=sale_id, shop__seller_id=seller_id).select_related("shop").first()
    )
    return _record(row) if row is not None else None


async def count_by_status(
    seller_id: int, type_: AfterSaleType, shop_id: str | None
) -> dict[AfterSaleStatus | None, int]:
    q = Q(shop__seller_id=seller_id, type=type_)
    if shop_id is not None:
        q &= Q(shop__shop_id=shop_id)
    rows = (
        await AfterSale.filter(q).annotate(n=Count("id")).group_by("status").values("status", "n")
    )
    return {
        (AfterSaleStatus(r["status"]) if r["status"] is not None else None): int(r["n"])
        for r in rows
    }


async def shops_of(seller_id: int) -> list[ShopRecord]:
    return [_shop(s) for s in await Shop.filter(seller_id=seller_id).order_by("shop_id")]


async def items_by_sale(ids: Sequence[int]) -> dict[int, list[ItemRecord]]:
    grouped: dict[int, list[ItemRecord]] = defaultdict(list)
    for row in await AfterSaleItem.filter(after_sale_id__in=ids).order_by("id"):
        grouped[row.after_sale_id].append(  # type: ignore[attr-defined]
            ItemRecord(row.sku, row.product_name, row.quantity, row.unit_refund)
        )
    return grouped


async def notes_by_sale(ids: Sequence[int]) -> dict[int, list[NoteRecord]]:
    grouped: dict[int, list[NoteRecord]] = defaultdict(list)
    for row in await Note.filter(after_sale_id__in=ids).order_by("created_at", "id"):
        grouped[row.after_sale_id].append(NoteRecord(row.text, row.created_at))  # type: ignore[attr-defined]
    return grouped


async def history_by_sale(ids: Sequence[int]) -> dict[int, list[HistoryRecord]]:
    grouped: dict[int, list[HistoryRecord]] = defaultdict(list)
    for row in await HistoryEntry.filter(after_sale_id__in=ids).order_by("at", "id"):
        grouped[row.after_sale_id].append(  # type: ignore[attr-defined]
            HistoryRecord(row.at, row.actor, row.action, row.from_status, row.to_status, row.source)
        )
    return grouped


async def stocked_in_by_sale(ids: Sequence[int]) -> dict[int, list[StockedInRecord]]:
    totals: dict[tuple[int, str, StockCondition], int] = defaultdict(int)
    for row in await StockMovement.filter(after_sale_id__in=ids).order_by("id"):
        totals[(row.after_sale_id, row.sku, row.condition)] += row.quantity  # type: ignore[attr-defined]
    grouped: dict[int, list[StockedInRecord]] = defaultdict(list)
    for (sale_id, sku, condition), quantity in totals.items():
        grouped[sale_id].append(StockedInRecord(sku, quantity, condition))
    return grouped
