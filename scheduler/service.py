"""APScheduler (3.x) wiring: the sweep every SWEEP_INTERVAL_SECONDS, started and stopped with
the server.

The first run starts at once, so a backlog left by downtime is caught up on boot; late runs are
coalesced into one and never skipped; one run at a time per process (replicas coordinate
through the database, see aftersales/store/sweeps.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aftersales.settings import Settings
from aftersales.sweep import DEFAULT_BATCH_SIZE, SWEEP_JOB
from scheduler.jobs import Clock, run_sweep

log = logging.getLogger("aftersales.scheduler")


class SweepJob:
    """The scheduled callable. Remembers its in-flight run so shutdown can end it cleanly."""

    def __init__(self, clock: Clock, batch_size: int) -> None:
        self.clock = clock
        self.batch_size = batch_size
        self._current: asyncio.Task[object] | None = None

    async def run(self) -> None:
        self._current = asyncio.current_task()
        try:
            await run_sweep(self.clock, batch_size=self.batch_size)
        except asyncio.CancelledError:
            # Only `stop()` cancels this task: end it quietly rather than have APScheduler log
            # the cancellation as a job failure.
            log.warning("dispute sweep interrupted by shutdown; the next start catches up")
        finally:
            self._current = None

    async def stop(self) -> None:
        """Cancel an in-flight run: its open batch rolls back, committed ones stay, and the
        next start catches up (the sweep is state-based)."""
        task = self._current
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def build_scheduler(
    settings: Settings, clock: Clock, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> tuple[AsyncIOScheduler, SweepJob]:
    scheduler = AsyncIOScheduler(timezone=UTC)
    job = SweepJob(clock, batch_size)
    scheduler.add_job(
        job.run,
        IntervalTrigger(seconds=settings.sweep_interval.total_seconds(), timezone=UTC),
        id=SWEEP_JOB,
        name="close after-sales whose dispute window ran out",
        next_run_time=datetime.now(UTC),  # scheduler time, not the injected clock
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
    )
    return scheduler, job


@contextlib.asynccontextmanager
async def running(
    settings: Settings, clock: Clock, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> AsyncIterator[AsyncIOScheduler]:
    """The scheduler, running for the duration of the block (the server's lifespan)."""
    scheduler, job = build_scheduler(settings, clock, batch_size=batch_size)
    scheduler.start()
    log.info(
        "scheduler started: dispute sweep every %ss",
        int(settings.sweep_interval.total_seconds()),
    )
    try:
        yield scheduler
    finally:
        scheduler.pause()
        await job.stop()
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler stops on the loop's next turn: let it
        log.info("scheduler stopped")
