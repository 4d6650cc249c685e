"""The timer jobs' Prometheus metrics, exposed by GET /metrics (api/metrics.py).

They live here, beside the jobs that update them, because `scheduler` may not import `api` (the
layers contract in pyproject.toml); `api.metrics` imports this module instead. Each process
counts its own runs (the scheduler's, or one `aftersales sweep`); GET /health/jobs shows the last
run recorded in the database by any replica.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge

from aftersales.commands.sweep import SWEEP_JOB
from aftersales.inbox.rematch import REMATCH_JOB

JOBS = (SWEEP_JOB, REMATCH_JOB)
OK, FAILED, SKIPPED = "ok", "failed", "skipped"

RUNS = Counter(
    "aftersales_job_runs",
    "Timer job runs in this process, by job and outcome (ok, failed, skipped)",
    ["job", "outcome"],
)
SWEEP_CLOSED = Counter(
    "aftersales_dispute_sweep_closed",
    "After-sales the dispute sweep closed because their dispute window ran out",
)
REMATCH_APPLIED = Counter(
    "aftersales_parcel_rematch_applied",
    "Parcel events the rematch applied after their after-sale appeared",
)
LAST_SUCCESS = Gauge(
    "aftersales_job_last_success_timestamp_seconds",
    "When each job's last successful run in this process finished (Unix time)",
    ["job"],
)
COUNTED = {SWEEP_JOB: SWEEP_CLOSED, REMATCH_JOB: REMATCH_APPLIED}

for _job in JOBS:
    for _outcome in (OK, FAILED, SKIPPED):
        RUNS.labels(job=_job, outcome=_outcome)


def ran(job: str, count: int, *, error: str | None, finished_at: datetime) -> None:
    """One finished run: what it closed or applied (committed, also when it failed part way),
    and, when it succeeded, its finish time."""
    counted = COUNTED.get(job)  # the jobs whose count has a metric of its own
    if counted is not None:
        counted.inc(count)
    RUNS.labels(job=job, outcome=FAILED if error else OK).inc()
    if not error:
        LAST_SUCCESS.labels(job=job).set(finished_at.timestamp())


def skipped(job: str) -> None:
    """A run that did nothing because another process held the job."""
    RUNS.labels(job=job, outcome=SKIPPED).inc()
