"""The seller's decisions on an after-sale (docs/lifecycle.md), and notes.

Each command is one unit of work: load the seller's after-sale, ask the rules what changes, save
the change with its history entry, guarded by the version. A lost race is retried from a fresh
read; after a few lost races the caller gets `Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from aftersales.commands.retry import Lost, retrying
from aftersales.domain import rules, sync, tiktok
from aftersales.domain.errors import Invalid, NotFound
from aftersales.domain.model import (
    Actor,
    Change,
    ChangeAction,
    ChangeFields,
    DisputeWindows,
    EventSource,
    SellerAction,
)
from aftersales.store.records import SaleRecord
from aftersales.store.uow import Tx, uow


@dataclass(frozen=True)
class Decision:
    """A status-changing seller action, with what it needs."""

    action: SellerAction
    reason: str | None = None
    note: str | None = None
    amount: Decimal | None = None
    reason_code: str | None = None  # TikTok's reject reason (`rejectReasons`), for syncing shops


async def decide(
    seller_id: int,
    sale_id: int,
    decision: Decision,
    *,
    now: datetime,
    windows: DisputeWindows,
    source: EventSource = EventSource.GRAPHQL,
    push: bool = False,
) -> int:
    """Apply a status-changing seller action; the after-sale's id.

    With `push` (the TikTok API is configured) and a shop that has credentials, the decision is
    also queued for TikTok in the same transaction (docs/tiktok-sync.md).

    Refusals come in SPEC §2's order: the type, region and status rules first, then the
    inputs (`reason`, `reasonCode`, `note`), then the amount. While the last decision sent to
    TikTok is FAILED, the decision is checked against the status TikTok reports
    (`tiktok.acting_status`), where the request stands there."""

    async def attempt() -> int:
        async with uow() as tx:
            sale = await load(tx, seller_id, sale_id)
            await decide_in(tx, sale, decision, now=now, windows=windows, source=source, push=push)
            return sale.id

    return await retrying(attempt)


async def decide_in(
    tx: Tx,
    sale: SaleRecord,
    decision: Decision,
    *,
    now: datetime,
    windows: DisputeWindows,
    source: EventSource,
    push: bool,
    actor: Actor = Actor.SELLER,
    actor_name: str | None = None,
) -> None:
    """`decide`'s one attempt on `sale` as read in `tx`: the same checks, change, push and
    note, for whoever acts (a seller, or a rule: actor SYSTEM, source RULE, its name). Raises
    the domain's refusals before writing anything, and `Lost` on a lost version check."""
    acting = replace(
        sale.as_sale(),
        status=tiktok.acting_status(sale.status, sale.platform_status, sale.sync_status),
    )
    rules.check(acting, decision.action)
    rules.limit_text(decision.reason, "reason", rules.MAX_REASON_LENGTH)
    note = rules.limit_text(decision.note, "note", rules.MAX_NOTE_LENGTH)
    syncing = (
        push
        and sync.is_pushed(decision.action)
        and sale.return_id is not None
        and await tx.calls.shop_syncs(sale.shop.id)
    )
    sync.check_reason_code(decision.action, decision.reason_code, syncing=syncing)
    change = rules.decide(
        acting,
        decision.action,
        now=now,
        dispute_window=windows.for_region(sale.shop.region),
        reason=decision.reason,
        amount=decision.amount,
    )
    fields: ChangeFields = {
        **change.fields,
        "last_event_at": _later(sale.last_event_at, now),
    }
    if acting.status is not sale.status:
        # Deciding again from TikTok's status: what the refused decision set (its
        # dispute window, its offer, its refund) never happened on TikTok.
        fields = {**_UNDONE, **fields}
    saved = await tx.sales.save(
        sale,
        Change(fields, change.action, change.from_status, change.to_status),
        at=now,
        actor=actor,
        actor_name=actor_name,
        source=source,
        detail=_detail(decision),
    )
    if not saved:
        raise Lost
    if syncing:
        await _push(tx, sale, decision, now=now)
    if note and note.strip():
        await tx.sales.add_note(sale.id, note.strip(), at=now)


async def _push(tx: Tx, sale: SaleRecord, decision: Decision, *, now: datetime) -> None:
    """Queue the decision for TikTok, keyed by the version it produced (`sale.version + 1`)."""
    assert sale.return_id is not None
    call = sync.decision_call(
        decision.action,
        reason_code=decision.reason_code,
        comment=decision.reason,
        amount=decision.amount,
        currency=sale.currency,
    )
    await tx.calls.push_decision(
        shop_pk=sale.shop.id,
        sale_id=sale.id,
        return_id=sale.return_id,
        call=call,
        idempotency_key=sync.idempotency_key(
            await tx.install.install_id(now=now), sale.return_id, sale.version + 1, decision.action
        ),
        now=now,
    )


async def retry_sync(seller_id: int, sale_id: int, *, now: datetime) -> int:
    """Queue the after-sale's last decision for TikTok again, after it FAILED (`retrySync`)."""
    async with uow() as tx:
        sale = await load(tx, seller_id, sale_id, lock=True)
        if not await tx.calls.requeue_failed(sale.id, now=now):
            raise Invalid(
                "only a decision whose sync FAILED can be retried; this after-sale's is "
                + (sale.sync_status or "LOCAL_ONLY"),
                field="id",
            )
        return sale.id


async def add_note(
    seller_id: int,
    sale_id: int,
    text: str,
    *,
    now: datetime,
    source: EventSource = EventSource.GRAPHQL,
) -> int:
    """ADD_NOTE: allowed on every after-sale, abnormal returns included; the after-sale's id."""
    if not text or not text.strip():
        raise Invalid("a note needs some text", field="text")
    rules.limit_text(text, "text", rules.MAX_NOTE_LENGTH)

    async def attempt() -> int:
        async with uow() as tx:
            sale = await load(tx, seller_id, sale_id)
            rules.check(sale.as_sale(), SellerAction.ADD_NOTE)
            touched = await tx.sales.touch(
                sale, at=now, actor=Actor.SELLER, action=ChangeAction.ADD_NOTE, source=source
            )
            if not touched:
                raise Lost
            await tx.sales.add_note(sale.id, text.strip(), at=now)
            return sale.id

    return await retrying(attempt)


async def load(tx: Tx, seller_id: int, sale_id: int, *, lock: bool = False) -> SaleRecord:
    """The seller's after-sale, or `NotFound` (also for another seller's: never reveal it)."""
    sale = await tx.sales.of_seller(seller_id, sale_id, lock=lock)
    if sale is None:
        raise NotFound("no after-sale with this id", field="id")
    return sale


def _detail(decision: Decision) -> dict[str, str] | None:
    detail = {}
    if decision.reason:
        detail["reason"] = decision.reason.strip()
    if decision.amount is not None:
        detail["amount"] = str(decision.amount)
    if decision.reason_code:
        detail["reason_code"] = decision.reason_code.strip()
    return detail or None


_UNDONE: ChangeFields = {
    "dispute_deadline": None,
    "partial_refund_offer": None,
    "refund_amount": None,
}


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a
