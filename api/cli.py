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
from aftersales.settings import ConfigError, Settings, load_settings
from aftersales.store import db
from aftersales.store.accounts import TokenRecord
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
    async def add() -> int:
        shop = await accounts.add_shop(
            args.seller,
            args.shop_id,
            args.region,
            args.name,
            access_token=args.access_token,
            shop_cipher=args.shop_cipher,
        )
        who = "new seller" if shop.seller_created else "seller"
        print(
            f"registered shop {shop.shop_id} ({shop.region}, {shop.name!r})"
            f" for {who} {args.seller!r}"
        )
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
        rows = [("SHOP ID", "SELLER", "REGION", "NAME", "AFTER-SALES")]
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
                    f"{total} ({counts})" if total else "0",
                )
            )
        _print_table(rows)
        return 0

    return run_with_database(show(), settings)


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

    from api.app import create_app

    check_production_secrets(settings)
    sockets = bind(args.host, args.port)
    try:
        settings = with_secrets(settings)

        async def migrate_only() -> int:
            return 0

        run_with_database(migrate_only(), settings)
        print(f"serving GraphQL on http://{args.host}:{args.port}/graphql", flush=True)
        config = uvicorn.Config(
            create_app(settings),
            host=args.host,
            port=args.port,
            log_level="info",
            log_config=None,  # uvicorn's lines go to api/logs.py's handler, in LOG_FORMAT
            access_log=False,  # api/logs.py writes the access line, with the request id
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        uvicorn.Server(config).run(sockets=sockets)
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


def duration(text: str) -> timedelta:
    """An argparse type: `30d`, `12h`, `90m`, `3600s`, `2w`."""
    try:
        return accounts.parse_duration(text)
    except Invalid as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


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
    add.add_argument("--access-token", help="TikTok API access token for this shop")
    add.add_argument("--shop-cipher", help="TikTok shop_cipher for this shop")
    add.set_defaults(handler=cmd_shops_add)

    listing = shops.add_parser("list", help="every shop with its seller, region and after-sales")
    listing.set_defaults(handler=cmd_shops_list)

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

    sweep = sub.add_parser(
        "sweep",
        help="apply late parcel events, close expired dispute windows, once; print counts, exit",
    )
    timers.configure_sweep(sweep)
    sweep.set_defaults(handler=cmd_sweep)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logs.configure(settings.log_format)  # text or JSON lines on stderr, request ids
        return int(args.handler(args, settings))
    except (ConfigError, db.DatabaseUnavailable, UserFacingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
