"""`aftersales migrate` and `aftersales prune`: the database's schema, its delivery log and the
OAuth states no longer usable."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from aftersales.commands.authorize import prune_states
from aftersales.commands.prune import prune_deliveries
from aftersales.settings import Settings
from aftersales.store import db, deliveries
from api.cli.arguments import batch_size, duration
from api.cli.runner import check_sqlite_directory, run_with_database


def configure(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(handler=cmd_migrate)


def configure_prune(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    prune = sub.add_parser(
        "prune",
        help="delete processed webhook deliveries older than a duration from the delivery log",
    )
    prune.add_argument(
        "--older-than",
        type=duration,
        required=True,
        metavar="DURATION",
        help="received longer ago than this: 3600s, 90m, 12h, 30d or 2w",
    )
    prune.add_argument(
        "--waiting-older-than",
        type=duration,
        metavar="DURATION",
        help="also delete deliveries still waiting (for a shop never registered, an after-sale"
        " that never appeared, a replay) received longer ago than this, e.g. 90d; at least"
        " --older-than (default: keep them all)",
    )
    prune.add_argument(
        "--batch-size",
        type=batch_size,
        default=deliveries.PRUNE_BATCH,
        help=f"rows deleted per transaction (default {deliveries.PRUNE_BATCH})",
    )
    prune.set_defaults(handler=cmd_prune)


def migrated(done: db.Migrated) -> str:
    """What `migrate` did, in one line."""
    count = len(done.applied)
    applied = f"applied {count} migration{'' if count == 1 else 's'}"
    if not count:
        return "database schema is already up to date"
    if done.created:
        return f"created the database schema ({applied})"
    return f"upgraded the database schema ({applied}: {', '.join(done.applied)})"


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    check_sqlite_directory(settings.database_url)

    async def migrate() -> int:
        try:
            done = await db.migrate(settings.database_url)
        finally:
            await db.close()
        print(migrated(done))
        return 0

    return asyncio.run(migrate())


def cmd_prune(args: argparse.Namespace, settings: Settings) -> int:
    async def prune() -> int:
        done = await prune_deliveries(
            datetime.now(UTC),
            older_than=args.older_than,
            waiting_older_than=args.waiting_older_than,
            batch_size=args.batch_size,
        )
        if done.waiting_received_before is None:
            kept = "deliveries still waiting for their shop, their after-sale or a replay are kept"
        else:
            kept = (
                "and those still waiting for their shop, their after-sale or a replay received"
                f" before {done.waiting_received_before:%Y-%m-%d %H:%M} UTC"
            )
        print(
            f"deleted {done.deleted} webhook deliveries received before"
            f" {done.received_before:%Y-%m-%d %H:%M} UTC ({kept})"
        )
        states = await prune_states(now=datetime.now(UTC))
        print(f"deleted {states} OAuth states used or expired (shops connect)")
        return 0

    return run_with_database(prune(), settings)
