"""The sweep racing buyers' disputes and other sweepers, on PostgreSQL (the multi-replica
database). Interleavings are forced with gates around the real code, never with sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from tortoise import connections

from aftersales.commands.sweep import EXPIRED_ACTION, SweepBusy, sweep_expired_disputes
from aftersales.domain.model import Actor, AfterSaleStatus, DisputeStatus, EventSource
from aftersales.domain.outcome import Outcome, Result
from aftersales.settings import Settings
from aftersales.store import sweeps
from aftersales.store.models import AfterSale, HistoryEntry
from aftersales.store.sales import Sales
from aftersales.store.uow import uow
from tests.support.builders import apply_report, make_sale, make_seller, report
from tests.support.clock import T0
from tests.support.eventually import eventually_async

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
    pytest.mark.usefixtures("database"),
]

REJECT = "RETURN_OR_REFUND_REQUEST_REJECT"
RETURN_ID = "576486316948493333"
EXPIRED = T0 + timedelta(days=3)
LIMIT = 10.0  # seconds: a test that would hang fails instead


def _paused_after(
    original: Callable[..., Awaitable[Any]], reached: asyncio.Event, release: asyncio.Event
) -> Callable[..., Awaitable[Any]]:
    """Run `original`; once it has written something, hold its transaction open until
    `release` is set."""

    async def paused(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        if result:  # rows closed, change saved
            reached.set()
            await release.wait()
        return result

    return paused


async def _dispute(shop_id: str) -> Result:
    return await apply_report(
        shop_id,
        report(
            REJECT,
            return_id=RETURN_ID,
            at=T0 + timedelta(hours=47),
            arbitration_status="IN_PROGRESS",
        ),
        now=EXPIRED,
        windows=Settings().dispute_windows,
    )


async def _wait_for_a_lock_waiter() -> None:
    conn = connections.get("default")

    async def waiters() -> int:
        _, rows = await conn.execute_query(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(rows[0]["n"])

    await eventually_async(
        waiters, what="the dispute waits for the sweep's row lock", seconds=10, every=0.02
    )


async def test_a_dispute_being_written_while_the_sweep_runs_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status=REJECT, at=T0, return_id=RETURN_ID)
    reached, release = asyncio.Event(), asyncio.Event()
    monkeypatch.setattr(Sales, "save", _paused_after(Sales.save, reached, release))

    # The dispute has written the row and not committed yet when the sweep runs.
    dispute = asyncio.create_task(_dispute(seller.shop_id))
    await asyncio.wait_for(reached.wait(), LIMIT)
    closed = await asyncio.wait_for(sweep_expired_disputes(EXPIRED), LIMIT)
    release.set()
    await asyncio.wait_for(dispute, LIMIT)

    assert closed == 0  # skipped, neither waited for nor overwritten
    row = await AfterSale.get(id=sale_id)
    assert (row.status.value, row.dispute_status) == ("REJECTED", DisputeStatus.IN_PROGRESS)
    assert await sweep_expired_disputes(EXPIRED + timedelta(days=30)) == 0
    assert await HistoryEntry.filter(after_sale_id=sale_id, action=EXPIRED_ACTION).count() == 0


async def test_a_dispute_arriving_while_a_batch_holds_the_row_is_applied_after_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status=REJECT, at=T0, return_id=RETURN_ID)
    reached, release = asyncio.Event(), asyncio.Event()
    monkeypatch.setattr(sweeps, "_close", _paused_after(sweeps._close, reached, release))

    # The sweep has closed the row and not committed when TikTok reports the dispute.
    sweep = asyncio.create_task(sweep_expired_disputes(EXPIRED))
    await asyncio.wait_for(reached.wait(), LIMIT)
    dispute = asyncio.create_task(_dispute(seller.shop_id))
    await asyncio.wait_for(_wait_for_a_lock_waiter(), LIMIT)
    release.set()
    closed = await asyncio.wait_for(sweep, LIMIT)
    result = await asyncio.wait_for(dispute, LIMIT)

    # The dispute lost its version check, re-read the closed row, and TikTok's newer report won.
    assert closed == 1
    assert result.outcome is Outcome.APPLIED
    row = await AfterSale.get(id=sale_id)
    assert (row.status.value, row.dispute_status) == ("REJECTED", DisputeStatus.IN_PROGRESS)
    actions = [h.action for h in await HistoryEntry.filter(after_sale_id=sale_id).order_by("id")]
    assert actions[-2:] == [EXPIRED_ACTION, "PLATFORM_STATUS_REPORTED"]


async def test_a_second_sweep_while_one_holds_the_lock_does_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    await make_sale(seller, status=REJECT, at=T0)
    reached, release = asyncio.Event(), asyncio.Event()
    monkeypatch.setattr(sweeps, "_close", _paused_after(sweeps._close, reached, release))

    first = asyncio.create_task(sweep_expired_disputes(EXPIRED))
    await asyncio.wait_for(reached.wait(), LIMIT)
    monkeypatch.undo()
    with pytest.raises(SweepBusy):
        await asyncio.wait_for(sweep_expired_disputes(EXPIRED), LIMIT)
    release.set()

    assert await asyncio.wait_for(first, LIMIT) == 1


async def test_two_sweepers_at_once_close_each_row_exactly_once() -> None:
    seller = await make_seller()
    ids = [await make_sale(seller, status=REJECT, at=T0) for _ in range(40)]

    results = await asyncio.gather(
        sweep_expired_disputes(EXPIRED, batch_size=3),
        sweep_expired_disputes(EXPIRED, batch_size=3),
        return_exceptions=True,
    )

    closed = [r for r in results if isinstance(r, int)]
    assert all(isinstance(r, int | SweepBusy) for r in results), results
    assert sum(closed) == 40
    for sale_id in ids:
        assert await HistoryEntry.filter(after_sale_id=sale_id, action=EXPIRED_ACTION).count() == 1


async def test_batches_racing_without_the_lock_still_close_each_row_exactly_once() -> None:
    # The advisory lock only saves work: the conditional, SKIP LOCKED batches are what make a
    # close happen once. Four closers run their batches concurrently on separate connections.
    seller = await make_seller()
    ids = [await make_sale(seller, status=REJECT, at=T0) for _ in range(60)]
    closing = sweeps.Closing(
        from_status=AfterSaleStatus.REJECTED,
        to_status=AfterSaleStatus.REQUEST_CLOSED,
        unless_dispute=DisputeStatus.IN_PROGRESS,
        actor=Actor.SYSTEM,
        source=EventSource.SCHEDULER,
        action=EXPIRED_ACTION,
    )

    async def closer() -> int:
        total = 0
        while True:
            async with uow() as tx:
                n = await tx.sweeps.close_expired_batch(closing, now=EXPIRED, limit=4)
            if not n:
                return total
            total += n

    totals = await asyncio.wait_for(asyncio.gather(*(closer() for _ in range(4))), LIMIT)

    assert sum(totals) == 60
    counts = [
        await HistoryEntry.filter(after_sale_id=i, action=EXPIRED_ACTION).count() for i in ids
    ]
    assert counts == [1] * 60
