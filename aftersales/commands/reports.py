"""TikTok's return reports (docs/webhooks.md): create, update, or keep as stale.

TikTok is the source of truth for what it reports: a newer report is applied even when it skips
steps we never heard about, and a report about a return we have never seen creates it. A stale
report only fills in the details the after-sale still lacks, with the same versioned save, and
sets `platform_status` when it agrees with our status (TikTok confirming our decision) or our
last decision FAILED; it never changes the status.

No silent revert (docs/tiktok-sync.md): a decision TikTok refused stays the after-sale's status,
FAILED, with TikTok's status beside it, until the seller retries or decides again, or TikTok
reports a status newer than the decision; that report is applied like any other and ends the
FAILED state (syncStatus SYNCED: the after-sale shows TikTok's state).
"""

from __future__ import annotations

from datetime import datetime

from aftersales.commands import edits
from aftersales.commands.retry import Lost, retrying
from aftersales.domain import stale, tiktok
from aftersales.domain.model import (
    AfterSaleStatus,
    Change,
    ChangeFields,
    DisputeWindows,
    EventSource,
)
from aftersales.domain.outcome import Outcome, Result
from aftersales.domain.sync import SyncStatus
from aftersales.store.records import SaleRecord
from aftersales.store.sales import Entry, ReportLookup
from aftersales.store.uow import Tx


async def apply_return_report(
    tx: Tx,
    shop_id: str,
    report: tiktok.ReturnReport,
    *,
    now: datetime,
    windows: DisputeWindows,
    source: EventSource = EventSource.TIKTOK_WEBHOOK,
    current: bool = False,
    found: ReportLookup | None = None,
    defer_rules: bool = False,
) -> Result:
    """Apply one report in `tx`.

    `defer_rules`: a request it creates in PENDING_REQUEST is marked to be evaluated by the
    seller's rules later, when its full return is fetched (aftersales/commands/triage.py).

    `current`: the report is TikTok's state right now (a return fetched from its API), not a
    point in time. It is applied by the same rules: older than our last local change, it never
    replaces the seller's decision (no silent revert), even one TikTok refused.

    `found`: the shop and after-sale already read in `tx` (`tx.sales.for_report`), for the
    first attempt; a retry reads the after-sale again. An attempt writes nothing before the
    write that may find it lost (the insert of a new after-sale, the version check), so it
    needs no savepoint of its own."""
    if found is None:
        shop = await tx.shops.by_shop_id(shop_id)
        first: tuple[SaleRecord | None, bool | None] | None = None
    else:
        shop = found.shop
        first = (found.sale, found.has_items)
    if shop is None:
        return Result(Outcome.UNKNOWN_SHOP)
    window = windows.for_region(shop.region)

    async def attempt() -> Result:
        nonlocal first
        if first is not None:
            (sale, has_items), first = first, None
        else:
            sale, has_items = await tx.sales.by_return_id(shop, report.return_id), None
        if sale is None:
            fields, change = tiktok.new_sale(report, region=shop.region, dispute_window=window)
            pending = fields.get("status") is AfterSaleStatus.PENDING_REQUEST
            fields["rules_pending"] = defer_rules and pending
            entry = Entry(
                change, now, report.actor_from(None), source, _detail(report), report.update_time
            )
            created = await tx.sales.create(shop, fields, at=now, entry=entry)
            if created is None:  # a concurrent delivery created it first
                raise Lost
            return Result(Outcome.CREATED, created.id)
        if stale.is_stale(report, sale.last_event_at):
            return await _fill_missing(
                tx, sale, report, now=now, source=source, has_items=has_items
            )
        change = tiktok.interpret(sale.as_sale(), report, dispute_window=window)
        if (
            sale.sync_status == SyncStatus.FAILED.value
            and change.action == tiktok.PLATFORM_STATUS_ACTION
        ):
            # TikTok reports a status newer than the seller's refused decision: it is the
            # after-sale's status now, and the FAILED state ends (the call keeps its error).
            ended: ChangeFields = {
                **change.fields,
                "sync_status": SyncStatus.SYNCED.value,
                "sync_error": None,
            }
            change = Change(ended, change.action, change.from_status, change.to_status)
        saved = await tx.sales.save(
            sale,
            change,
            at=now,
            actor=report.actor_from(sale.status),
            source=source,
            detail=_detail(report),
            platform_at=report.update_time,
        )
        if not saved:
            raise Lost
        if change.action == tiktok.UNMAPPED_STATUS_ACTION:
            return Result(Outcome.UNMAPPED, sale.id)
        return Result(Outcome.APPLIED, sale.id)

    result = await retrying(attempt)
    # Edited requests (aftersales/commands/edits.py): only when the report links returns, or a
    # held after-sale names this one as the request it replaces.
    successor = found.successor if found is not None else None
    if result.outcome is Outcome.CREATED and (
        await tx.sales.serialize_order(shop, report.order_id) or found is None
    ):
        # A new after-sale: the other return of an edit may be created at this very moment on
        # another replica; read the link once that one committed (or for the first time).
        successor = await tx.sales.successor_of(shop, report.return_id)
    if report.pre_return_id or report.next_return_id or successor:
        await edits.settle(tx, shop, report, successor=successor, now=now, source=source)
    return result


async def _fill_missing(
    tx: Tx,
    sale: SaleRecord,
    report: tiktok.ReturnReport,
    *,
    now: datetime,
    source: EventSource,
    has_items: bool | None,
) -> Result:
    """A stale report: its status is ignored, the details the after-sale lacks are filled in
    (one history entry, only when it filled something), and `platform_status` is set when
    `stale.platform_seen` says so (no history entry of its own). `has_items`: whether the
    after-sale has lines, when known. Raises Lost on a lost version check."""
    if report.items and has_items is None:
        has_items = await tx.sales.has_items(sale.id)
    has_items = not report.items or bool(has_items)
    change = stale.fill_missing(sale.as_sale(), report, has_items=has_items)
    seen = stale.platform_seen(
        sale.as_sale(),
        report,
        platform_status=sale.platform_status,
        platform_updated_at=sale.platform_updated_at,
        failed=sale.sync_status == SyncStatus.FAILED.value,
    )
    if change is None:
        if not seen:
            return Result(Outcome.STALE, sale.id)
        quiet = Change(seen, tiktok.PLATFORM_STATUS_ACTION, sale.status, sale.status, False)
        if not await tx.sales.save(
            sale, quiet, at=now, actor=report.actor_from(sale.status), source=source
        ):
            raise Lost
        return Result(
            Outcome.STALE, sale.id, reason="not newer than the last change; TikTok's status noted"
        )
    filled = sorted(change.fields)
    change = Change({**change.fields, **seen}, change.action, change.from_status, change.to_status)
    saved = await tx.sales.save(
        sale,
        change,
        at=now,
        actor=report.actor_from(sale.status),
        source=source,
        detail=dict(_detail(report), filled=filled),
        platform_at=report.update_time,
    )
    if not saved:
        raise Lost
    return Result(
        Outcome.STALE,
        sale.id,
        reason="older than the last change; filled in what was missing: " + ", ".join(filled),
        gained_tracking=change.fields.get("tracking_number"),
    )


def _detail(report: tiktok.ReturnReport) -> dict[str, object]:
    return {"return_status": report.return_status, "update_time": report.update_time.isoformat()}
