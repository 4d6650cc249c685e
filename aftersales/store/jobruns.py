"""The last run of each scheduled job, for operators (the `job_run` table).

One row per job name, shared by every replica: whichever replica ran the job last wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import F

from aftersales.store.models import JobRun
from aftersales.store.sql import Connection


@dataclass(frozen=True)
class JobRunRecord:
    name: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_count: int
    last_error: str | None
    runs: int


class JobReads:
    """The job runs on the read handle (`reading()` in aftersales/store/uow.py)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def all_runs(self) -> list[JobRunRecord]:
        return [
            JobRunRecord(
                name=row.name,
                last_started_at=row.last_started_at,
                last_finished_at=row.last_finished_at,
                last_count=row.last_count,
                last_error=row.last_error,
                runs=row.runs,
            )
            for row in await JobRun.all().using_db(self._conn).order_by("name")
        ]


class Jobs(JobReads):
    """The job runs in a unit of work."""

    async def _ensure(self, name: str) -> None:
        # Insert-or-ignore: two replicas starting the same job for the first time both succeed.
        await JobRun.bulk_create([JobRun(name=name)], ignore_conflicts=True, using_db=self._conn)

    async def started(self, name: str, at: datetime) -> None:
        await self._ensure(name)
        await JobRun.filter(name=name).using_db(self._conn).update(last_started_at=at)

    async def finished(self, name: str, at: datetime, *, count: int, error: str | None) -> None:
        """Record the end of a run: its count, and its error (None clears the previous one)."""
        await self._ensure(name)
        await (
            JobRun.filter(name=name)
            .using_db(self._conn)
            .update(last_finished_at=at, last_count=count, last_error=error, runs=F("runs") + 1)
        )
