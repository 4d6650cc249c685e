"""History reads as the sequence of changes applied, whatever order their deliveries arrived in.

The race of issue 16: TikTok's report that a buyer cancelled arrives first, the seller's reject
is applied before it, then the report is applied (after losing the version check once). History
must read PENDING_REQUEST -> REJECTED (seller) -> REQUEST_CLOSED (TikTok), each entry carrying the
time its change was applied and TikTok's own time in `platform_at`.

On PostgreSQL each TikTok report has read its after-sale before the seller's reject is written,
and writes only once that reject is committed: it really loses the version check and is applied
on its retry (asserted). SQLite has one writer at a time (a transaction held open would hold the
seller off): there the report starts once the reject is committed, the order the race produces.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest

from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.model import Actor, AfterSaleStatus, AfterSaleType, SellerAction
from aftersales.domain.outcome import Outcome, Result
from aftersales.store.records import SaleRecord
from aftersales.store.sales import Sales
from tests.support.builders import (
    WINDOWS,
    apply_report,
    make_seller,
    report,
    sale_in,
    seller_id_of,
    unique_id,
)
from tests.support.clock import T0
from tests.support.stored import stored

pytestmark = pytest.mark.usefixtures("database")

S = AfterSaleStatus
RACES = 20
HOLD = 20.0  # seconds a racer waits for the other before the test fails instead of hanging
# Races run at once: each holds up to two pooled connections (the report's open transaction
# waits for the reject's), and the pool has five.
AT_ONCE = 2
ARRIVED = T0 + timedelta(hours=1)  # when the report's delivery arrived
SELLER_AT = T0 + timedelta(hours=1, minutes=1)  # when the seller's reject came in
# TikTok's own time for the cancellation: its clock runs ahead of ours, so the report is newer
# than the reject (not stale) and its status applies.
PLATFORM_AT = T0 + timedelta(hours=1, minutes=2)


class Gates:
    """Per after-sale: the TikTok report has read it; the seller's reject is committed."""

    def __init__(self, count: int) -> None:
        self.read = [asyncio.Event() for _ in range(count)]
        self.committed = [asyncio.Event() for _ in range(count)]
        self.tiktok_reads = [0] * count

    def hold_tiktok_after_first_read(self, monkeypatch: pytest.MonkeyPatch) -> None:
        load: Callable[..., Awaitable[SaleRecord | None]] = Sales.by_return_id

        async def held(*args: Any, **kwargs: Any) -> SaleRecord | None:
            found = await load(*args, **kwargs)
            task = asyncio.current_task()
            name = task.get_name() if task else ""
            if name.startswith("tiktok-"):
                n = int(name.removeprefix("tiktok-"))
                self.tiktok_reads[n] += 1
                if self.tiktok_reads[n] == 1:
                    self.read[n].set()
                    await asyncio.wait_for(self.committed[n].wait(), HOLD)
            return found

        monkeypatch.setattr(Sales, "by_return_id", held)


async def _reject(seller_id: int, sale_id: int, n: int, gates: Gates, backend: str) -> Any:
    try:
        if backend == "postgres":
            await asyncio.wait_for(gates.read[n].wait(), HOLD)
        return await seller_commands.decide(
            seller_id,
            sale_id,
            Decision(SellerAction.REJECT_RETURN, reason="used"),
            now=SELLER_AT,
            windows=WINDOWS,
        )
    finally:
        gates.committed[n].set()


async def _cancelled(shop_id: str, return_id: str, n: int, gates: Gates, backend: str) -> Result:
    if backend == "sqlite":
        await asyncio.wait_for(gates.committed[n].wait(), HOLD)
    cancel = report("RETURN_OR_REFUND_REQUEST_CANCEL", return_id=return_id, at=PLATFORM_AT)
    return await apply_report(shop_id, cancel, now=ARRIVED)


@pytest.mark.parametrize("run", range(5))
async def test_history_of_racing_seller_and_tiktok_reads_in_the_order_changes_were_applied(
    run: int, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    return_ids = [unique_id() for _ in range(RACES)]
    sale_ids = [
        await sale_in(seller, AfterSaleType.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=rid)
        for rid in return_ids
    ]
    gates = Gates(RACES)
    if backend == "postgres":
        gates.hold_tiktok_after_first_read(monkeypatch)

    at_once = asyncio.Semaphore(AT_ONCE)

    async def race(n: int) -> Result:
        async with at_once:
            reject = asyncio.create_task(
                _reject(seller_id, sale_ids[n], n, gates, backend), name=f"seller-{n}"
            )
            cancel = asyncio.create_task(
                _cancelled(seller.shop_id, return_ids[n], n, gates, backend), name=f"tiktok-{n}"
            )
            await reject
            return await cancel

    results = await asyncio.gather(*(race(n) for n in range(RACES)))

    assert [r.outcome for r in results] == [Outcome.APPLIED] * RACES
    if backend == "postgres":  # each report lost the version check once, then was applied
        assert gates.tiktok_reads == [2] * RACES
    for sale_id in sale_ids:
        history = (await stored(seller_id, sale_id)).history
        assert [(h.actor, h.from_status, h.to_status) for h in history[1:]] == [
            (Actor.SELLER, S.PENDING_REQUEST, S.REJECTED),
            (Actor.BUYER, S.REJECTED, S.REQUEST_CLOSED),
        ]
        for before, entry in pairwise(history):
            assert entry.from_status == before.to_status
            assert entry.at >= before.at
        assert history[-1].at == SELLER_AT  # applied after the reject, not when it arrived
        assert [h.platform_at for h in history] == [T0, None, PLATFORM_AT]
