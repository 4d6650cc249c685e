"""Identical webhook deliveries at the same moment, on PostgreSQL (the multi-replica database): a
delivery is logged once, with its outcome, in the transaction of its effect, so a copy that ran
alongside finds the key taken, its own effect rolled back, and is logged as a duplicate.

Interleavings are forced with a barrier around the real code (both copies have read before
either writes), never with sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from aftersales.domain.outcome import Outcome, Result
from aftersales.inbox import payloads
from aftersales.inbox import receive as inbox
from aftersales.store.models import AfterSale, AfterSaleItem, HistoryEntry, WebhookDelivery
from aftersales.store.sales import Sales
from tests.support.builders import WINDOWS, make_seller
from tests.support.clock import T0
from tests.support.webhooks import envelope, return_data

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
    pytest.mark.usefixtures("database"),
]

RETURN_ID = "576486316948490001"
LIMIT = 10.0  # seconds: a test that would hang fails instead


def _both_read_first(monkeypatch: pytest.MonkeyPatch, copies: int = 2) -> None:
    """Hold each copy after its first read of the report's shop and return until every copy
    has read."""
    original: Callable[..., Awaitable[Any]] = Sales.for_report
    arrived = 0
    all_read = asyncio.Event()

    async def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal arrived
        found = await original(*args, **kwargs)
        arrived += 1
        if arrived == copies:
            all_read.set()
        if arrived <= copies:
            await asyncio.wait_for(all_read.wait(), LIMIT)
        return found

    monkeypatch.setattr(Sales, "for_report", held)


def _body(shop_id: str) -> bytes:
    line = {
        "seller_sku": "MUG-01",
        "product_name": "Mug",
        "refund_amount": {"currency": "MYR", "refund_total": "10.00"},
    }
    data = return_data(
        "RETURN_OR_REFUND_REQUEST_PENDING",
        return_id=RETURN_ID,
        refund_amount={"currency": "MYR", "refund_total": "20.00"},
        return_line_items=[line, line],
    )
    return envelope(shop_id, data, notification_id="7327112393057371910")


async def _receive(body: bytes) -> Result:
    note = payloads.parse_tiktok(body)
    return await inbox.receive_tiktok(body, {}, note, now=T0, windows=WINDOWS)


async def test_two_copies_of_a_new_return_at_once_create_it_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    body = _body(seller.shop_id)
    _both_read_first(monkeypatch)

    results = await asyncio.wait_for(asyncio.gather(_receive(body), _receive(body)), LIMIT)
    monkeypatch.undo()

    assert sorted(r.outcome.value for r in results) == ["created", "duplicate"]
    created = next(r for r in results if r.outcome is Outcome.CREATED)
    duplicate = next(r for r in results if r.outcome is Outcome.DUPLICATE)
    assert duplicate.reason == f"duplicate of delivery {created.delivery_id}"
    sale = await AfterSale.get(return_id=RETURN_ID)
    assert (sale.id, sale.status.value if sale.status else None) == (
        created.after_sale_id,
        "PENDING_REQUEST",
    )
    assert await AfterSaleItem.filter(after_sale_id=sale.id).count() == 1  # one SKU, 2 units
    assert await HistoryEntry.filter(after_sale_id=sale.id).count() == 1
    rows = await WebhookDelivery.all().order_by("id").values_list("outcome", "after_sale_id")
    assert sorted(rows) == [("created", sale.id), ("duplicate", None)]


async def test_two_copies_for_an_unknown_shop_at_once_wait_once() -> None:
    body = _body("999000111")

    results = await asyncio.wait_for(asyncio.gather(_receive(body), _receive(body)), LIMIT)

    assert sorted(r.outcome.value for r in results) == ["duplicate", "unknown_shop"]
    outcomes = await WebhookDelivery.all().values_list("outcome", flat=True)
    assert sorted(outcomes) == ["duplicate", "unknown_shop"]


async def test_a_second_report_of_the_same_new_return_at_once_is_stale_not_a_second_sale(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    first = _body(seller.shop_id)
    second = first.replace(b"7327112393057371910", b"7327112393057371911")
    _both_read_first(monkeypatch)

    results = await asyncio.wait_for(asyncio.gather(_receive(first), _receive(second)), LIMIT)
    monkeypatch.undo()

    assert sorted(r.outcome.value for r in results) == ["created", "stale"]
    assert await AfterSale.filter(return_id=RETURN_ID).count() == 1
    (sale_id,) = {r.after_sale_id for r in results}
    assert await HistoryEntry.filter(after_sale_id=sale_id).count() == 1
    assert await AfterSaleItem.filter(after_sale_id=sale_id).count() == 1
