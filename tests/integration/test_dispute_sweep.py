"""The dispute-window sweep (docs/timers.md) on SQLite and PostgreSQL, time driven explicitly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftersales.commands import seller as seller_commands
from aftersales.commands.sweep import EXPIRED_ACTION, sweep_expired_disputes
from aftersales.domain.model import DisputeWindows, EventSource, SellerAction
from aftersales.settings import Settings
from aftersales.store.models import AfterSale, HistoryEntry
from tests.support.builders import apply_report, make_sale, make_seller, report
from tests.support.clock import T0

pytestmark = pytest.mark.usefixtures("database")

WINDOW = timedelta(hours=48)
REJECT = "RETURN_OR_REFUND_REQUEST_REJECT"


async def _status(sale_id: int) -> str | None:
    row = await AfterSale.get(id=sale_id)
    return row.status.value if row.status else None


async def _sweep_history(sale_id: int) -> list[HistoryEntry]:
    return await HistoryEntry.filter(after_sale_id=sale_id, action=EXPIRED_ACTION).order_by("id")


async def test_a_rejection_closes_exactly_at_its_deadline_not_a_second_before() -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status=REJECT, at=T0)

    early = await sweep_expired_disputes(T0 + WINDOW - timedelta(seconds=1))
    status_early = await _status(sale_id)
    on_time = await sweep_expired_disputes(T0 + WINDOW)

    assert (early, status_early) == (0, "REJECTED")
    assert on_time == 1
    assert await _status(sale_id) == "REQUEST_CLOSED"
    [entry] = await _sweep_history(sale_id)
    assert entry.at == T0 + WINDOW


async def test_the_close_is_one_system_scheduler_history_entry_and_bumps_the_version() -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status=REJECT, at=T0)
    before = await AfterSale.get(id=sale_id)

    await sweep_expired_disputes(T0 + timedelta(days=3))

    after = await AfterSale.get(id=sale_id)
    [entry] = await _sweep_history(sale_id)
    assert (entry.actor.value, entry.source.value) == ("SYSTEM", "SCHEDULER")
    assert (entry.from_status, entry.to_status) == (before.status, after.status)
    assert after.version == before.version + 1
    assert after.updated_at == T0 + timedelta(days=3)
    # last_event_at stays TikTok's: a newer report (a late-delivered dispute) must still apply.
    assert after.last_event_at == before.last_event_at


async def test_a_rejected_receipt_closes_too() -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status="REJECT_RECEIVE_PACKAGE", at=T0)

    closed = await sweep_expired_disputes(T0 + WINDOW)

    assert closed == 1
    [entry] = await _sweep_history(sale_id)
    assert (entry.from_status.value, entry.to_status.value) == (
        "RECEIPT_REJECTED",
        "REQUEST_CLOSED",
    )


async def test_a_seller_rejection_starts_the_window_from_the_moment_it_is_made() -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, at=T0)
    row = await AfterSale.get(id=sale_id).select_related("shop")
    windows = Settings().dispute_windows
    await seller_commands.decide(
        row.shop.seller_id,  # type: ignore[attr-defined]
        sale_id,
        seller_commands.Decision(SellerAction.REJECT_RETURN, reason="used item"),
        now=T0 + timedelta(hours=5),
        windows=windows,
    )

    assert (
        await sweep_expired_disputes(T0 + timedelta(hours=5) + WINDOW - timedelta(seconds=1)) == 0
    )
    assert await sweep_expired_disputes(T0 + timedelta(hours=5) + WINDOW) == 1


async def test_an_open_dispute_stops_the_timer() -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status=REJECT, at=T0, return_id="576486316948491111")
    await apply_report(
        seller.shop_id,
        report(
            REJECT,
            return_id="576486316948491111",
            at=T0 + timedelta(hours=1),
            arbitration_status="IN_PROGRESS",
        ),
        now=T0 + timedelta(hours=1),
        windows=Settings().dispute_windows,
    )

    closed = await sweep_expired_disputes(T0 + timedelta(days=30))

    assert closed == 0
    row = await AfterSale.get(id=sale_id)
    assert (row.status.value, row.dispute_status.value) == ("REJECTED", "IN_PROGRESS")
    assert await _sweep_history(sale_id) == []


async def test_requests_not_rejected_or_not_yet_due_are_left_alone() -> None:
    seller = await make_seller()
    pending = await make_sale(seller, at=T0)
    shipped = await make_sale(seller, status="BUYER_SHIPPED_ITEM", at=T0)
    refunded = await make_sale(seller, status="RETURN_OR_REFUND_REQUEST_SUCCESS", at=T0)
    later = await make_sale(seller, status=REJECT, at=T0 + timedelta(days=2))

    closed = await sweep_expired_disputes(T0 + WINDOW)

    assert closed == 0
    statuses = [await _status(i) for i in (pending, shipped, refunded, later)]
    assert statuses == ["PENDING_REQUEST", "SHIPPED_BY_BUYER", "REFUNDED", "REJECTED"]


async def test_a_rejection_tiktok_never_took_is_not_closed() -> None:
    seller = await make_seller()
    failed = await make_sale(seller, status=REJECT, at=T0)
    synced = await make_sale(seller, status=REJECT, at=T0)
    await AfterSale.filter(id=failed).update(sync_status="FAILED")
    await AfterSale.filter(id=synced).update(sync_status="SYNCED")

    closed = await sweep_expired_disputes(T0 + WINDOW + timedelta(days=30))

    assert closed == 1
    assert (await _status(failed), await _status(synced)) == ("REJECTED", "REQUEST_CLOSED")
    assert await _sweep_history(failed) == []


async def test_a_sweep_after_downtime_catches_up_every_missed_expiry() -> None:
    seller = await make_seller()
    ids = [await make_sale(seller, status=REJECT, at=T0 + timedelta(hours=h)) for h in range(5)]

    # No sweep ran for ten days (the service was down); the first one after it catches up.
    closed = await sweep_expired_disputes(T0 + timedelta(days=10))

    assert closed == 5
    assert [await _status(i) for i in ids] == ["REQUEST_CLOSED"] * 5


async def test_a_region_override_changes_the_window_for_that_region_only() -> None:
    settings = Settings(
        dispute_windows=DisputeWindows(default=WINDOW, by_region={"ID": timedelta(hours=24)})
    )
    indonesia = await make_seller(region="ID")
    malaysia = await make_seller(region="MY")
    id_sale = await make_sale(indonesia, status=REJECT, at=T0, settings=settings)
    my_sale = await make_sale(malaysia, status=REJECT, at=T0, settings=settings)

    closed = await sweep_expired_disputes(T0 + timedelta(hours=24))

    assert closed == 1
    assert (await _status(id_sale), await _status(my_sale)) == ("REQUEST_CLOSED", "REJECTED")
    assert await sweep_expired_disputes(T0 + WINDOW) == 1


async def test_batches_smaller_than_the_backlog_close_everything_once() -> None:
    seller = await make_seller()
    ids = [await make_sale(seller, status=REJECT, at=T0) for _ in range(7)]
    ids += [await make_sale(seller, status="REJECT_RECEIVE_PACKAGE", at=T0) for _ in range(3)]
    totals: list[int] = []

    closed = await sweep_expired_disputes(T0 + WINDOW, batch_size=3, on_batch=totals.append)

    assert closed == 10
    assert totals == [3, 6, 9, 10]
    assert [len(await _sweep_history(i)) for i in ids] == [1] * 10
    assert await sweep_expired_disputes(T0 + timedelta(days=9), batch_size=3) == 0


async def test_a_newer_tiktok_report_after_the_close_still_wins() -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status=REJECT, at=T0, return_id="576486316948492222")
    await sweep_expired_disputes(T0 + WINDOW)

    # The buyer disputed before the deadline, but TikTok's webhook arrived after the close.
    await apply_report(
        seller.shop_id,
        report(
            REJECT,
            return_id="576486316948492222",
            at=T0 + timedelta(hours=40),
            arbitration_status="IN_PROGRESS",
        ),
        now=T0 + WINDOW + timedelta(minutes=1),
        windows=Settings().dispute_windows,
    )

    row = await AfterSale.get(id=sale_id)
    assert (row.status.value, row.dispute_status.value) == ("REJECTED", "IN_PROGRESS")
    assert await sweep_expired_disputes(T0 + timedelta(days=30)) == 0
    sources = [h.source for h in await HistoryEntry.filter(after_sale_id=sale_id).order_by("id")]
    assert sources[-2:] == [EventSource.SCHEDULER, EventSource.TIKTOK_WEBHOOK]
