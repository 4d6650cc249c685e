"""`aftersales sync`: import a shop's returns from TikTok now."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from aftersales.settings import Settings
from api.cli.arguments import instant
from api.cli.runner import UserFacingError, run_with_database
from api.cli.secrets_setup import with_secret_key, with_secrets


def configure(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser(
        "sync",
        help="import a shop's returns from TikTok now (a first backfill with --since)",
    )
    sync.add_argument("--shop-id", required=True, help="TikTok's id of the shop")
    sync.add_argument(
        "--since",
        type=instant,
        help="returns updated since then (ISO date or date-time); default: since the last poll",
    )
    sync.set_defaults(handler=cmd_sync)


def cmd_sync(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here: the other commands start faster without the HTTP client.
    from aftersales.domain.errors import DomainError
    from aftersales.tiktok import ondemand
    from scheduler import tiktok as tiktok_link

    settings = with_secret_key(with_secrets(settings))
    link = tiktok_link.build_link(settings, lambda: datetime.now(UTC))
    if link is None:
        raise UserFacingError(
            "TikTok sync is off: set TIKTOK_API_BASE_URL (and TIKTOK_APP_KEY, TIKTOK_APP_SECRET,"
            " AFTERSALES_SECRET_KEY in production) to import from TikTok"
        )

    async def sync() -> int:
        try:
            run = await ondemand.run(link, args.shop_id, since=args.since, now=datetime.now(UTC))
        except DomainError as exc:
            raise UserFacingError(exc.message) from None
        finally:
            await link.aclose()
        print(f"shop {args.shop_id.strip()}: imported {run.summary()}", flush=True)
        return 0

    return run_with_database(sync(), settings)
