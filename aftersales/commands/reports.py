"""TikTok's return reports (docs/webhooks.md): create, update, or keep as stale.

TikTok is the source of truth for what it reports: a newer report is applied even when it skips
steps we never heard about, and a report about a return we have never seen creates it. A stale
report only fills in the details the after-sale still lacks, with the same versioned save.
"""

from __future__ import annotations

from datetime import datetime

from aftersales.commands.retry import Lost, retrying
from aftersales.domain import tiktok
from aftersales.domain.model import Change, DisputeWindows, EventSource
from aftersales.domain.outcome import Outcome, Result
from aftersales.domain.sync import SyncStatus
from aftersales.store.records import SaleRecord
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
) -> Result:
    """Apply one report in `tx` (each attempt in a savepoint of it).

    `current`: the report is TikTok's state right now (a return fetched from its API), not a
    point in time. Then, even when older than our last local change, its status replaces ours
    when they differ, our last decision did not reach TikTok (sync FAILED) and none is on its
    way: the platform wins (a buyer's cancellation TikTok applied before the seller's accept,
    a decision TikTok refused)."""
    shop = await tx.shops.by_shop_id(shop_id)
    if shop is None:
        return Result(Outcome.UNKNOWN_SHOP)
    window = windows.for_region(shop.region)

    async def attempt() -> Result:
        async with tx.savepoint() as sp:
            sale = await sp.sales.by_return_id(shop, report.return_id)
            created = sale is None
            if sale is None:
                sale = await sp.sales.create(shop, tiktok.new_sale_fields(report), at=now)
                if sale is None:  # a concurrent delivery created it first
                    raise Lost
            elif tiktok.is_stale(report, sale.last_event_at) and not (
                current
                and sale.sync_status == SyncStatus.FAILED.value
                and tiktok.reports_other_status(sale.as_sale(), report)
                and not await sp.calls.decisions_waiting(sale.id)
            ):
                return await _fill_missing(sp, sale, report, now=now, source=source)
            change = tiktok.interpret(sale.as_sale(), report, dispute_window=window)
            if sale.last_event_at is not None and sale.last_event_at > report.update_time:
                # The platform's state replaces ours, but the newest moment applied stays.
                fields = dict(change.fields, last_event_at=sale.last_event_at)
                change = Change(fields, change.action, change.from_status, change.to_status)
            if created:
                change = Change(change.fields, change.action, None, change.to_status)
            saved = await sp.sales.save(
                sale,
                change,
                at=now,
                actor=report.actor,
                source=source,
                detail=_detail(report),
            )
            if not saved:
                raise Lost
            if created:
                outcome = Outcome.CREATED
            elif change.action == tiktok.UNMAPPED_STATUS_ACTION:
                outcome = Outcome.UNMAPPED
            else:
                outcome = Outcome.APPLIED
            return Result(outcome, sale.id)

    return await retrying(attempt)


async def _fill_missing(
    tx: Tx, sale: SaleRecord, report: tiktok.ReturnReport, *, now: datetime, source: EventSource
) -> Result:
    """A stale report: its status is ignored, the details the after-sale lacks are filled in
    (one history entry, only when it filled something). Raises Lost on a lost version check."""
    has_items = not report.items or await tx.sales.has_items(sale.id)
    change = tiktok.fill_missing(sale.as_sale(), report, has_items=has_items)
    if change is None:
        return Result(Outcome.STALE, sale.id)
    filled = sorted(change.fields)
    saved = await tx.sales.save(
        sale,
        change,
        at=now,
        actor=report.actor,
        source=source,
        detail=dict(_detail(report), filled=filled),
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
