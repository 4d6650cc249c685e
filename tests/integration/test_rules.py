"""Sellers' rules acting on requests as they arrive (aftersales/commands/triage.py), on both
databases: an amount cap, once per request (a report twice, two deliveries at once), a refused
action recorded, the accept pushed to the stand-in TikTok, backfills left alone."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from aftersales.commands import triage
from aftersales.domain.model import Actor, AfterSaleStatus, AfterSaleType, EventSource
from aftersales.domain.outcome import Result
from aftersales.domain.triage import Actions, Conditions
from aftersales.inbox import payloads
from aftersales.inbox import receive as inbox
from aftersales.settings import load_settings
from aftersales.store.models import AfterSale, HistoryEntry
from aftersales.store.sales import Sales
from aftersales.tiktok import dispatch, imports
from tests.integration.test_tiktok_sync import World, world  # noqa: F401  (the fixture)
from tests.support.builders import WINDOWS, Seller, make_seller, seller_id_of, unique_id
from tests.support.clock import T0
from tests.support.door import read
from tests.support.sandbox import APP_KEY, APP_SECRET
from tests.support.webhooks import envelope, return_data
from webhooks.signing import tiktok_signature

pytestmark = pytest.mark.usefixtures("database")

queries = read("sales")
SMALL = "small refunds"
LIMIT = 10.0  # seconds: a race test that would hang fails instead


def _body(shop_id: str, return_id: str, amount: str, *, return_type: str = "REFUND") -> bytes:
    line = {
        "seller_sku": "MUG-01",
        "product_name": "Mug",
        "refund_amount": {"currency": "MYR", "refund_total": amount},
    }
    data = return_data(
        "RETURN_OR_REFUND_REQUEST_PENDING",
        return_id=return_id,
        return_type=return_type,
        refund_amount={"currency": "MYR", "refund_total": amount},
        return_line_items=[line],
    )
    return envelope(shop_id, data, notification_id=unique_id())


async def _receive(body: bytes) -> Result:
    note = payloads.parse_tiktok(body)
    return await inbox.receive_tiktok(body, {}, note, now=T0, windows=WINDOWS)


async def _small_refunds(seller: Seller, cap: str = "10.00", **then: Any) -> None:
    await triage.create_rule(
        await seller_id_of(seller),
        name=SMALL,
        shop_ids=None,
        when=Conditions(
            types=(AfterSaleType.REFUND_ONLY,), max_amount=Decimal(cap), max_currency="MYR"
        ),
        then=Actions(accept=True, **then),
        enabled=True,
        now=T0,
    )


async def _sale(return_id: str) -> Any:
    row = await AfterSale.get(return_id=return_id)
    return row


async def _history(sale_id: int) -> list[Any]:
    return (await queries.history_by_sale([sale_id]))[sale_id]


async def test_a_rule_accepts_refunds_up_to_its_amount_and_not_above(database: str) -> None:
    seller = await make_seller()
    await _small_refunds(seller, tag="auto")
    at_cap, above, other_type = unique_id(), unique_id(), unique_id()

    await _receive(_body(seller.shop_id, at_cap, "10.00"))
    await _receive(_body(seller.shop_id, above, "10.01"))
    await _receive(_body(seller.shop_id, other_type, "5.00", return_type="RETURN_AND_REFUND"))

    accepted, kept, untouched = [await _sale(i) for i in (at_cap, above, other_type)]
    assert accepted.status is AfterSaleStatus.REFUNDED
    assert kept.status is AfterSaleStatus.PENDING_REQUEST
    assert untouched.status is AfterSaleStatus.PENDING_REQUEST
    sale = await _sale(at_cap)
    last = (await _history(sale.id))[-1]
    assert (last.actor, last.source, last.actor_name, last.action) == (
        Actor.SYSTEM,
        EventSource.RULE,
        SMALL,
        "ACCEPT_REFUND",
    )
    tags = await queries.tags_by_sale([sale.id, (await _sale(above)).id])
    assert tags == {sale.id: ["auto"]}


async def test_the_same_report_twice_is_acted_on_once(database: str) -> None:
    seller = await make_seller()
    await _small_refunds(seller)
    return_id = unique_id()

    await _receive(_body(seller.shop_id, return_id, "3.00"))
    await _receive(_body(seller.shop_id, return_id, "3.00"))

    sale = await _sale(return_id)
    assert await HistoryEntry.filter(after_sale_id=sale.id, action="ACCEPT_REFUND").count() == 1


async def test_a_fetch_later_does_not_evaluate_a_request_again() -> None:
    seller = await make_seller()
    return_id = unique_id()
    await _receive(_body(seller.shop_id, return_id, "3.00"))  # no rule yet: evaluated, nothing
    sale = await _sale(return_id)
    await _small_refunds(seller)

    again = await _evaluate(sale.id)

    assert again is None
    assert (await _sale(return_id)).status is AfterSaleStatus.PENDING_REQUEST


async def _evaluate(sale_id: int) -> Any:
    from aftersales.store.uow import uow

    async with uow() as tx:
        return await triage.after_fetch(tx, sale_id, now=T0, windows=WINDOWS, push=False)


async def test_a_refused_action_is_recorded_not_raised(database: str) -> None:
    seller = await make_seller()
    seller_id = await seller_id_of(seller)
    for n in range(21):  # the 21st tag passes the limit of 20
        await triage.create_rule(
            seller_id,
            name=f"tagger {n}",
            shop_ids=None,
            when=Conditions(),
            then=Actions(tag=f"t{n}"),
            enabled=True,
            now=T0,
        )
    return_id = unique_id()

    await _receive(_body(seller.shop_id, return_id, "3.00"))

    sale = await _sale(return_id)
    failed = [h for h in await _history(sale.id) if h.action == "RULE_FAILED"]
    assert [(h.actor, h.source, h.actor_name) for h in failed] == [
        (Actor.SYSTEM, EventSource.RULE, "tagger 20")
    ]
    entry = await HistoryEntry.get(after_sale_id=sale.id, action="RULE_FAILED")
    assert entry.detail == {"rule": "tagger 20", "error": "already 20 tags"}
    assert len((await queries.tags_by_sale([sale.id]))[sale.id]) == 20


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_two_deliveries_at_once_are_acted_on_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seller = await make_seller()
    await _small_refunds(seller)
    return_id = unique_id()
    original: Callable[..., Awaitable[Any]] = Sales.for_report
    arrived = 0
    all_read = asyncio.Event()

    async def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal arrived
        found = await original(*args, **kwargs)
        arrived += 1
        if arrived == 2:
            all_read.set()
        if arrived <= 2:
            await asyncio.wait_for(all_read.wait(), LIMIT)
        return found

    monkeypatch.setattr(Sales, "for_report", held)
    bodies = [_body(seller.shop_id, return_id, "3.00") for _ in range(2)]

    await asyncio.gather(*(_receive(b) for b in bodies))

    sale = await _sale(return_id)
    assert sale.status is AfterSaleStatus.REFUNDED
    assert await HistoryEntry.filter(after_sale_id=sale.id, action="ACCEPT_REFUND").count() == 1


async def test_a_rules_accept_is_pushed_to_tiktok_like_a_sellers(
    world: World,  # noqa: F811
) -> None:
    await triage.create_rule(
        world.seller_id,
        name="small IDR refunds",
        shop_ids=[world.seller.shop_id],
        when=Conditions(max_amount=Decimal("100000"), max_currency="IDR", skus=("MUG-1",)),
        then=Actions(accept=True),
        enabled=True,
        now=world.clock.now(),
    )
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING", return_type="REFUND")

    await imports.poll(world.link)  # a poll, not a backfill: the rules look at what it finds
    run = await dispatch.dispatch(world.link)

    assert run.synced == 1
    [call] = world.decisions()
    assert call.path == f"/return_refund/202309/returns/{return_id}/approve"
    assert call.body == {"decision": "APPROVE_REFUND"}
    sale = await _sale(return_id)
    assert (sale.status, sale.sync_status) == (AfterSaleStatus.REFUNDED, "SYNCED")


async def test_a_backfill_is_not_evaluated(world: World) -> None:  # noqa: F811
    await triage.create_rule(
        world.seller_id,
        name="everything",
        shop_ids=None,
        when=Conditions(),
        then=Actions(accept=True, tag="auto"),
        enabled=True,
        now=world.clock.now(),
    )
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING", return_type="REFUND")
    creds = await world.link.shop(world.shop_pk)
    assert creds is not None

    await imports.sync_shop(world.link, creds, since=world.clock.now() - timedelta(days=1))

    sale = await _sale(return_id)
    assert sale.status is AfterSaleStatus.PENDING_REQUEST
    assert (await queries.tags_by_sale([sale.id])) == {}
    assert world.decisions() == []


async def test_on_a_syncing_shop_a_thin_report_waits_for_the_fetch(
    world: World,  # noqa: F811
    database: str,
) -> None:
    from api.app import create_app

    await triage.create_rule(
        world.seller_id,
        name="small IDR refunds",
        shop_ids=None,
        when=Conditions(max_amount=Decimal("100000"), max_currency="IDR"),
        then=Actions(accept=True),
        enabled=True,
        now=world.clock.now(),
    )
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING", return_type="REFUND")
    settings = load_settings(
        {
            "DATABASE_URL": database,
            "TIKTOK_APP_KEY": APP_KEY,
            "TIKTOK_APP_SECRET": APP_SECRET,
            "LOGISTICS_WEBHOOK_SECRET": "test-logistics-secret",
            "TIKTOK_API_BASE_URL": world.base_url,
        }
    )
    app = create_app(settings, clock=world.clock.now, manage_database=False, run_jobs=False)
    thin = return_data(
        "RETURN_OR_REFUND_REQUEST_PENDING", return_id=return_id, return_type="REFUND"
    )
    body = envelope(world.seller.shop_id, thin, notification_id=unique_id())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        answer = await client.post(
            "/webhooks/tiktok",
            content=body,
            headers={"Authorization": tiktok_signature(APP_KEY, APP_SECRET, body)},
        )
    assert answer.status_code == 200
    waiting = await _sale(return_id)

    await dispatch.dispatch(world.link)  # the fetch: amount and lines, then the rules
    fetched = await _sale(return_id)
    await dispatch.dispatch(world.link)  # the rule's accept, to TikTok

    assert (waiting.status, waiting.refund_requested) == (AfterSaleStatus.PENDING_REQUEST, None)
    assert fetched.status is AfterSaleStatus.REFUNDED
    assert [c.body for c in world.decisions()] == [{"decision": "APPROVE_REFUND"}]
