"""`aftersales shops check`, and the shop cipher looked up from TikTok for `shops add` and
`shops credentials` when a token comes without one (docs/tiktok-sync.md#credentials). The
asking is aftersales/tiktok/check.py's; this module only prints."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from aftersales.settings import Settings
from aftersales.store.credentials import CredentialStatus
from api.cli.runner import UserFacingError, run_with_database
from api.cli.secrets_setup import with_secret_key, with_secrets


def configure(shops: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = shops.add_parser(
        "check",
        help="ask TikTok what works for a shop (token, cipher, scope); exit 0 only when all do",
    )
    check.add_argument("--shop-id", required=True, help="TikTok shop_id")
    check.set_defaults(handler=cmd_shops_check)


def cmd_shops_check(args: argparse.Namespace, settings: Settings) -> int:
    from aftersales.tiktok.check import check_shop
    from scheduler import tiktok as tiktok_link

    if settings.sync_enabled:
        settings = with_secret_key(with_secrets(settings))
    link = tiktok_link.build_link(settings, lambda: datetime.now(UTC))

    async def check() -> int:
        try:
            report = await check_shop(
                link.client if link is not None else None,
                link.vault if link is not None else None,
                args.shop_id.strip(),
                sync_configured=settings.sync_enabled,
                now=datetime.now(UTC),
            )
        finally:
            if link is not None:
                await link.aclose()
        for line in report.lines:
            print(line, flush=True)
        return 0 if report.ok else 1

    return run_with_database(check(), settings)


async def with_cipher(
    access_token: str | None,
    shop_cipher: str | None,
    shop_id: str,
    settings: Settings,
    *,
    stored: CredentialStatus | None,
) -> tuple[Settings, str | None]:
    """The cipher to store with the credentials given, and the settings to go on with. A new
    access token without --shop-cipher, for a shop with no stored cipher, has the cipher looked
    up from TikTok's Get Authorized Shops (UserFacingError, nothing stored, when TikTok cannot
    be reached, refuses, or does not list the shop). A cipher given is kept as given. Without
    TIKTOK_API_BASE_URL nothing is looked up: the shop stays local-only until it has one."""
    if access_token is None or shop_cipher is not None or not settings.sync_enabled:
        return settings, shop_cipher
    if stored is not None and stored.shop_cipher:
        return settings, None  # a rotated token keeps the stored cipher
    from aftersales.tiktok.check import CipherLookupFailed, lookup_cipher
    from scheduler import tiktok as tiktok_link

    settings = with_secrets(settings)
    link = tiktok_link.build_link(settings, lambda: datetime.now(UTC))
    if link is None:
        raise UserFacingError(
            "cannot look the shop cipher up: TIKTOK_APP_KEY and TIKTOK_APP_SECRET are needed;"
            " or give --shop-cipher"
        )
    try:
        shop = await lookup_cipher(link.client, access_token, shop_id.strip())
    except CipherLookupFailed as exc:
        raise UserFacingError(str(exc)) from None
    finally:
        await link.aclose()
    print(f"shop cipher of shop {shop_id} looked up from TikTok's Get Authorized Shops")
    return settings, shop.cipher
