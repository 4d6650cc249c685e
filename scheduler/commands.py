"""`aftersales sweep`: one run of each timer job, for people who prefer cron (docs/timers.md).

It runs what the scheduler runs every SWEEP_INTERVAL_SECONDS: the parcel rematch (parcel events
whose after-sale appeared as they arrived), then the dispute sweep, and records both runs for
GET /health/jobs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

from aftersales.commands.sweep import DEFAULT_BATCH_SIZE
from aftersales.settings import Settings
from scheduler.jobs import log as job_log
from scheduler.jobs import run_rematch, run_sweep


def _now() -> datetime:
    return datetime.now(UTC)


def configure_sweep(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Apply parcel events that matched nothing but whose after-sale exists now, then close"
        " every after-sale whose dispute window ran out (one run each, then exit)."
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"after-sales closed per transaction (default {DEFAULT_BATCH_SIZE})",
    )


@contextlib.contextmanager
def _counts_printed_not_logged() -> Iterator[None]:
    """The jobs log one INFO line per run, for the service's log; here the command prints the
    same counts, so those lines would show each count twice in a terminal (stdout and stderr).
    Their warnings and errors, with tracebacks, still go to stderr."""
    level = job_log.level
    job_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        job_log.setLevel(level)


async def sweep(args: argparse.Namespace, settings: Settings) -> int:
    """Run once (the caller has connected to the database); print what happened."""
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1", file=sys.stderr)
        return 2
    with _counts_printed_not_logged():
        rematch = await run_rematch(_now)
        print(f"applied {rematch.applied} parcel events that had matched nothing")
        if rematch.error:
            print(f"error: the parcel rematch failed part way: {rematch.error}", file=sys.stderr)
        run = await run_sweep(_now, batch_size=args.batch_size)
    if run.skipped:
        print("another process is sweeping right now; nothing done")
        return 1 if rematch.error else 0
    print(f"closed {run.closed} after-sales whose dispute window ran out")
    if run.error:
        print(f"error: the sweep failed part way: {run.error}", file=sys.stderr)
        return 1
    return 1 if rematch.error else 0
