"""`aftersales sweep`: one sweep, for people who prefer cron (SPEC §4)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from aftersales.settings import Settings
from aftersales.sweep import DEFAULT_BATCH_SIZE
from scheduler.jobs import run_sweep


def configure_sweep(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Close every after-sale whose dispute window ran out (one sweep, then exit)."
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"after-sales closed per transaction (default {DEFAULT_BATCH_SIZE})",
    )


async def sweep(args: argparse.Namespace, settings: Settings) -> int:
    """Run once (the caller has connected to the database); print what happened."""
    if args.batch_size < 1:
        print("error: --batch-size must be at least 1")
        return 2
    run = await run_sweep(lambda: datetime.now(UTC), batch_size=args.batch_size)
    if run.skipped:
        print("another process is sweeping right now; nothing done")
        return 0
    print(f"closed {run.closed} after-sales whose dispute window ran out")
    if run.error:
        print(f"error: the sweep failed part way: {run.error}")
        return 1
    return 0
