"""What a parsed delivery does: the command it runs, and the parcel events it lets match.

Both run in the delivery's own unit of work (`tx`), so a report, the events that waited for its
return and the delivery's outcome commit together.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from aftersales.commands import triage
from aftersales.commands.connection import authorization_notice
from aftersales.commands.parcels import apply_parcel_event
from aftersales.commands.reports import apply_return_report
from aftersales.domain import tiktok
from aftersales.domain.errors import Invalid
from aftersales.domain.model import DisputeWindows, EventSource
from aftersales.domain.outcome import Outcome, Result
from aftersales.domain.parcels import ParcelEvent
from aftersales.inbox import late, payloads
from aftersales.inbox.payloads import TikTokNotification
from aftersales.store.sales import ReportLookup
from aftersales.store.uow import Tx

# Outcomes after which the return exists, perhaps with a new tracking number.
_REPORTED = (Outcome.CREATED, Outcome.APPLIED, Outcome.UNMAPPED)


async def apply_tiktok(
    tx: Tx,
    note: TikTokNotification,
    *,
    now: datetime,
    windows: DisputeWindows,
    fetch_details: bool = False,
) -> Result:
    """A TikTok push notification. With `fetch_details` (the TikTok API is configured), a thin
    report about a shop that syncs queues a fetch of the full return (docs/tiktok-sync.md).
    Types 6 and 7 change the shop's connection state (aftersales/commands/connection.py)."""
    if note.report is not None and note.shop_id is not None:
        found = await tx.sales.for_report(
            note.shop_id, note.report.return_id, note.report.tracking_number
        )
        # A thin report about a shop that syncs queues a fetch of the full return, and the
        # seller's rules wait for it (they look at amounts and lines).
        waits = (
            fetch_details
            and found.shop is not None
            and tiktok.is_thin(note.report)
            and note.report.buyer_started
            and await tx.calls.shop_syncs(found.shop.id)
        )
        result = await apply_report(
            tx,
            note.shop_id,
            note.report,
            now=now,
            windows=windows,
            source=EventSource.TIKTOK_WEBHOOK,
            found=found,
            defer_rules=waits,
        )
        if waits and found.shop is not None:
            await tx.calls.fetch(
                shop_pk=found.shop.id,
                return_id=note.report.return_id,
                now=now,
                cancellation=note.report.is_cancellation,
            )
        elif result.outcome is Outcome.CREATED and found.has_rules and result.after_sale_id:
            # Created by this unit of work (a concurrent copy lost the insert): evaluated once.
            await triage.evaluate(
                tx, result.after_sale_id, now=now, windows=windows, push=fetch_details
            )
        return result
    if note.type in payloads.AUTHORIZATION_TYPES and note.shop_id is not None:
        # `fetch_details` is set exactly when the TikTok API is configured.
        return await authorization_notice(
            tx,
            note.shop_id,
            revoked=note.type == payloads.DEAUTHORIZATION,
            expires_at=note.expiration_time,
            sent_at=note.timestamp,
            sync_configured=fetch_details,
            now=now,
        )
    return Result(Outcome.UNKNOWN_TYPE, reason=f"type {note.type} is not handled")


async def apply_report(
    tx: Tx,
    shop_id: str,
    report: tiktok.ReturnReport,
    *,
    now: datetime,
    windows: DisputeWindows,
    source: EventSource,
    current: bool = False,
    found: ReportLookup | None = None,
    defer_rules: bool = False,
) -> Result:
    """A return report, pushed (a webhook) or fetched (`current`: TikTok's state right now),
    then the parcel events that waited for its return.

    `found`: what `tx.sales.for_report` read for it (one statement instead of three: the shop,
    the after-sale, whether parcel events wait for it); read here when not given."""
    if not report.buyer_started:
        # Only a buyer's cancellation request is the seller's to answer (domain/cancellations.py).
        return Result(
            Outcome.RECORDED,
            reason=f"a cancellation started by {(report.role or 'the system').lower()}:"
            " recorded, no after-sale",
        )
    if found is None:
        found = await tx.sales.for_report(shop_id, report.return_id, report.tracking_number)
    try:
        result = await apply_return_report(
            tx,
            shop_id,
            report,
            now=now,
            windows=windows,
            source=source,
            current=current,
            found=found,
            defer_rules=defer_rules,
        )
    except Invalid as exc:  # e.g. a new return of a return_type we do not know
        return Result(Outcome.UNMAPPED, reason=exc.message)
    matched: list[Result] = []
    # Parcel events wait for the return_id or the tracking number the report carries, and
    # `found` says whether any did when it was read. (One that matched nothing and committed
    # since, while this report was being applied, is applied by the rematch job,
    # aftersales/inbox/rematch.py, like one that commits at the same moment as the report.)
    if found.events_waiting and result.after_sale_id is not None:
        if result.outcome in _REPORTED:
            # The return exists now, perhaps with its tracking number: apply the parcel events
            # that arrived before it (and any that raced with an earlier report).
            matched = await late.apply_matching(
                tx,
                shop_id,
                return_id=report.return_id,
                tracking_number=report.tracking_number,
                now=now,
            )
        elif result.gained_tracking:
            # A stale report filled in the missing tracking number: its events match now.
            matched = await late.apply_matching(
                tx, shop_id, return_id=None, tracking_number=result.gained_tracking, now=now
            )
    reasons = [r for r in (result.reason, late.summary(matched)) if r]
    return replace(result, reason="; ".join(reasons) or None)


async def apply_fetched(
    tx: Tx,
    shop_id: str,
    report: tiktok.ReturnReport,
    *,
    now: datetime,
    windows: DisputeWindows,
    backfill: bool = False,
) -> Result:
    """A return object fetched from TikTok's API: TikTok's state right now, recorded with source
    TIKTOK_API (docs/tiktok-sync.md). A request awaiting the rules' evaluation (created by a
    poll, or by a thin webhook that waited for this fetch) gets it now; one imported by a
    `backfill` (syncShop, `aftersales sync`) never awaits it."""
    found = await tx.sales.for_report(shop_id, report.return_id, report.tracking_number)
    result = await apply_report(
        tx,
        shop_id,
        report,
        now=now,
        windows=windows,
        source=EventSource.TIKTOK_API,
        current=True,
        found=found,
    )
    sale_id = result.after_sale_id
    if backfill or sale_id is None:
        return result
    if result.outcome is Outcome.CREATED:
        if found.has_rules:
            await triage.evaluate(tx, sale_id, now=now, windows=windows, push=True)
    else:  # a request whose thin report waited for this fetch, if it is one
        await triage.after_fetch(tx, sale_id, now=now, windows=windows, push=True)
    return result


async def apply_parcel(tx: Tx, event: ParcelEvent, *, now: datetime) -> Result:
    result = await apply_parcel_event(tx, event, now=now)
    matched: list[Result] = []
    if result.gained_tracking:  # e.g. an abnormal return created: events of its parcel now match
        matched = await late.apply_matching(
            tx, event.shop_id, return_id=None, tracking_number=result.gained_tracking, now=now
        )
    return replace(result, reason=result.reason or late.summary(matched))
