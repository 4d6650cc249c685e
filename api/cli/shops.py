"""`aftersales shops add | list | credentials | connect | check`: the TikTok shops, their
credentials (set, rotated or removed here, never printed, or obtained by OAuth through
`connect`), and what works of their connection to TikTok."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from aftersales.commands import accounts, authorize
from aftersales.commands.connection import connection_states
from aftersales.commands.credentials import (
    CredentialsGiven,
    clear_shop_credentials,
    credential_status,
    credential_statuses,
    set_shop_credentials,
)
from aftersales.domain import locales
from aftersales.domain.connection import ShopConnection
from aftersales.settings import Settings
from aftersales.store.credentials import CredentialStatus, Vault
from api.cli import connection
from api.cli.arguments import instant
from api.cli.output import print_table, when
from api.cli.runner import UserFacingError, run_with_database
from api.cli.secrets_setup import vault_for
from webhooks import registration


def configure(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    shops = sub.add_parser("shops", help="manage shops").add_subparsers(
        dest="shops_command", required=True, metavar="ACTION"
    )
    add = shops.add_parser("add", help="register a TikTok shop (creates the seller if new)")
    add.add_argument("--seller", required=True, help="seller account name")
    add.add_argument("--shop-id", required=True, help="TikTok shop_id")
    add.add_argument(
        "--region", required=True, help="ISO region code: ID, MY, TH, VN, PH, SG, US, GB, ..."
    )
    add.add_argument("--name", help="display name")
    _add_credential_arguments(add)
    _add_locale_argument(add)
    add.set_defaults(handler=cmd_shops_add)

    listing = shops.add_parser("list", help="every shop with its seller, region and after-sales")
    listing.set_defaults(handler=cmd_shops_list)

    creds = shops.add_parser(
        "credentials",
        help="set, rotate or remove a shop's TikTok credentials (never printed)",
    )
    creds.add_argument("--shop-id", required=True, help="TikTok shop_id")
    _add_credential_arguments(creds)
    _add_locale_argument(creds)
    creds.add_argument(
        "--clear", action="store_true", help="remove the tokens and shop cipher: local-only"
    )
    creds.set_defaults(handler=cmd_shops_credentials)
    connection.configure(shops)

    configure_connect(shops)


def _add_locale_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--locale",
        metavar="TAG",
        help="language of TikTok's texts (reject reasons), a BCP-47 tag such as id-ID;"
        " default: the region's (ID id-ID, VN vi-VN, TH th-TH, MY ms-MY, else en-XX)",
    )


def _check_locale(locale: str | None) -> None:
    """Refuse a bad `--locale` before anything is registered or set."""
    if locale is not None:
        locales.normalize(locale)


async def _set_locale(shop_id: str, locale: str | None) -> None:
    if locale is not None:
        print(
            f"shop {shop_id}: TikTok's texts in {await accounts.set_shop_locale(shop_id, locale)}"
        )


def _add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    hint = " ('-': read it from the next line of stdin, out of the shell's history)"
    parser.add_argument("--access-token", metavar="T", help="TikTok API access token" + hint)
    parser.add_argument("--refresh-token", metavar="R", help="TikTok refresh token" + hint)
    parser.add_argument("--shop-cipher", metavar="C", help="TikTok shop_cipher" + hint)
    parser.add_argument(
        "--access-token-expires-at",
        type=instant,
        metavar="WHEN",
        help="when the access token expires: ISO 8601 (UTC without an offset) or Unix seconds",
    )
    parser.add_argument(
        "--refresh-token-expires-at",
        type=instant,
        metavar="WHEN",
        help="when the refresh token expires: ISO 8601 or Unix seconds",
    )


def cmd_shops_add(args: argparse.Namespace, settings: Settings) -> int:
    given = CredentialOptions(args)
    _check_locale(args.locale)
    # The key first: production without it refuses before anything is registered.
    settings, vault = vault_for(settings) if given.has_tokens else (settings, None)

    async def add() -> int:
        # The cipher before anything is stored: a lookup TikTok refuses registers nothing.
        settings_now, given.shop_cipher = await connection.with_cipher(
            given.access_token, given.shop_cipher, args.shop_id, settings, stored=None
        )
        shop = await accounts.add_shop(args.seller, args.shop_id, args.region, args.name)
        who = "new seller" if shop.seller_created else "seller"
        print(
            f"registered shop {shop.shop_id} ({shop.region}, {shop.name!r})"
            f" for {who} {args.seller!r}"
        )
        if given.anything:
            await _set_credentials(vault, shop.shop_id, given, settings_now)
        await _set_locale(shop.shop_id, args.locale)
        message = await registration.apply_waiting_deliveries(shop.shop_id, settings)
        if message:
            print(message)
        return 0

    return run_with_database(add(), settings)


def cmd_shops_list(args: argparse.Namespace, settings: Settings) -> int:
    async def show() -> int:
        shops = await accounts.list_shops()
        if not shops:
            print("no shops yet: register one with `aftersales shops add`")
            return 0
        held = await credential_statuses()
        states = await connection_states(settings.sync_enabled, now=datetime.now(UTC))
        rows = [("SHOP ID", "SELLER", "REGION", "NAME", "TIKTOK", "CONNECTION", "AFTER-SALES")]
        for entry in shops:
            counts = ", ".join(
                f"{n} {kind.value.lower().replace('_', ' ')}"
                for kind, n in sorted(entry.after_sales.items(), key=lambda kv: kv[0].value)
            )
            total = sum(entry.after_sales.values())
            rows.append(
                (
                    entry.shop.shop_id,
                    entry.seller,
                    entry.shop.region,
                    entry.shop.name,
                    _credentials_cell(held.get(entry.shop.id)),
                    states[entry.shop.id].state.value if entry.shop.id in states else "",
                    f"{total} ({counts})" if total else "0",
                )
            )
        print_table(rows)
        for entry in shops:  # why a shop that has TikTok credentials does not simply sync
            state = states.get(entry.shop.id)
            status = held.get(entry.shop.id)
            if (
                state is not None
                and state.state is not ShopConnection.CONNECTED
                and status is not None
                and status.access_token
            ):
                print(f"shop {entry.shop.shop_id}: {state.state.value}: {state.why}")
        return 0

    return run_with_database(show(), settings)


def _credentials_cell(status: CredentialStatus | None) -> str:
    """`shops list`: whether the shop has TikTok credentials, never what they are."""
    if status is None or not status.access_token:
        return "local-only"
    return "credentials" if status.refresh_token else "credentials (no refresh token)"


class CredentialOptions:
    """`--access-token`, `--refresh-token`, `--shop-cipher` and the expiries, checked; `-` reads
    the value from the next line of stdin, so that it stays out of the shell's history."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.access_token = _option_value(args.access_token, "--access-token")
        self.refresh_token = _option_value(args.refresh_token, "--refresh-token")
        self.shop_cipher = _option_value(args.shop_cipher, "--shop-cipher")
        self.access_token_expires_at: datetime | None = args.access_token_expires_at
        self.refresh_token_expires_at: datetime | None = args.refresh_token_expires_at
        if self.shop_cipher is not None and len(self.shop_cipher) > accounts.MAX_SHOP_CIPHER:
            raise UserFacingError(
                f"the shop cipher is {len(self.shop_cipher)} characters long;"
                f" at most {accounts.MAX_SHOP_CIPHER}"
            )
        # `shops credentials` may give an expiry alone, for the stored token; `add` has none.
        adding = args.shops_command == "add"
        if adding and self.access_token is None and self.access_token_expires_at is not None:
            raise UserFacingError("--access-token-expires-at needs --access-token")
        if adding and self.refresh_token is None and self.refresh_token_expires_at is not None:
            raise UserFacingError("--refresh-token-expires-at needs --refresh-token")

    @property
    def given(self) -> CredentialsGiven:
        return CredentialsGiven(
            access_token=self.access_token,
            refresh_token=self.refresh_token,
            shop_cipher=self.shop_cipher,
            access_token_expires_at=self.access_token_expires_at,
            refresh_token_expires_at=self.refresh_token_expires_at,
        )

    @property
    def has_tokens(self) -> bool:
        return self.access_token is not None or self.refresh_token is not None

    @property
    def anything(self) -> bool:
        return (
            self.has_tokens
            or self.shop_cipher is not None
            or self.access_token_expires_at is not None
            or self.refresh_token_expires_at is not None
        )


def _option_value(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    if value == "-":
        value = sys.stdin.readline()
        if not value:
            raise UserFacingError(f"{option} -: nothing to read on stdin")
    value = value.strip()
    if not value:
        raise UserFacingError(f"{option} is empty")
    return value


def _listed(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


async def _set_credentials(
    vault: Vault | None, shop_id: str, given: CredentialOptions, settings: Settings
) -> None:
    """Store them and say what was set, never the values."""
    status = await set_shop_credentials(vault, shop_id, given.given, now=datetime.now(UTC))
    parts = [
        what
        for what, value in (
            ("access token", given.access_token),
            ("refresh token", given.refresh_token),
            ("shop cipher", given.shop_cipher),
        )
        if value is not None
    ]
    expiries = [
        f"{what} expires {when(at)}"
        for what, at in (
            ("access token", status.access_token_expires_at),
            ("refresh token", status.refresh_token_expires_at),
        )
        if at is not None
    ]
    said = f"{_listed(parts)} set" if parts else "expiry set"
    if expiries:
        said += f" ({'; '.join(expiries)})"
    if not status.access_token:
        after = "it has no access token yet, so it stays local-only"
    elif not status.shop_cipher:
        after = (
            "it has no shop cipher, so it stays local-only (TikTok refuses calls without one):"
            " give --shop-cipher, or set TIKTOK_API_BASE_URL to look it up"
        )
    elif settings.sync_enabled:
        after = "this shop syncs with TikTok (TIKTOK_API_BASE_URL is set)"
    else:
        after = "this shop syncs with TikTok when TIKTOK_API_BASE_URL is set"
    print(f"credentials of shop {shop_id}: {said}; {after}")


def cmd_shops_credentials(args: argparse.Namespace, settings: Settings) -> int:
    given = CredentialOptions(args)
    _check_locale(args.locale)
    if args.clear and given.anything:
        raise UserFacingError("--clear removes every credential: give it alone")
    if not args.clear and not given.anything and args.locale is None:
        raise UserFacingError(
            "nothing to do: give --access-token, --refresh-token, --shop-cipher, an expiry or"
            " --locale to set, or --clear to remove the credentials"
        )
    settings, vault = vault_for(settings) if given.has_tokens else (settings, None)

    async def change() -> int:
        if args.clear:
            await clear_shop_credentials(args.shop_id)
            print(
                f"credentials of shop {args.shop_id} removed: access token, refresh token and"
                " shop cipher; this shop is local-only now"
            )
            return 0
        if given.anything:
            stored = await credential_status(args.shop_id)
            settings_now, given.shop_cipher = await connection.with_cipher(
                given.access_token, given.shop_cipher, args.shop_id, settings, stored=stored
            )
            await _set_credentials(vault, args.shop_id, given, settings_now)
        await _set_locale(args.shop_id, args.locale)
        return 0

    return run_with_database(change(), settings)


def configure_connect(shops: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connect = shops.add_parser(
        "connect",
        help="connect a seller's TikTok shops by OAuth: print TikTok's authorization URL",
    )
    connect.add_argument("--seller", required=True, help="seller account name (created if new)")
    connect.add_argument(
        "--region", help="the shops' region: US uses TikTok's US page, others the global one"
    )
    connect.set_defaults(handler=cmd_shops_connect)


def cmd_shops_connect(args: argparse.Namespace, settings: Settings) -> int:
    """The redirect URL to register, then the authorization URL to open, as the last line."""
    if not settings.tiktok_service_id:
        raise UserFacingError(
            "TIKTOK_SERVICE_ID is not set: set it to the service id of your app in TikTok's"
            " Partner Center (docs/connecting-a-shop.md)"
        )
    app = authorize.App(settings.tiktok_service_id, settings.tiktok_authorize_url)
    redirect = authorize.redirect_url(settings.tiktok_redirect_base_url)

    async def connect() -> int:
        found = await authorize.authorization_url(
            app, now=datetime.now(UTC), seller_name=args.seller, region=args.region
        )
        who = "new seller" if found.seller_created else "seller"
        if redirect is None:
            print(
                "TikTok sends the seller back to the redirect URL registered for the app:"
                " {public origin}/oauth/tiktok/callback (set TIKTOK_REDIRECT_BASE_URL to print it)"
            )
        else:
            print(f"redirect URL (register it for the app in Partner Center): {redirect}")
        print(
            f"open this URL as {who} {args.seller.strip()!r} and authorize the app;"
            f" it works once, until {found.expires_at:%Y-%m-%d %H:%M} UTC:"
        )
        print(found.url)
        return 0

    return run_with_database(connect(), settings)
