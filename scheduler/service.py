"""APScheduler (3.x) wiring: the dispute sweep and the parcel rematch, each every
SWEEP_INTERVAL_SECONDS, started and stopped with the server.

The first runs start at once, so a backlog left by downtime is caught up on boot; late runs are
coalesced into one and never skipped; one run of each job at a time per process (replicas
coordinate through the database, see aftersales/store/sweeps.py and rematches.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from aftersales.commands.sweep import DEFAULT_BATCH_SIZE, SWEEP_JOB
from aftersales.inbox.rematch import REMATCH_JOB
from aftersales.settings import Settings
from aftersales.tiktok.link import Link
from scheduler.jobs import FOLD_JOB, Clock, run_fold, run_rematch, run_sweep
from scheduler.tiktok import (
    DISPATCH_INTERVAL,
    DISPATCH_JOB,
    POLL_JOB,
    TOKEN_INTERVAL,
    TOKENS_JOB,
    run_dispatch,
    run_poll,
    run_tokens,
)

log = logging.getLogger("aftersales.scheduler")

# APScheduler narrates at INFO: "Added job", "Scheduler started", then "Running job" and "Job
# executed successfully" for each run of each job, ~8 lines a minute. Each run already logs one
# line of its own (scheduler/jobs.py) with what it did; APScheduler's warnings and errors (a
# missed run, a job that raised) still show.
APSCHEDULER_LOGGERS = ("apscheduler.scheduler", "apscheduler.executors.default")


class Job:
    """A scheduled callable. Remembers its in-flight run so shutdown can end it cleanly."""

    def __init__(
        self,
        job_id: str,
        title: str,
        every: timedelta,
        run_once: Callable[[], Awaitable[object]],
    ) -> None:
        self.id = job_id
        self.title = title
        self.every = every
        self._run_once = run_once
        self._current: asyncio.Task[object] | None = None

    async def run(self) -> None:
        self._current = asyncio.current_task()
        try:
            await self._run_once()
        except asyncio.CancelledError:
            # Only `stop()` cancels this task: end it quietly rather than have APScheduler log
            # the cancellation as a job failure.
            log.warning("%s interrupted by shutdown; the next start catches up", self.id)
        finally:
            self._current = None

    async def stop(self) -> None:
        """Cancel an in-flight run: its open transaction rolls back, committed ones stay, and
        the next start catches up (both jobs are state-based)."""
        task = self._current
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def build_scheduler(
    settings: Settings,
    clock: Clock,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    link: Link | None = None,
) -> tuple[AsyncIOScheduler, list[Job]]:
    scheduler = AsyncIOScheduler(timezone=UTC)
    # The lambdas look `run_sweep` and `run_rematch` up at each run (tests replace them).
    sweeps = settings.sweep_interval
    jobs = [
        Job(
            SWEEP_JOB,
            "close after-sales whose dispute window ran out",
            sweeps,
            lambda: run_sweep(clock, batch_size=batch_size),
        ),
        Job(
            REMATCH_JOB,
            "apply parcel events whose after-sale appeared as they arrived",
            sweeps,
            lambda: run_rematch(clock),
        ),
        Job(FOLD_JOB, "fold the per-status count rows", sweeps, lambda: run_fold(clock)),
    ]
    if link is not None:
        synced = link  # a name the lambdas can close over with its narrowed type
        jobs += [
            Job(
                DISPATCH_JOB,
                "send seller decisions and fetches to TikTok",
                DISPATCH_INTERVAL,
                lambda: run_dispatch(synced),
            ),
            Job(
                POLL_JOB,
                "import the returns TikTok updated",
                settings.tiktok_poll_interval,
                lambda: run_poll(synced),
            ),
            Job(
                TOKENS_JOB,
                "refresh TikTok access tokens before they expire",
                TOKEN_INTERVAL,
                lambda: run_tokens(synced),
            ),
        ]
    for job in jobs:
        scheduler.add_job(
            job.run,
            IntervalTrigger(seconds=job.every.total_seconds(), timezone=UTC),
            id=job.id,
            name=job.title,
            next_run_time=datetime.now(UTC),  # scheduler time, not the injected clock
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
    return scheduler, jobs


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    clock: Clock,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    link: Link | None = None,
) -> AsyncIterator[AsyncIOScheduler]:
    """The scheduler, running for the duration of the block (the server's lifespan); with
    `link`, the TikTok sync jobs too (scheduler/tiktok.py)."""
    for name in APSCHEDULER_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    scheduler, jobs = build_scheduler(settings, clock, batch_size=batch_size, link=link)
    scheduler.start()
    log.info(
        "scheduler started: %s",
        ", ".join(f"{job.id} every {int(job.every.total_seconds())}s" for job in jobs),
    )
    try:
        yield scheduler
    finally:
        scheduler.pause()
        for job in jobs:
            await job.stop()
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler stops on the loop's next turn: let it
        log.info("scheduler stopped")
