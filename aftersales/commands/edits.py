"""Edited requests (aftersales/domain/edits.py): when a report links a return to the one it
replaces, the old after-sale is closed as SUPERSEDED and its queued decision is never sent.

Runs in the report's own transaction (`tx`), after the report was applied, and only when the
report carries a link or a held after-sale names its return as the one it replaces: a report
without either costs nothing more.
"""

from __future__ import annotations

from datetime import datetime

from aftersales.commands.retry import Lost, retrying
from aftersales.domain import edits
from aftersales.domain.model import Actor, EventSource
from aftersales.domain.tiktok import ReturnReport
from aftersales.store.records import ShopRecord
from aftersales.store.uow import Tx


async def settle(
    tx: Tx,
    shop: ShopRecord,
    report: ReturnReport,
    *,
    successor: str | None,
    now: datetime,
    source: EventSource,
) -> None:
    """Close what `report` says is superseded: its own return when it names a successor
    (`next_return_id`, or `successor`: a held after-sale names it as its `pre_return_id`), and
    the return it replaces (`pre_return_id`) when that one is held."""
    newer = report.next_return_id or successor
    if newer is not None:
        await close(
            tx, shop, report.return_id, newer, at=report.update_time, now=now, source=source
        )
    if report.pre_return_id is not None:
        await close(
            tx,
            shop,
            report.pre_return_id,
            report.return_id,
            at=report.update_time,
            now=now,
            source=source,
        )


async def close(
    tx: Tx,
    shop: ShopRecord,
    return_id: str,
    successor: str,
    *,
    at: datetime,
    now: datetime,
    source: EventSource,
) -> bool:
    """Close the after-sale of `return_id` as superseded by `successor` (actor PLATFORM) and
    cancel its queued decisions; False when it is not held or already final."""

    async def attempt() -> bool:
        sale = await tx.sales.by_return_id(shop, return_id)
        if sale is None or sale.return_id == successor:
            return False
        change = edits.supersede(sale.as_sale(), last_event_at=sale.last_event_at, at=at)
        if change is None:
            return False
        saved = await tx.sales.save(
            sale,
            change,
            at=now,
            actor=Actor.PLATFORM,
            source=source,
            detail={"superseded_by": successor},
            platform_at=at,
        )
        if not saved:
            raise Lost
        await tx.calls.cancel_decisions(
            sale.id,
            f"not sent: the buyer edited the request, which TikTok replaced by return {successor}",
            now=now,
        )
        return True

    return await retrying(attempt)
