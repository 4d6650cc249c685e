"""The APScheduler wiring: what is scheduled, and that a started service sweeps at once.

Nothing here waits for a tick: the first run is due at start, and the test waits for that run
to finish (an event), not for time to pass.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from aftersales.settings import Settings
from aftersales.store.models import AfterSale, JobRun
from aftersales.sweep import SWEEP_JOB
from scheduler import jobs, service
from tests.support import T0, Clock, make_sale, make_seller


def test_the_sweep_is_scheduled_every_interval_coalesced_one_at_a_time() -> None:
    settings = Settings(sweep_interval=timedelta(seconds=90))

    scheduler, _ = service.build_scheduler(settings, Clock().now)

    [job] = scheduler.get_jobs()
    assert job.id == SWEEP_JOB
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(seconds=90)
    assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    # Due at once: the first run after a restart catches up what downtime left behind.
    assert job.next_run_time <= datetime.now(UTC)


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
