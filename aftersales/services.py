"""One async function per command. Every way in (GraphQL, webhooks, timers, CLI) calls these.

Each command loads the after-sale, asks the domain what changes, and saves the change with its
history entry in one transaction, guarded by the row's version. A lost race is retried with a
fresh read; after a few lost races the caller gets `Conflict`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aftersales import domain, platform
from aftersales.concurrency import MAX_ATTEMPTS as MAX_ATTEMPTS  # re-exported: now shared
from aftersales.concurrency import Lost as Lost
from aftersales.concurrency import retrying as _retrying
from aftersales.domain import (
    Actor,
    Change,
    DisputeWindows,
    EventSource,
    Invalid,
    NotFound,
    SellerAction,
)
from aftersales.store import repository as repo
from aftersales.store.models import AfterSale, Shop

MAX_NOTE_LENGTH = 5000
MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class ActionInput:
    action: SellerAction
    reason: str | None = None
    note: str | None = None
    amount: Decimal | None = None


def _validate_text(value: str | None, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if len(value) > limit:
        raise Invalid(f"{name} is limited to {limit} characters", field=name)
    return value


async def perform(
    seller_id: int,
    sale_id: int,
    command: ActionInput,
    *,
    now: datetime,
    windows: DisputeWindows,
    source: EventSource = EventSource.GRAPHQL,
) -> AfterSale:
    """Apply a status-changing seller action (SPEC §2)."""
    _validate_text(command.reason, "reason", MAX_REASON_LENGTH)
    note = _validate_text(command.note, "note", MAX_NOTE_LENGTH)

    async def attempt() -> AfterSale:
        async with repo.transaction() as conn:
            row, shop = await _load(conn, seller_id, sale_id)
            change = domain.decide(
                repo.to_sale(row, shop.region),
                command.action,
                now=now,
                dispute_window=windows.for_region(shop.region),
                reason=command.reason,
                amount=command.amount,
            )
            fields = dict(change.fields, last_event_at=_later(row.last_event_at, now))
            detail = _detail(command)
            saved = await repo.save_change(
                conn,
                row,
                Change(fields, change.action, change.from_status, change.to_status),
                at=now,
                actor=Actor.SELLER,
                source=source,
                detail=detail,
            )
            if not saved:
                raise Lost
            if note and note.strip():
                await repo.add_note(conn, row.id, note.strip(), now)
            return row

    return await _retrying(attempt)


def _detail(command: ActionInput) -> dict[str, str] | None:
    detail = {}
    if command.reason:
        detail["reason"] = command.reason.strip()
    if command.amount is not None:
        detail["amount"] = str(command.amount)
    return detail or None


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


async def _load(conn: repo.Connection, seller_id: int, sale_id: int) -> tuple[AfterSale, Shop]:
    found = await repo.load_for_seller(conn, seller_id, sale_id)
    if found is None:
        raise NotFound("no after-sale with this id", field="id")
    return found


async def add_note(
    seller_id: int,
    sale_id: int,
    text: str,
    *,
    now: datetime,
    source: EventSource = EventSource.GRAPHQL,
) -> AfterSale:
    """ADD_NOTE: allowed on every after-sale, abnormal returns included."""
    if not text or not text.strip():
        raise Invalid("a note needs some text", field="text")
    _validate_text(text, "text", MAX_NOTE_LENGTH)

    async def attempt() -> AfterSale:
        async with repo.transaction() as conn:
            row, shop = await _load(conn, seller_id, sale_id)
            domain.check(repo.to_sale(row, shop.region), SellerAction.ADD_NOTE)
            if not await repo.bump_version(conn, row, now):
                raise Lost
            await repo.add_note(conn, row.id, text.strip(), now)
            await repo.append_history(
                conn,
                row.id,
                at=now,
                actor=Actor.SELLER,
                action=SellerAction.ADD_NOTE.value,
                from_status=row.status,
                to_status=row.status,
                source=source,
            )
            return row

    return await _retrying(attempt)


class ReportOutcome(enum.Enum):
    CREATED = "created"
    APPLIED = "applied"
    UNMAPPED = "unmapped"
    STALE = "stale"
    UNKNOWN_SHOP = "unknown_shop"


@dataclass(frozen=True)
class ReportResult:
    outcome: ReportOutcome
    after_sale_id: int | None = None


async def apply_return_report(
    shop_id: str,
    report: platform.ReturnReport,
    *,
    now: datetime,
    windows: DisputeWindows,
) -> ReportResult:
    """Apply one TikTok return-status report (SPEC §3.1): create, update, or ignore as stale."""
    shop = await Shop.filter(shop_id=shop_id).first()
    if shop is None:
        return ReportResult(ReportOutcome.UNKNOWN_SHOP)
    window = windows.for_region(shop.region)

    async def attempt() -> ReportResult:
        async with repo.transaction() as conn:
            row = await repo.load_by_return_id(conn, shop, report.return_id)
            created = False
            if row is None:
                row = await repo.create_sale(conn, shop, platform.new_sale_fields(report), at=now)
                if row is None:  # a concurrent delivery created it first
                    raise Lost
                created = True
            elif platform.is_stale(report, row.last_event_at):
                return ReportResult(ReportOutcome.STALE, row.id)
            change = platform.interpret(
                repo.to_sale(row, shop.region), report, dispute_window=window
            )
            if created:
                change = Change(change.fields, change.action, None, change.to_status)
            saved = await repo.save_change(
                conn,
                row,
                change,
                at=now,
                actor=report.actor,
                source=EventSource.TIKTOK_WEBHOOK,
                detail={
                    "return_status": report.return_status,
                    "update_time": report.update_time.isoformat(),
                },
            )
            if not saved:
                raise Lost
            if created:
                outcome = ReportOutcome.CREATED
            elif change.action == platform.UNMAPPED_STATUS_ACTION:
                outcome = ReportOutcome.UNMAPPED
            else:
                outcome = ReportOutcome.APPLIED
            return ReportResult(outcome, row.id)

    return await _retrying(attempt)
