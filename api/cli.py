"""The `aftersales` command line. Every command reads the environment (docs/configuration.md).

The CLI is a composition root too: it imports the commands of the webhooks (`simulate`) and the
scheduler (`sweep`) directly, and registers nothing at run time."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aftersales.commands import accounts
from aftersales.domain.errors import DomainError, Invalid
from aftersales.settings import (
    SECRET_KEY_NAME,
    ConfigError,
    Settings,
    load_settings,
    missing_secret_key,
)
from aftersales.store import credentials, db, deliveries
from aftersales.store.accounts import TokenRecord
from aftersales.store.credentials import CredentialsError, CredentialStatus, Vault
from aftersales.store.uow import uow
from api import logs
from scheduler import commands as timers
from webhooks import registration, simulate

log = logging.getLogger("aftersales")

Handler = Callable[[argparse.Namespace, Settings], int]

# Production refuses shorter HMAC keys. TIKTOK_APP_KEY is not one: it names the app (TikTok's
# are about 13 characters) and travels in the clear in every signed message.
MIN_SECRET_BYTES = 16


class UserFacingError(Exception):
    """An error meant for the person at the terminal: printed, no traceback, exit 1."""


def _check_sqlite_directory(url: str) -> None:
    """A SQLite file in a missing directory fails inside aiosqlite's worker thread, which then
    prints its own traceback after the event loop is gone: say what is wrong before trying."""
    if not url.startswith("sqlite://"):
        return
    path = url.removeprefix("sqlite://").partition("?")[0]
    if path and path != ":memory:" and not Path(path).parent.is_dir():
        raise UserFacingError(
            f"cannot open the SQLite database {path}: the directory {Path(path).parent}"
            " does not exist (create it, or fix DATABASE_URL)"
        )


def run_with_database(
    coro: Coroutine[Any, Any, int], settings: Settings, *, migrate: bool = True
) -> int:
    try:
        _check_sqlite_directory(settings.database_url)
    except UserFacingError:
        coro.close()
        raise

    async def main() -> int:
        try:
            if migrate:
                await db.migrate(settings.database_url)
            else:
                await db.connect(settings.database_url)
        except BaseException:
            coro.close()  # never started: no "coroutine was never awaited" warning on stderr
            raise
        try:
            return await coro
        finally:
            await db.close()

    return asyncio.run(main())


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
    _check_sqlite_directory(settings.database_url)

    async def migrate() -> int:
        try:
            done = await db.migrate(settings.database_url)
        finally:
            await db.close()
        print(migrated(done))
        return 0

    return asyncio.run(migrate())


def cmd_shops_add(args: argparse.Namespace, settings: Settings) -> int:
    given = CredentialOptions(args)
    # The key first: production without it refuses before anything is registered.
    vault = vault_for(settings) if given.has_tokens else None

    async def add() -> int:
        shop = await accounts.add_shop(args.seller, args.shop_id, args.region, args.name)
        who = "new seller" if shop.seller_created else "seller"
        print(
            f"registered shop {shop.shop_id} ({shop.region}, {shop.name!r})"
            f" for {who} {args.seller!r}"
        )
        if given.anything:
            await _set_credentials(vault, shop.shop_id, given, settings)
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
        held = await credentials.statuses()
        rows = [("SHOP ID", "SELLER", "REGION", "NAME", "TIKTOK", "AFTER-SALES")]
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
                    f"{total} ({counts})" if total else "0",
                )
            )
        _print_table(rows)
        return 0

    return run_with_database(show(), settings)


def _credentials_cell(status: CredentialStatus | None) -> str:
    """`shops list`: whether the shop has TikTok credentials, never what they are."""
    if status is None or not status.access_token:
        return "local-only"
    return "credentials" if status.refresh_token else "credentials (no refresh token)"


def vault_for(settings: Settings) -> Vault:
    """The key that encrypts shop credentials (AFTERSALES_SECRET_KEY). Production refuses to go
    on without it; development takes it from the local secrets file, generating it there the
    first time, and says where (never what)."""
    if not settings.secret_keys:
        if settings.is_production:
            raise UserFacingError(
                "refusing to store TikTok shop credentials in production: "
                + missing_secret_key("production needs it to encrypt")
            )
        settings, local = settings.with_local_secret_key()
        done = "generated" if local.generated else "took"
        print(
            f"development mode: {done} {SECRET_KEY_NAME} (the key that encrypts shop"
            f" credentials) in {local.path} (the environment overrides it; production never"
            " uses the file)",
            flush=True,
        )
    vault = Vault.from_settings_keys(settings.secret_keys)
    assert vault is not None
    return vault


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
    found = await credentials.set_credentials(
        vault,
        shop_id,
        access_token=given.access_token,
        refresh_token=given.refresh_token,
        shop_cipher=given.shop_cipher,
        access_token_expires_at=given.access_token_expires_at,
        refresh_token_expires_at=given.refresh_token_expires_at,
        now=datetime.now(UTC),
    )
    status = await credentials.status_of(shop_id)
    if not found or status is None:
        raise UserFacingError(f"no shop {shop_id!r}: register it first with `aftersales shops add`")
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
        f"{what} expires {_when(at)}"
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
    elif settings.sync_enabled:
        after = "this shop syncs with TikTok (TIKTOK_API_BASE_URL is set)"
    else:
        after = "this shop syncs with TikTok when TIKTOK_API_BASE_URL is set"
    print(f"credentials of shop {shop_id}: {said}; {after}")


def cmd_shops_credentials(args: argparse.Namespace, settings: Settings) -> int:
    given = CredentialOptions(args)
    if args.clear and given.anything:
        raise UserFacingError("--clear removes every credential: give it alone")
    if not args.clear and not given.anything:
        raise UserFacingError(
            "nothing to do: give --access-token, --refresh-token, --shop-cipher or an expiry"
            " to set, or --clear to remove them"
        )
    vault = vault_for(settings) if given.has_tokens else None

    async def change() -> int:
        if args.clear:
            if not await credentials.clear_credentials(args.shop_id):
                raise UserFacingError(
                    f"no shop {args.shop_id!r}: register it first with `aftersales shops add`"
                )
            print(
                f"credentials of shop {args.shop_id} removed: access token, refresh token and"
                " shop cipher; this shop is local-only now"
            )
            return 0
        await _set_credentials(vault, args.shop_id, given, settings)
        return 0

    return run_with_database(change(), settings)


def since_date(text: str) -> datetime:
    """`--since`: an ISO date (midnight UTC) or date and time (UTC unless it says otherwise)."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date such as 2026-11-01 or 2026-11-01T08:00:00+07:00"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


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


def cmd_tiktok_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    """The stand-in TikTok API, with the app key and secret the service uses (the environment's,
    or in development the local secrets file), so both agree without anything exported."""
    from aftersales.tiktok.sandbox import run_sandbox

    settings = with_secrets(settings)  # fills them in development, refuses without in production
    app_key, app_secret = settings.tiktok_app_key, settings.tiktok_app_secret
    if not app_key or not app_secret:
        raise UserFacingError("the sandbox needs TIKTOK_APP_KEY and TIKTOK_APP_SECRET")
    run_sandbox(
        host=args.host,
        port=args.port,
        app_key=app_key,
        app_secret=app_secret,
        webhook_url=args.webhook_url,
        log=print,
    )
    return 0


def expiry(text: str) -> datetime:
    """An argparse type: an ISO 8601 instant (UTC when it has no offset) or Unix seconds."""
    raw = text.strip()
    try:
        at = datetime.fromtimestamp(int(raw), UTC) if raw.isdigit() else datetime.fromisoformat(raw)
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time: give ISO 8601 (2026-12-01T09:00:00Z) or Unix seconds"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _add_credential_arguments(parser: argparse.ArgumentParser) -> None:
    hint = " ('-': read it from the next line of stdin, out of the shell's history)"
    parser.add_argument("--access-token", metavar="T", help="TikTok API access token" + hint)
    parser.add_argument("--refresh-token", metavar="R", help="TikTok refresh token" + hint)
    parser.add_argument("--shop-cipher", metavar="C", help="TikTok shop_cipher" + hint)
    parser.add_argument(
        "--access-token-expires-at",
        type=expiry,
        metavar="WHEN",
        help="when the access token expires: ISO 8601 (UTC without an offset) or Unix seconds",
    )
    parser.add_argument(
        "--refresh-token-expires-at",
        type=expiry,
        metavar="WHEN",
        help="when the refresh token expires: ISO 8601 or Unix seconds",
    )


def _when(at: datetime | None, never: str = "-") -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at is not None else never


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*padded, row[-1]]))


def _token_label(token: TokenRecord) -> str:
    return f"API token {token.id}" + (f" ({token.name!r})" if token.name else "")


def cmd_tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create() -> int:
        expires_at = datetime.now(UTC) + args.expires_in if args.expires_in else None
        new = await accounts.issue_token(args.seller, name=args.name, expires_at=expires_at)
        token = new.record
        print(
            f"new {_token_label(token)} for seller {token.seller!r},"
            f" expires {_when(token.expires_at, never='never')}"
            " (shown once; send it as 'Authorization: Bearer <token>'):"
        )
        print(new.token)
        return 0

    return run_with_database(create(), settings)


def cmd_tokens_list(args: argparse.Namespace, settings: Settings) -> int:
    async def show() -> int:
        tokens = await accounts.list_tokens(args.seller)
        if not tokens:
            print(
                f"seller {args.seller.strip()!r} has no API tokens: create one with"
                " `aftersales tokens create`"
            )
            return 0
        now = datetime.now(UTC)
        rows = [("ID", "NAME", "CREATED", "EXPIRES", "LAST USED", "REVOKED")]
        for token in tokens:
            expires = _when(token.expires_at, never="never")
            if token.expires_at is not None and token.expires_at <= now:
                expires += " (expired)"
            rows.append(
                (
                    str(token.id),
                    token.name or "-",
                    _when(token.created_at),
                    expires,
                    _when(token.last_used_at, never="never"),
                    _when(token.revoked_at),
                )
            )
        _print_table(rows)
        return 0

    return run_with_database(show(), settings)


def cmd_tokens_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def revoke() -> int:
        token, now_revoked = await accounts.revoke_token(args.id, now=datetime.now(UTC))
        if now_revoked:
            print(f"revoked {_token_label(token)} of seller {token.seller!r}")
        else:
            print(
                f"{_token_label(token)} of seller {token.seller!r} was already revoked"
                f" ({_when(token.revoked_at)}); nothing changed"
            )
        return 0

    return run_with_database(revoke(), settings)


def check_production_secrets(settings: Settings) -> None:
    """Production refuses to start without its secrets, or with HMAC keys short enough to
    guess; the message names them."""
    if not settings.is_production:
        return
    if settings.missing_secrets():
        raise UserFacingError(
            "refusing to start in production without "
            + ", ".join(settings.missing_secrets())
            + ": set them in the environment"
        )
    keys = {
        "TIKTOK_APP_SECRET": settings.tiktok_app_secret or "",
        "LOGISTICS_WEBHOOK_SECRET": settings.logistics_webhook_secret or "",
    }
    short = [
        f"{name} ({len(value.encode())} bytes)"
        for name, value in keys.items()
        if len(value.encode()) < MIN_SECRET_BYTES
    ]
    if short:
        raise UserFacingError(
            "refusing to start in production with secrets shorter than"
            f" {MIN_SECRET_BYTES} bytes: {', '.join(short)}; set long random values"
            " (for example from: openssl rand -hex 32)"
        )


def with_secrets(settings: Settings) -> Settings:
    """The webhook secrets, for the commands that sign or check webhooks. Production refuses to
    go on without them; development takes the missing ones from its local secrets file
    (created once, mode 600, beside the SQLite database) and says where it is."""
    check_production_secrets(settings)
    if not settings.missing_secrets():
        return settings
    filled, local = settings.with_local_secrets()
    done = "generated local secrets in" if local.generated else "local secrets from"
    print(
        f"development mode: {done} {local.path}"
        " (the environment overrides them; production never uses the file)",
        flush=True,
    )
    return filled


def with_secret_key(settings: Settings) -> Settings:
    """AFTERSALES_SECRET_KEY for `serve`. Development takes a missing one from the local secrets
    file (generated there the first time, and then said); production goes on without it only
    while no shop has credentials (checked once the database is open)."""
    if settings.secret_keys or settings.is_production:
        return settings
    filled, local = settings.with_local_secret_key()
    if local.generated:
        print(
            f"development mode: generated {SECRET_KEY_NAME} (the key that encrypts shop"
            f" credentials) in {local.path}",
            flush=True,
        )
    return filled


def bind(host: str, port: int) -> list[socket.socket]:
    """The sockets `serve` will listen on, bound now, before anything is said or started: a
    taken port is one `error:` line, not a server that migrates, sweeps, then fails."""
    try:
        found = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise UserFacingError(f"cannot serve on {host}:{port}: {exc}") from None
    bound: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(found):
            sock = socket.socket(family, kind, proto)
            bound.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError as exc:
        for sock in bound:
            sock.close()
        reason = (exc.strerror or str(exc)).lower()
        if exc.errno == errno.EADDRINUSE:
            reason += " (another program listens there: stop it, or choose another --port)"
        raise UserFacingError(f"cannot serve on {host}:{port}: {reason}") from None
    return bound


# On SIGTERM, requests in flight get this long to finish before they are cancelled; then the
# scheduler stops (an in-flight job run is cancelled and rolls back) and the database closes.
# Webhooks answer in milliseconds (TikTok gives up after 3 s); keep the orchestrator's grace
# period above it (Kubernetes' default 30 s is).
GRACEFUL_SHUTDOWN_SECONDS = 10


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.app import ServeConfig
    from api.server import uvicorn_options

    check_production_secrets(settings)
    sockets = bind(args.host, args.port)
    try:
        settings = with_secrets(settings)

        settings = with_secret_key(settings)

        async def migrate_only() -> int:
            if not settings.secret_keys and await credentials.any_with_credentials():
                raise UserFacingError(
                    "refusing to start in production: "
                    + missing_secret_key("production needs it to decrypt")
                )
            return 0

        run_with_database(migrate_only(), settings)
        workers = f" ({args.workers} worker processes)" if args.workers > 1 else ""
        print(f"serving GraphQL on http://{args.host}:{args.port}/graphql{workers}", flush=True)
        config = ServeConfig(
            settings,
            **uvicorn_options(settings),
            host=args.host,
            port=args.port,
            workers=args.workers,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        if args.workers == 1:
            uvicorn.Server(config).run(sockets=sockets)
        else:
            # Each worker is a process of its own (spawned: it builds the app afresh from the
            # settings resolved here), accepting on the same bound sockets; uvicorn's supervisor
            # replaces one that dies and passes SIGTERM on (each then shuts down gracefully).
            Multiprocess(config, sockets=sockets).run()
    finally:
        for sock in sockets:
            sock.close()
    return 0


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: a port is 1 to 65535")
    return port


MAX_WORKERS = 64


def worker_count(text: str) -> int:
    """An argparse type: how many processes serve, 1 to MAX_WORKERS."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{count} is out of range: 1 to {MAX_WORKERS} workers")
    return count


def duration(text: str) -> timedelta:
    """An argparse type: `30d`, `12h`, `90m`, `3600s`, `2w`."""
    try:
        return accounts.parse_duration(text)
    except Invalid as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def cmd_prune(args: argparse.Namespace, settings: Settings) -> int:
    async def prune() -> int:
        cutoff = datetime.now(UTC) - args.older_than
        deleted = await deliveries.prune(cutoff, batch_size=args.batch_size)
        print(
            f"deleted {deleted} webhook deliveries received before {cutoff:%Y-%m-%d %H:%M} UTC"
            " (deliveries still waiting for their shop, their after-sale or a replay are kept)"
        )
        return 0

    return run_with_database(prune(), settings)


def batch_size(text: str) -> int:
    """An argparse type: rows per batch, 1 to 100,000."""
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= size <= 100_000:
        raise argparse.ArgumentTypeError(f"{size} is out of range: 1 to 100000")
    return size


def cmd_sweep(args: argparse.Namespace, settings: Settings) -> int:
    return run_with_database(timers.sweep(args, settings), settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftersales",
        description="After-sales back office for TikTok Shop sellers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="create or upgrade the schema, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port_number, default=8000, help="1 to 65535")
    serve.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        help=f"processes serving the same port, 1 to {MAX_WORKERS} (default 1); each runs the"
        " jobs and has its own database pool",
    )
    serve.set_defaults(handler=cmd_serve)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(handler=cmd_migrate)

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
    add.set_defaults(handler=cmd_shops_add)

    listing = shops.add_parser("list", help="every shop with its seller, region and after-sales")
    listing.set_defaults(handler=cmd_shops_list)

    creds = shops.add_parser(
        "credentials",
        help="set, rotate or remove a shop's TikTok credentials (never printed)",
    )
    creds.add_argument("--shop-id", required=True, help="TikTok shop_id")
    _add_credential_arguments(creds)
    creds.add_argument(
        "--clear", action="store_true", help="remove the tokens and shop cipher: local-only"
    )
    creds.set_defaults(handler=cmd_shops_credentials)

    tokens = sub.add_parser("tokens", help="manage API tokens").add_subparsers(
        dest="tokens_command", required=True, metavar="ACTION"
    )
    create = tokens.add_parser("create", help="create an API token for a seller")
    create.add_argument("--seller", required=True)
    create.add_argument("--name", help="a label to tell the seller's tokens apart (100 at most)")
    create.add_argument(
        "--expires-in",
        type=duration,
        metavar="DURATION",
        help="e.g. 3600s, 90m, 12h, 30d or 2w (default: never expires)",
    )
    create.set_defaults(handler=cmd_tokens_create)

    token_list = tokens.add_parser(
        "list", help="a seller's tokens: id, name, created, expires, last used, revoked"
    )
    token_list.add_argument("--seller", required=True)
    token_list.set_defaults(handler=cmd_tokens_list)

    revoke = tokens.add_parser("revoke", help="revoke an API token (see `tokens list` for ids)")
    revoke.add_argument("id", type=int, help="the token's id")
    revoke.set_defaults(handler=cmd_tokens_revoke)

    sim = sub.add_parser(
        "simulate",
        help="send realistic signed TikTok and logistics traffic to a running service",
    )
    simulate.configure(sim)
    sim.set_defaults(handler=lambda args, settings: simulate.run(args, with_secrets(settings)))

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
        "--batch-size",
        type=batch_size,
        default=deliveries.PRUNE_BATCH,
        help=f"rows deleted per transaction (default {deliveries.PRUNE_BATCH})",
    )
    prune.set_defaults(handler=cmd_prune)

    sweep = sub.add_parser(
        "sweep",
        help="apply late parcel events, close expired dispute windows, once; print counts, exit",
    )
    timers.configure_sweep(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    sync = sub.add_parser(
        "sync",
        help="import a shop's returns from TikTok now (a first backfill with --since)",
    )
    sync.add_argument("--shop-id", required=True, help="TikTok's id of the shop")
    sync.add_argument(
        "--since",
        type=since_date,
        help="returns updated since then (ISO date or date-time); default: since the last poll",
    )
    sync.set_defaults(handler=cmd_sync)

    sandbox = sub.add_parser(
        "tiktok-sandbox",
        help="serve a stand-in TikTok Shop API (signed like TikTok's) for development",
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=port_number, required=True, help="1 to 65535")
    sandbox.add_argument(
        "--webhook-url", help="where the sandbox sends its webhooks (this service's endpoint)"
    )
    sandbox.set_defaults(handler=cmd_tiktok_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logs.configure(settings.log_format)  # text or JSON lines on stderr, request ids
        return int(args.handler(args, settings))
    except (ConfigError, CredentialsError, db.DatabaseUnavailable, UserFacingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
