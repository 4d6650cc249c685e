"""Concurrent stock-ins of one after-sale on PostgreSQL: they serialize on the row, so the
returned quantity is never exceeded.

The critical section (between reading what was already stocked in and writing the movements) is
widened with a short sleep so that every call reads before any commits. The last test removes
the row lock and the version check and shows that the very same race then overcounts: the race
these tests guard against is real, not an artefact of calls that happened to run one by one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from aftersales.commands import stock
from aftersales.domain import errors as domain
from aftersales.domain import stock as inventory
from aftersales.store.sales import Sales
from aftersales.store.stock import Stock
from tests.support.builders import (
    abnormal_return,
    good,
    make_seller,
    returned_sale,
    seller_id_of,
    warehouse,
)
from tests.support.clock import T0
from tests.support.door import read

store = read("stock")

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("database")]

CALLS = 4  # the PostgreSQL pool holds 5 connections
NOW = T0 + timedelta(days=5)


@pytest.fixture
def backend() -> str:
    """PostgreSQL only: SQLite runs one transaction at a time, so it has no such race."""
    return "postgres"


class Watch:
    """Counts calls that reached the lock and calls inside the critical section at once."""

    def __init__(self) -> None:
        self.arrived = 0
        self.inside = 0
        self.most_inside = 0
        self.arrived_before_first_commit: int | None = None


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Watch]:
    seen = Watch()
    of_seller, stocked_quantities = Sales.of_seller, Stock.stocked_quantities
    record_movements = Stock.record_movements

    async def arriving(*args: Any, lock: bool = False) -> Any:
        if lock:
            seen.arrived += 1
        return await of_seller(*args, lock=lock)

    async def slow_read(*args: Any) -> dict[str, int]:
        seen.inside += 1
        seen.most_inside = max(seen.most_inside, seen.inside)
        try:
            result = await stocked_quantities(*args)
            await asyncio.sleep(0.05)
            return result
        finally:
            seen.inside -= 1

    async def writing(*args: Any, **kwargs: Any) -> bool:
        if seen.arrived_before_first_commit is None:
            seen.arrived_before_first_commit = seen.arrived
        return await record_movements(*args, **kwargs)

    monkeypatch.setattr(Sales, "of_seller", arriving)
    monkeypatch.setattr(Stock, "stocked_quantities", slow_read)
    monkeypatch.setattr(Stock, "record_movements", writing)
    yield seen


def _without_the_row_lock(watch: Watch, monkeypatch: pytest.MonkeyPatch) -> None:
    of_seller = Sales.of_seller

    async def unlocked(*args: Any, lock: bool = False) -> Any:
        watch.arrived += lock
        return await of_seller(*args)

    monkeypatch.setattr(Sales, "of_seller", unlocked)


async def _race(command: stock.StockIn) -> tuple[int, int, list[object], int]:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await returned_sale(seller, items={"SKU-A": 3})
    command = stock.StockIn(wh, command.lines, command.idempotency_key)

    outcomes = await asyncio.gather(
        *(stock.stock_in(sid, sale, command, now=NOW) for _ in range(CALLS)),
        return_exceptions=True,
    )

    stocked = sum(level.sellable for level in await store.inventory_of(sid, wh, "SKU-A"))
    return sid, sale, list(outcomes), stocked


async def test_concurrent_identical_stock_ins_never_exceed_the_returned_quantity(
    watch: Watch,
) -> None:
    _, _, outcomes, stocked = await _race(stock.StockIn(0, (good("SKU-A", 3),)))

    assert watch.arrived_before_first_commit == CALLS  # all four really ran at once
    assert watch.most_inside == 1  # ... and the row lock let them in one at a time
    assert stocked == 3
    assert sum(isinstance(o, stock.StockInResult) for o in outcomes) == 1
    assert sum(isinstance(o, domain.InvalidQuantity) for o in outcomes) == CALLS - 1


async def test_concurrent_calls_with_one_idempotency_key_move_stock_once(watch: Watch) -> None:
    _, _, outcomes, stocked = await _race(
        stock.StockIn(0, (good("SKU-A", 1),), idempotency_key="double-click")
    )

    assert watch.arrived_before_first_commit == CALLS
    assert stocked == 1
    results = [o for o in outcomes if isinstance(o, stock.StockInResult)]
    assert len(results) == CALLS, outcomes
    assert sorted(r.replayed for r in results) == [False] + [True] * (CALLS - 1)


async def test_without_the_row_lock_the_version_check_still_holds_the_line(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    _without_the_row_lock(watch, monkeypatch)

    _, _, outcomes, stocked = await _race(stock.StockIn(0, (good("SKU-A", 3),)))

    assert watch.most_inside > 1  # unlocked: they overlapped in the critical section
    assert stocked == 3
    assert sum(isinstance(o, stock.StockInResult) for o in outcomes) == 1
    assert all(
        isinstance(o, stock.StockInResult | domain.InvalidQuantity | domain.Conflict)
        for o in outcomes
    )


async def test_without_lock_and_version_check_the_same_race_overcounts(
    watch: Watch, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unchecked(*args: Any, **kwargs: Any) -> bool:
        return True

    _without_the_row_lock(watch, monkeypatch)
    monkeypatch.setattr(Sales, "touch", unchecked)

    _, _, outcomes, stocked = await _race(stock.StockIn(0, (good("SKU-A", 3),)))

    assert stocked == 3 * CALLS, outcomes  # the bug the guards above prevent


async def test_concurrent_stock_ins_of_different_parcels_never_take_a_level_past_the_ceiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inventory, "MAX_LEVEL", 5)
    levels = Stock.levels

    async def slow_levels(*args: Any) -> dict[str, tuple[int, int]]:
        found = await levels(*args)
        await asyncio.sleep(0.05)  # every call reads the level before any writes it
        return found

    monkeypatch.setattr(Stock, "levels", slow_levels)
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    parcels = [await abnormal_return(seller, items=None, delivered=True) for _ in range(CALLS)]

    outcomes = await asyncio.gather(
        *(
            stock.stock_in(
                sid, sale, stock.StockIn(wh, (good("SKU-A", 2),), f"scan-{sale}"), now=NOW
            )
            for sale in parcels
        ),
        return_exceptions=True,
    )

    assert [level.sellable for level in await store.inventory_of(sid, wh, "SKU-A")] == [4]
    assert sum(isinstance(o, stock.StockInResult) for o in outcomes) == 2
    assert sum(isinstance(o, domain.InvalidQuantity) for o in outcomes) == CALLS - 2, outcomes
