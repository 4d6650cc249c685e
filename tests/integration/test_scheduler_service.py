"""The APScheduler wiring: what is scheduled, and that a started service runs its jobs at once.

Nothing here waits for a tick: the first run is due at start, and the test waits for that run
to finish (an event), not for time to pass.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from aftersales.commands.sweep import SWEEP_JOB
from aftersales.inbox import payloads
from aftersales.inbox import receive as inbox
from aftersales.inbox.rematch import REMATCH_JOB
from aftersales.settings import Settings, load_settings
from aftersales.store.models import AfterSale, JobRun, WebhookDelivery
from scheduler import jobs, service, tiktok
from scheduler.jobs import FOLD_JOB
from tests.support.builders import make_sale, make_seller
from tests.support.clock import T0, Clock
from tests.support.webhooks import parcel_body


def test_the_sweep_and_the_rematch_are_scheduled_every_interval_coalesced_one_at_a_time() -> None:
    settings = Settings(sweep_interval=timedelta(seconds=90))

    scheduler, _ = service.build_scheduler(settings, Clock().now)

    jobs_by_id = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs_by_id) == sorted([SWEEP_JOB, REMATCH_JOB, FOLD_JOB])
    for job in jobs_by_id.values():
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(seconds=90)
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        # Due at once: the first run after a restart catches up what downtime left behind.
        assert job.next_run_time <= datetime.now(UTC)


async def test_with_the_tiktok_api_set_the_sync_jobs_run_too() -> None:
    settings = load_settings(
        {
            "TIKTOK_APP_KEY": "k",
            "TIKTOK_APP_SECRET": "s" * 16,
            "TIKTOK_API_BASE_URL": "http://127.0.0.1:9",
            "TIKTOK_POLL_INTERVAL_SECONDS": "120",
            "AFTERSALES_SECRET_KEY": "x" * 32,
        }
    )
    link = tiktok.build_link(settings, Clock().now)
    assert link is not None
    try:
        scheduler, _ = service.build_scheduler(settings, Clock().now, link=link)
        every = {job.id: job.trigger.interval for job in scheduler.get_jobs()}
    finally:
        await link.aclose()
    assert every[tiktok.DISPATCH_JOB] == timedelta(seconds=1)
    assert every[tiktok.POLL_JOB] == timedelta(seconds=120)
    assert every[tiktok.TOKENS_JOB] == timedelta(minutes=10)
    # Local-only: no TikTok jobs, and no link at all.
    assert tiktok.build_link(load_settings({}), Clock().now) is None


async def test_a_started_service_sweeps_at_once_with_the_injected_clock(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status="RETURN_OR_REFUND_REQUEST_REJECT", at=T0)
    clock = Clock(T0 + timedelta(days=2))
    done = asyncio.Event()
    real = jobs.run_sweep

    async def observed(*args: object, **kwargs: object) -> jobs.SweepRun:
        run = await real(*args, **kwargs)  # type: ignore[arg-type]
        done.set()
        return run

    monkeypatch.setattr(service, "run_sweep", observed)

    async with service.running(settings, clock.now):
        await asyncio.wait_for(done.wait(), 10)

    row = await AfterSale.get(id=sale_id)
    assert row.status is not None and row.status.value == "REQUEST_CLOSED"
    record = await JobRun.get(name=SWEEP_JOB)
    assert (record.last_count, record.last_finished_at) == (1, T0 + timedelta(days=2))


async def test_a_started_service_rematches_waiting_parcel_events_at_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = await make_seller()
    body = parcel_body(shop_id=seller.shop_id, event_id="e1", status="DELIVERED")
    delivered = await inbox.receive_parcel_event(
        body, {}, payloads.parse_parcel_event(body), now=T0
    )
    # Created as if it raced the event: without looking for it.
    sale_id = await make_sale(seller, status="BUYER_SHIPPED_ITEM", return_id="576486316948490001")
    clock = Clock(T0 + timedelta(minutes=1))
    done = asyncio.Event()
    real = jobs.run_rematch

    async def observed(*args: object, **kwargs: object) -> jobs.RematchRun:
        run = await real(*args, **kwargs)  # type: ignore[arg-type]
        done.set()
        return run

    monkeypatch.setattr(service, "run_rematch", observed)

    async with service.running(settings, clock.now):
        await asyncio.wait_for(done.wait(), 10)

    row = await AfterSale.get(id=sale_id)
    assert (row.return_status.value, row.returned_at) == ("RETURNED", T0)
    assert (await WebhookDelivery.get(id=delivered.delivery_id)).outcome == "applied"
    record = await JobRun.get(name=REMATCH_JOB)
    assert (record.last_count, record.last_finished_at) == (1, T0 + timedelta(minutes=1))


async def test_stopping_the_service_interrupts_a_sweep_in_progress_cleanly(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()

    async def endless(*args: object, **kwargs: object) -> jobs.SweepRun:
        started.set()
        await asyncio.Event().wait()  # a sweep that is still working at shutdown
        raise AssertionError("unreachable")

    monkeypatch.setattr(service, "run_sweep", endless)

    async with service.running(settings, Clock().now) as scheduler:
        await asyncio.wait_for(started.wait(), 10)

    assert not scheduler.running


async def test_apscheduler_says_nothing_at_info_and_each_run_logs_one_line(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    swept, rematched = asyncio.Event(), asyncio.Event()
    real_sweep, real_rematch = jobs.run_sweep, jobs.run_rematch

    async def sweep(*args: object, **kwargs: object) -> jobs.SweepRun:
        run = await real_sweep(*args, **kwargs)  # type: ignore[arg-type]
        swept.set()
        return run

    async def rematch(*args: object, **kwargs: object) -> jobs.RematchRun:
        run = await real_rematch(*args, **kwargs)  # type: ignore[arg-type]
        rematched.set()
        return run

    monkeypatch.setattr(service, "run_sweep", sweep)
    monkeypatch.setattr(service, "run_rematch", rematch)

    async with service.running(settings, Clock().now):
        await asyncio.wait_for(asyncio.gather(swept.wait(), rematched.wait()), 10)

    chatter = [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")]
    # Without quieting: "Added job ...", "Scheduler started", "Running job ..." x 2, ...
    assert chatter == []
    ours = [r.getMessage() for r in caplog.records if r.name == "aftersales.scheduler"]
    assert len([m for m in ours if m.startswith("dispute sweep closed")]) == 1
    assert len([m for m in ours if m.startswith("parcel rematch applied")]) == 1
