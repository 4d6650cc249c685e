"""Racing writers on one after-sale, on PostgreSQL (docs/graphql.md): never a lost update.

Each racer runs as its own task, so each `in_transaction` takes its own pool connection. The
race is forced, not hoped for: `Race` patches the loads of `Sales` so that every racer has read
the same version before any of them writes, and checks afterwards that this really happened.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest

from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.errors import Conflict, InvalidTransition
from aftersales.domain.model import Actor, AfterSaleStatus, AfterSaleType, SellerAction
from aftersales.domain.outcome import Outcome, Result
from aftersales.store.models import AfterSale
from aftersales.store.records import SaleRecord
from aftersales.store.sales import Sales
from tests.support.builders import WINDOWS, apply_report, make_seller, report, sale_in, seller_id_of
from tests.support.clock import T0
from tests.support.stored import stored

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("database")]

S = AfterSaleStatus
A = SellerAction
NOW = T0 + timedelta(hours=1)
RID = "576486316948490777"
HOLD = 10.0  # seconds a racer waits for the other before the test fails instead of hanging

R = TypeVar("R")


@pytest.fixture(params=["postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """This module races real connections: PostgreSQL only (SQLite has one writer)."""
    return str(request.param)


@dataclass
class Race:
    """Holds each racer after its first read until every racer has read.

    With `first` set, the other racers also wait until `first` has committed, so the order of
    the writes is fixed; without it they all write at once and the database picks the winner.
    """

    names: tuple[str, ...]
    first: str | None = None
    reads: list[tuple[str, int | None]] = field(default_factory=list)
    all_read: asyncio.Event = field(default_factory=asyncio.Event)
    first_done: asyncio.Event = field(default_factory=asyncio.Event)

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._wrap(monkeypatch, "of_seller")
        self._wrap(monkeypatch, "by_return_id")

    def _wrap(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        load: Callable[..., Awaitable[SaleRecord | None]] = getattr(Sales, name)

        async def held(*args: Any, **kwargs: Any) -> SaleRecord | None:
            found = await load(*args, **kwargs)
            await self._after_read(found.version if found is not None else None)
            return found

        monkeypatch.setattr(Sales, name, held)

    async def _after_read(self, version: int | None) -> None:
        task = asyncio.current_task()
        racer = task.get_name() if task else ""
        self.reads.append((racer, version))
        if racer not in self.names or [r for r, _ in self.reads].count(racer) > 1:
            return  # a retry, or someone else's read: goes straight on
        if len({r for r, _ in self.reads if r in self.names}) == len(self.names):
            self.all_read.set()
        await asyncio.wait_for(self.all_read.wait(), HOLD)
        if self.first is not None and racer != self.first:
            await asyncio.wait_for(self.first_done.wait(), HOLD)

    async def run(self, **racers: Coroutine[Any, Any, Any]) -> dict[str, Any]:
        """Run the racers as named tasks; their results, or the exceptions they raised."""

        async def tracked(name: str, coro: Coroutine[Any, Any, R]) -> R:
            try:
                return await coro
            finally:
                if name == self.first:
                    self.first_done.set()

        tasks = {n: asyncio.create_task(tracked(n, c), name=n) for n, c in racers.items()}
        results = await asyncio.gather(*tasks.values(), return_exceptions=True)
        return dict(zip(tasks, results, strict=True))

    def first_reads(self) -> list[int | None]:
        seen: dict[str, int | None] = {}
        for racer, version in self.reads:
            seen.setdefault(racer, version)
        return [seen[n] for n in self.names]

    def read_count(self, racer: str) -> int:
        return [r for r, _ in self.reads].count(racer)


async def _pending_return() -> tuple[int, int, str]:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    sale_id = await sale_in(
        seller, AfterSaleType.RETURN_AND_REFUND, S.PENDING_REQUEST, return_id=RID
    )
    return seller_id, sale_id, seller.shop_id


def _act(seller_id: int, sale_id: int, command: Decision) -> Coroutine[Any, Any, Any]:
    return seller_commands.decide(seller_id, sale_id, command, now=NOW, windows=WINDOWS)


async def test_accept_and_reject_racing_make_exactly_one_transition(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller_id, sale_id, _ = await _pending_return()
    before = await stored(seller_id, sale_id)
    race = Race(names=("accept", "reject"))
    race.patch(monkeypatch)

    results = await race.run(
        accept=_act(seller_id, sale_id, Decision(A.ACCEPT_RETURN)),
        reject=_act(seller_id, sale_id, Decision(A.REJECT_RETURN, reason="used")),
    )

    assert race.first_reads() == [before.sale.version, before.sale.version]
    winners = [n for n, r in results.items() if not isinstance(r, BaseException)]
    assert len(winners) == 1
    (loser,) = set(results) - set(winners)
    assert isinstance(results[loser], InvalidTransition | Conflict)
    after = await stored(seller_id, sale_id)
    expected = S.AWAITING_BUYER_SHIPMENT if winners == ["accept"] else S.REJECTED
    assert after.sale.status is expected
    assert after.sale.version == before.sale.version + 1
    assert after.history[len(before.history) :] == [after.history[-1]]
    assert after.history[-1].action == (
        "ACCEPT_RETURN" if winners == ["accept"] else "REJECT_RETURN"
    )


async def test_double_clicked_accept_is_applied_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seller_id, sale_id, _ = await _pending_return()
    before = await stored(seller_id, sale_id)
    race = Race(names=("one", "two"))
    race.patch(monkeypatch)

    results = await race.run(
        one=_act(seller_id, sale_id, Decision(A.ACCEPT_RETURN)),
        two=_act(seller_id, sale_id, Decision(A.ACCEPT_RETURN)),
    )

    assert race.first_reads() == [before.sale.version, before.sale.version]
    refused = [r for r in results.values() if isinstance(r, BaseException)]
    assert len(refused) == 1
    assert isinstance(refused[0], InvalidTransition)
    after = await stored(seller_id, sale_id)
    assert after.sale.version == before.sale.version + 1
    assert len(after.history) == len(before.history) + 1


async def test_seller_action_losing_to_a_buyer_cancel_is_refused_not_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller_id, sale_id, shop_id = await _pending_return()
    before = await stored(seller_id, sale_id)
    race = Race(names=("report", "seller"), first="report")
    race.patch(monkeypatch)
    cancel = report("RETURN_OR_REFUND_REQUEST_CANCEL", return_id=RID, at=NOW + timedelta(hours=1))

    results = await race.run(
        report=apply_report(shop_id, cancel, now=NOW, windows=WINDOWS),
        seller=_act(seller_id, sale_id, Decision(A.ACCEPT_RETURN)),
    )

    assert race.first_reads() == [before.sale.version, before.sale.version]
    assert race.read_count("seller") == 2  # lost the version check, then read again
    assert results["report"] == Result(Outcome.APPLIED, sale_id)
    assert isinstance(results["seller"], InvalidTransition)
    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.REQUEST_CLOSED
    assert after.sale.version == before.sale.version + 1
    assert [(h.actor, h.to_status) for h in after.history[len(before.history) :]] == [
        (Actor.BUYER, S.REQUEST_CLOSED)
    ]


async def test_report_losing_to_a_seller_action_is_applied_on_top_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller_id, sale_id, shop_id = await _pending_return()
    before = await stored(seller_id, sale_id)
    race = Race(names=("seller", "report"), first="seller")
    race.patch(monkeypatch)
    shipped = report(
        "BUYER_SHIPPED_ITEM", return_id=RID, at=NOW + timedelta(hours=1), tracking_number="JX7"
    )

    results = await race.run(
        seller=_act(seller_id, sale_id, Decision(A.ACCEPT_RETURN)),
        report=apply_report(shop_id, shipped, now=NOW, windows=WINDOWS),
    )

    assert race.first_reads() == [before.sale.version, before.sale.version]
    assert race.read_count("report") == 2
    assert not isinstance(results["seller"], BaseException)
    assert results["report"] == Result(Outcome.APPLIED, sale_id)
    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.SHIPPED_BY_BUYER
    assert after.sale.tracking_number == "JX7"
    assert after.sale.version == before.sale.version + 2
    assert [(h.action, h.from_status, h.to_status) for h in after.history[-2:]] == [
        ("ACCEPT_RETURN", S.PENDING_REQUEST, S.AWAITING_BUYER_SHIPMENT),
        ("PLATFORM_STATUS_REPORTED", S.AWAITING_BUYER_SHIPMENT, S.SHIPPED_BY_BUYER),
    ]


async def test_note_racing_an_action_keeps_both(monkeypatch: pytest.MonkeyPatch) -> None:
    seller_id, sale_id, _ = await _pending_return()
    before = await stored(seller_id, sale_id)
    race = Race(names=("offer", "note"))
    race.patch(monkeypatch)

    results = await race.run(
        offer=_act(seller_id, sale_id, Decision(A.OFFER_PARTIAL_REFUND, amount=Decimal("40"))),
        note=seller_commands.add_note(seller_id, sale_id, "called the buyer", now=NOW),
    )

    assert race.first_reads() == [before.sale.version, before.sale.version]
    assert not any(isinstance(r, BaseException) for r in results.values())
    after = await stored(seller_id, sale_id)
    assert after.sale.status is S.AWAITING_BUYER_RESPONSE
    assert after.sale.partial_refund_offer == Decimal("40.00")
    assert [n.text for n in after.notes] == ["called the buyer"]
    assert after.sale.version == before.sale.version + 2
    assert len(after.history) == len(before.history) + 2


async def test_duplicate_first_reports_create_one_after_sale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    race = Race(names=("one", "two"))
    race.patch(monkeypatch)
    pending = report("RETURN_OR_REFUND_REQUEST_PENDING", return_id=RID)

    results = await race.run(
        one=apply_report(seller.shop_id, pending, now=T0, windows=WINDOWS),
        two=apply_report(seller.shop_id, pending, now=T0, windows=WINDOWS),
    )

    assert race.first_reads() == [None, None]
    assert sorted(r.outcome.value for r in results.values()) == ["created", "stale"]
    assert await AfterSale.filter(return_id=RID).count() == 1
    (sale_id,) = {r.after_sale_id for r in results.values()}
    assert sale_id is not None
    assert len((await stored(seller_id, sale_id)).history) == 1
