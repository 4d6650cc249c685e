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

from aftersales.store import jobruns
from aftersales.sweep import DEFAULT_BATCH_SIZE, SWEEP_JOB, SweepBusy, sweep_expired_disputes

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
        await jobruns.started(SWEEP_JOB, started)
        t0 = time.perf_counter()
        closed = await sweep_expired_disputes(started, batch_size=batch_size, on_batch=on_batch)
        elapsed = time.perf_counter() - t0
    except SweepBusy:
        log.info("dispute sweep skipped: another process is sweeping")
        return SweepRun(closed=0, skipped=True)
    except Exception as exc:
        log.exception("dispute sweep failed after closing %d after-sales", progress["closed"])
        error = f"{type(exc).__name__}: {exc}"
        await _record(started, clock, progress["closed"], error)
        return SweepRun(closed=progress["closed"], error=error)
    log.info(
        "dispute sweep closed %d after-sales whose dispute window ran out (now=%s, %.3fs)",
        closed,
        started.isoformat(),
        elapsed,
    )
    await _record(started, clock, closed, None)
    return SweepRun(closed=closed)


async def _record(started: datetime, clock: Clock, count: int, error: str | None) -> None:
    try:
        await jobruns.finished(SWEEP_JOB, max(clock(), started), count=count, error=error)
    except Exception:  # the database may be what failed; the log line above says so
        log.exception("could not record the dispute sweep run")
