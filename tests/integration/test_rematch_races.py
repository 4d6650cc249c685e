"""The parcel rematch against real races on PostgreSQL (the multi-replica database).
Interleavings are forced with gates around the real code, never with sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from aftersales.domain.outcome import Outcome, Result
from aftersales.inbox import apply, payloads
from aftersales.inbox import receive as inbox
from aftersales.inbox.rematch import rematch_unmatched
from aftersales.store.models import AfterSale, HistoryEntry, WebhookDelivery
from aftersales.store.sales import Sales
from tests.support.builders import WINDOWS, Seller, make_sale, make_seller
from tests.support.clock import T0
from tests.support.webhooks import envelope, parcel_body, return_data

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
    pytest.mark.usefixtures("database"),
]

RETURN_ID = "576486316948490001"
LATER = T0 + timedelta(minutes=1)
LIMIT = 10.0  # seconds: a test that would hang fails instead


def _paused_once(
    original: Callable[..., Awaitable[Any]],
    when: Callable[[Any], bool],
    reached: asyncio.Event,
    release: asyncio.Event,
) -> Callable[..., Awaitable[Any]]:
    """Run `original`; the first time its result satisfies `when`, hold the caller's
    transaction open until `release` is set."""

    async def paused(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        if when(result) and not reached.is_set():
            reached.set()
            await release.wait()
        return result

    return paused


async def _receive_parcel(seller: Seller, event_id: str, **fields: Any) -> Result:
    body = parcel_body(shop_id=seller.shop_id, event_id=event_id, **fields)
    event = payloads.parse_parcel_event(body)
    return await inbox.receive_parcel_event(body, {}, event, now=T0)


async def _receive_report(
    seller: Seller, status: str, notification_id: str, *, at: datetime = T0
) -> Result:
    data = return_data(status, at=at, return_tracking_number="JX0001")
    body = envelope(seller.shop_id, data, notification_id=notification_id)
    note = payloads.parse_tiktok(body)
    return await inbox.receive_tiktok(body, {}, note, now=T0, windows=WINDOWS)


async def _parcel_actions(sale_id: int) -> list[str]:
    history = await HistoryEntry.filter(after_sale_id=sale_id).order_by("id")
    return [h.action for h in history if h.action.startswith("PARCEL_")]


async def test_an_event_that_committed_with_its_return_ends_applied_after_one_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    reached, release = asyncio.Event(), asyncio.Event()
    unmatched = _paused_once(
        apply.apply_parcel_event,
        lambda result: result.outcome is Outcome.UNMATCHED,
        reached,
        release,
    )
    monkeypatch.setattr(apply, "apply_parcel_event", unmatched)

    # The event has matched nothing and not committed when TikTok's report creates the return
    # and looks for waiting events: neither transaction sees the other.
    parcel = asyncio.create_task(_receive_parcel(seller, "e-delivered", status="DELIVERED"))
    await asyncio.wait_for(reached.wait(), LIMIT)
    report = await asyncio.wait_for(_receive_report(seller, "BUYER_SHIPPED_ITEM", "n1"), LIMIT)
    release.set()
    delivered = await asyncio.wait_for(parcel, LIMIT)
    monkeypatch.undo()
    assert (report.outcome, delivered.outcome) == (Outcome.CREATED, Outcome.UNMATCHED)
    assert report.after_sale_id is not None

    applied = await asyncio.wait_for(rematch_unmatched(LATER), LIMIT)

    assert applied == 1
    sale = await AfterSale.get(id=report.after_sale_id)
    assert (sale.return_status.value, sale.returned_at) == ("RETURNED", T0)
    row = await WebhookDelivery.get(id=delivered.delivery_id)
    assert (row.outcome, row.after_sale_id) == ("applied", report.after_sale_id)
    assert await _parcel_actions(report.after_sale_id) == ["PARCEL_DELIVERED"]
    assert await rematch_unmatched(LATER) == 0


async def test_a_run_leaves_an_after_sale_being_written_to_its_writer_without_deadlock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    delivered = await _receive_parcel(seller, "e-delivered", status="DELIVERED")
    sale_id = await make_sale(seller, status="AWAITING_BUYER_SHIP", return_id=RETURN_ID)
    reached, release = asyncio.Event(), asyncio.Event()
    monkeypatch.setattr(
        Sales,
        "save",
        _paused_once(Sales.save, bool, reached, release),
    )

    # A newer report has written the after-sale and is about to apply the waiting event itself.
    newer = T0 + timedelta(hours=1)
    report = asyncio.create_task(_receive_report(seller, "BUYER_SHIPPED_ITEM", "n2", at=newer))
    await asyncio.wait_for(reached.wait(), LIMIT)
    try:
        skipped = await asyncio.wait_for(rematch_unmatched(LATER), LIMIT)
    finally:
        release.set()
    receipt = await asyncio.wait_for(report, LIMIT)

    assert skipped == 0
    assert receipt.outcome is Outcome.APPLIED
    row = await WebhookDelivery.get(id=delivered.delivery_id)
    assert (row.outcome, row.after_sale_id) == ("applied", sale_id)
    assert await _parcel_actions(sale_id) == ["PARCEL_DELIVERED"]
    assert await rematch_unmatched(LATER) == 0


async def test_two_runs_at_once_apply_each_event_exactly_once() -> None:
    seller = await make_seller()
    sale_ids = []
    for n in range(12):
        return_id = f"5764863169484920{n:02d}"
        for status, at in (("IN_TRANSIT", "06:00"), ("DELIVERED", "09:00")):
            await _receive_parcel(
                seller,
                f"e{n}-{status}",
                return_id=return_id,
                tracking_number=f"JX2{n:02d}",
                status=status,
                occurred_at=f"2026-11-20T{at}:00Z",
            )
        sale_ids.append(await make_sale(seller, status="BUYER_SHIPPED_ITEM", return_id=return_id))

    totals = await asyncio.wait_for(
        asyncio.gather(rematch_unmatched(LATER), rematch_unmatched(LATER)), LIMIT
    )

    assert sum(totals) + await rematch_unmatched(LATER) == 24
    for sale_id in sale_ids:
        assert await _parcel_actions(sale_id) == ["PARCEL_IN_TRANSIT", "PARCEL_DELIVERED"]
    assert await WebhookDelivery.filter(outcome="unmatched").count() == 0
