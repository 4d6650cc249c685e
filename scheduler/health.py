"""GET /health/jobs: when each scheduled job last ran, what it did, and whether it is healthy.

Statuses: `ok`; `running` (started, not finished yet); `never_run`; `failing` (the last run
raised: `last_error` names the exception's class, the log has the rest); `late` (no run started
for three intervals: the scheduler is not running anywhere); `degraded` (the TikTok poll runs,
but some shops fail: see its `failing_shops`, each shop's id and why). The response is 503 when
any job is failing or late, so a load balancer or uptime probe can alert on it, and 200
otherwise (`status: degraded` when a job is: the other shops still sync, and another replica
would not do better).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from aftersales.commands.sweep import SWEEP_JOB
from aftersales.inbox.rematch import REMATCH_JOB
from aftersales.settings import Settings
from aftersales.store import jobruns
from aftersales.store.uow import reading
from scheduler.jobs import FOLD_JOB, Clock
from scheduler.tiktok import POLL_JOB, TOKEN_INTERVAL, TOKENS_JOB

UNHEALTHY = frozenset({"failing", "late"})
LATE_AFTER_INTERVALS = 3


def job_status(run: jobruns.JobRunRecord, now: datetime, interval: timedelta | None) -> str:
    if run.last_started_at is None and run.last_finished_at is None:
        return "never_run"
    last_seen = max(t for t in (run.last_started_at, run.last_finished_at) if t is not None)
    if interval is not None and now - last_seen > interval * LATE_AFTER_INTERVALS:
        return "late"
    if run.last_started_at is not None and (
        run.last_finished_at is None or run.last_started_at > run.last_finished_at
    ):
        return "running"
    if run.last_error:
        return "failing"
    return "ok"


def public_error(error: str | None) -> str | None:
    """What the answer says of a failed run: the exception's class, not its text (which may
    name hosts, shops or data); the job logged the whole of it, with its traceback."""
    if error is None:
        return None
    kind = error.partition(":")[0].strip()
    if not kind.replace(".", "").replace("_", "").isalnum():
        kind = "the last run failed"
    return f"{kind} (the service's log has the details)"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def describe(
    runs: list[jobruns.JobRunRecord],
    now: datetime,
    intervals: Mapping[str, timedelta],
    failing_shops: Sequence[tuple[str, str]] = (),
) -> tuple[int, dict[str, Any]]:
    jobs: list[dict[str, Any]] = []
    known = {run.name: run for run in runs}
    for name in sorted(set(known) | set(intervals)):
        run = known.get(name) or jobruns.JobRunRecord(name, None, None, 0, None, 0)
        interval = intervals.get(name)
        jobs.append(
            {
                "name": name,
                "status": job_status(run, now, interval),
                "interval_seconds": int(interval.total_seconds()) if interval else None,
                "last_started_at": _iso(run.last_started_at),
                "last_finished_at": _iso(run.last_finished_at),
                "last_count": run.last_count,
                "last_error": public_error(run.last_error),
                "runs": run.runs,
            }
        )
        if name == POLL_JOB and failing_shops:
            jobs[-1]["failing_shops"] = [{"shop_id": s, "error": e} for s, e in failing_shops]
            if jobs[-1]["status"] not in UNHEALTHY:  # failing or late says more
                jobs[-1]["status"] = "degraded"
    healthy = not any(job["status"] in UNHEALTHY for job in jobs)
    degraded = any(job["status"] == "degraded" for job in jobs)
    status = "unhealthy" if not healthy else "degraded" if degraded else "ok"
    body = {"status": status, "now": now.isoformat(), "jobs": jobs}
    return (200 if healthy else 503), body


def routes(settings: Settings, clock: Clock) -> list[BaseRoute]:
    intervals = {
        SWEEP_JOB: settings.sweep_interval,
        REMATCH_JOB: settings.sweep_interval,
        FOLD_JOB: settings.sweep_interval,
    }
    if settings.sync_enabled:  # the dispatcher records only the runs that sent something
        intervals |= {POLL_JOB: settings.tiktok_poll_interval, TOKENS_JOB: TOKEN_INTERVAL}

    async def health_jobs(_: Request) -> Response:
        async with reading() as r:
            runs = await r.jobs.all_runs()
            failing = await r.shops.failing_shops() if settings.sync_enabled else []
        status_code, body = describe(runs, clock(), intervals, failing)
        return JSONResponse(body, status_code=status_code)

    return [Route("/health/jobs", health_jobs, methods=["GET"])]
