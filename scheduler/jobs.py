"""The scheduled jobs as plain coroutines: run once, log a line, record the run for operators.

Both the scheduler and `aftersales sweep` call these, so a cron deployment is as visible in
GET /health/jobs as the built-in scheduler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aftersales.commands import counts
from aftersales.commands.sweep import (
    DEFAULT_BATCH_SIZE,
    SWEEP_JOB,
    SweepBusy,
    sweep_expired_disputes,
)
from aftersales.inbox.rematch import DEFAULT_LIMIT, REMATCH_JOB, rematch_unmatched
from aftersales.store.uow import uow
from scheduler import metrics

log = logging.getLogger("aftersales.scheduler")

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class SweepRun:
    closed: int  # committed closes, also when the run failed part way
    error: str | None = None
    skipped: bool = False  # another process was sweeping; nothing was done or recorded


async def run_sweep(clock: Clock, *, batch_size: int = DEFAULT_BATCH_SIZE) -> SweepRun:
    """One recorded sweep at `clock()`.

    Failures are logged and recorded (`last_error`), never raised: a scheduler job that raises
    only produces a second, less useful log line. A skipped run records nothing: the process
    that was sweeping records its own.
    """
    started = clock()
    progress = {"closed": 0}

    def on_batch(total: int) -> None:
        progress["closed"] = total

    try:
        await _started(SWEEP_JOB, started)
        t0 = time.perf_counter()
        closed = await sweep_expired_disputes(started, batch_size=batch_size, on_batch=on_batch)
        elapsed = time.perf_counter() - t0
    except SweepBusy:
        log.info("dispute sweep skipped: another process is sweeping")
        metrics.skipped(SWEEP_JOB)
        return SweepRun(closed=0, skipped=True)
    except Exception as exc:
        log.exception("dispute sweep failed after closing %d after-sales", progress["closed"])
        error = f"{type(exc).__name__}: {exc}"
        await record(SWEEP_JOB, started, clock, progress["closed"], error)
        return SweepRun(closed=progress["closed"], error=error)
    log.info(
        "dispute sweep closed %d after-sales whose dispute window ran out (now=%s, %.3fs)",
        closed,
        started.isoformat(),
        elapsed,
    )
    await record(SWEEP_JOB, started, clock, closed, None)
    return SweepRun(closed=closed)


@dataclass(frozen=True)
class RematchRun:
    applied: int  # parcel events applied (or recorded failed), also when the run failed part way
    error: str | None = None


async def run_rematch(clock: Clock, *, limit: int = DEFAULT_LIMIT) -> RematchRun:
    """One recorded rematch of parcel events at `clock()`; failures recorded, never raised."""
    started = clock()
    progress = {"applied": 0}

    def on_progress(total: int) -> None:
        progress["applied"] = total

    try:
        await _started(REMATCH_JOB, started)
        t0 = time.perf_counter()
        applied = await rematch_unmatched(started, limit=limit, on_progress=on_progress)
        elapsed = time.perf_counter() - t0
    except Exception as exc:
        log.exception("parcel rematch failed after applying %d events", progress["applied"])
        error = f"{type(exc).__name__}: {exc}"
        await record(REMATCH_JOB, started, clock, progress["applied"], error)
        return RematchRun(applied=progress["applied"], error=error)
    log.info(
        "parcel rematch applied %d events that had matched nothing (now=%s, %.3fs)",
        applied,
        started.isoformat(),
        elapsed,
    )
    await record(REMATCH_JOB, started, clock, applied, None)
    return RematchRun(applied=applied)


async def _started(name: str, at: datetime) -> None:
    async with uow() as tx:
        await tx.jobs.started(name, at)


async def record(name: str, started: datetime, clock: Clock, count: int, error: str | None) -> None:
    finished = max(clock(), started)
    metrics.ran(name, count, error=error, finished_at=finished)
    try:
        async with uow() as tx:
            await tx.jobs.finished(name, finished, count=count, error=error)
    except Exception:  # the database may be what failed; the log line above says so
        log.exception("could not record the %s run", name)


FOLD_JOB = "status_counts"


async def run_fold(clock: Clock) -> int:
    """Fold the per-status count rows the triggers added (aftersales/store/counts.py); recorded,
    failures logged, never raised."""
    started = clock()
    try:
        folded = await counts.fold()
    except Exception as exc:
        log.exception("folding the status counts failed")
        await record(FOLD_JOB, started, clock, 0, f"{type(exc).__name__}: {exc}")
        return 0
    await record(FOLD_JOB, started, clock, folded, None)
    return folded
