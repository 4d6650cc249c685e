"""The inbox against a real database: parcel events wait, findable by their keys, for the
after-sale they belong to, and one that fails when applied late does not undo the report."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from aftersales.domain.outcome import Outcome, Result
from aftersales.inbox import late, payloads
from aftersales.inbox import receive as inbox
from aftersales.inbox.replay import replay_waiting
from aftersales.store.models import AfterSale, WebhookDelivery
from aftersales.store.uow import Tx
from tests.support.builders import WINDOWS, make_seller
from tests.support.clock import T0
from tests.support.webhooks import envelope, parcel_body, return_data


async def receive_parcel(shop_id: str, event_id: str, **fields: Any) -> Result:
    body = parcel_body(shop_id=shop_id, event_id=event_id, **fields)
    event = payloads.parse_parcel_event(body)
    return await inbox.receive_parcel_event(body, {}, event, now=T0)


async def receive_report(shop_id: str, status: str, **data: Any) -> Result:
    body = envelope(shop_id, return_data(status, **data), notification_id="n1")
    note = payloads.parse_tiktok(body)
    return await inbox.receive_tiktok(body, {}, note, now=T0, windows=WINDOWS)


async def test_parcel_deliveries_are_logged_with_the_keys_they_are_matched_by(
    database: str,
) -> None:
    seller = await make_seller()

    await receive_parcel(seller.shop_id, "by-both", return_id="5001", tracking_number="JX1")
    await receive_parcel(seller.shop_id, "by-tracking", return_id=None, tracking_number="JX2")

    rows = await WebhookDelivery.all().order_by("id")
    assert [(r.outcome, r.match_return_id, r.match_tracking_number) for r in rows] == [
        ("unmatched", "5001", "JX1"),
        ("unmatched", None, "JX2"),
    ]


async def test_a_waiting_event_that_fails_is_kept_replayable_and_the_report_stands(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = await make_seller()
    waiting = await receive_parcel(seller.shop_id, "e1", status="DELIVERED")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    with monkeypatch.context() as patch:
        patch.setattr(late, "apply_parcel_event", broken)
        receipt = await receive_report(seller.shop_id, "BUYER_SHIPPED_ITEM")

    assert receipt.outcome is Outcome.CREATED
    matched = f"deliveries {waiting.delivery_id} failed"
    assert receipt.reason == f"parcel events that arrived first, now matched: {matched}"
    failed = await WebhookDelivery.get(id=waiting.delivery_id)
    assert failed.outcome == "failed" and "disk on fire" in (failed.reason or "")

    replayed = await replay_waiting(seller.shop_id, now=T0, windows=WINDOWS)

    assert [r.outcome for r in replayed] == [Outcome.APPLIED]
    sale = await AfterSale.get(id=receipt.after_sale_id)
    assert (sale.return_status.value, sale.returned_at) == ("RETURNED", T0)


async def test_a_failure_never_overwrites_what_a_rival_writer_recorded_meanwhile(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = await make_seller()
    waiting = await receive_parcel(seller.shop_id, "e1", status="DELIVERED")
    failed_once = {"now": False}
    real_savepoint = Tx.savepoint

    async def broken(*args: Any, **kwargs: Any) -> Any:
        failed_once["now"] = True
        raise RuntimeError("disk on fire")

    @asynccontextmanager
    async def rival_applies_it_first(tx: Tx) -> AsyncIterator[Tx]:
        async with real_savepoint(tx) as savepoint:
            if failed_once["now"]:  # between the failed attempt and the failure record
                failed_once["now"] = False
                await WebhookDelivery.filter(id=waiting.delivery_id).update(
                    outcome="applied", reason="applied by a replica"
                )
            yield savepoint

    with monkeypatch.context() as patch:
        patch.setattr(late, "apply_parcel_event", broken)
        patch.setattr(Tx, "savepoint", rival_applies_it_first)
        await receive_report(seller.shop_id, "BUYER_SHIPPED_ITEM")

    kept = await WebhookDelivery.get(id=waiting.delivery_id)
    assert (kept.outcome, kept.reason) == ("applied", "applied by a replica")
