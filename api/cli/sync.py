"""`aftersales sync`: import a shop's returns from TikTok now."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from aftersales.settings import Settings
from aftersales.store.uow import uow
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
    from aftersales.tiktok import imports
    from aftersales.tiktok.client import TikTokError
    from scheduler import tiktok as tiktok_link

    settings = with_secret_key(with_secrets(settings))
    link = tiktok_link.build_link(settings, lambda: datetime.now(UTC))
    if link is None:
        raise UserFacingError(
            "TikTok sync is off: set TIKTOK_API_BASE_URL (and TIKTOK_APP_KEY, TIKTOK_APP_SECRET,"
            " AFTERSALES_SECRET_KEY in production) to import from TikTok"
        )
    shop_id = args.shop_id.strip()

    async def sync() -> int:
        try:
            async with uow() as tx:
                shop = await tx.shops.by_shop_id(shop_id)
            if shop is None:
                raise UserFacingError(f"no shop {shop_id} (see `aftersales shops list`)")
            creds = await link.shop(shop.id)
            if creds is None:
                raise UserFacingError(
                    f"shop {shop_id} has no TikTok credentials:"
                    " set them with `aftersales shops credentials`"
                )
            try:
                run = await imports.sync_shop(link, creds, since=args.since)
            except TikTokError as exc:
                raise UserFacingError(f"TikTok refused the import: {exc.describe()}") from None
            print(f"shop {shop_id}: imported {run.summary()}", flush=True)
            return 0
        finally:
            await link.aclose()

    return run_with_database(sync(), settings)
