"""The `aftersales` command line. Every command reads the environment (docs/configuration.md).

The CLI is a composition root too: it imports the commands of the webhooks (`simulate`) and the
scheduler (`sweep`) directly, and registers nothing at run time."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aftersales.commands import accounts
from aftersales.domain.errors import DomainError
from aftersales.settings import ConfigError, Settings, load_settings
from aftersales.store import db
from scheduler import commands as timers
from webhooks import registration, simulate

log = logging.getLogger("aftersales")

Handler = Callable[[argparse.Namespace, Settings], int]


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


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def done() -> int:
        print("database schema is up to date")
        return 0

    return run_with_database(done(), settings)


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
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            padded = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            print("  ".join([*padded, row[-1]]))
        return 0

    return run_with_database(show(), settings)


def cmd_tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create() -> int:
        token = await accounts.create_token(args.seller)
        print(
            f"new API token for seller {args.seller!r}"
            " (shown once; send it as 'Authorization: Bearer <token>'):"
        )
        print(token)
        return 0

    return run_with_database(create(), settings)


def with_secrets(settings: Settings) -> Settings:
    """The webhook secrets, for the commands that sign or check webhooks. Production refuses to
    go on without them; development takes the missing ones from its local secrets file
    (created once, mode 600, beside the SQLite database) and says where it is."""
    if not settings.missing_secrets():
        return settings
    if settings.is_production:
        raise UserFacingError(
            "refusing to start in production without "
            + ", ".join(settings.missing_secrets())
            + ": set them in the environment"
        )
    filled, local = settings.with_local_secrets()
    done = "generated local secrets in" if local.generated else "local secrets from"
    print(
        f"development mode: {done} {local.path}"
        " (the environment overrides them; production never uses the file)",
        flush=True,
    )
    return filled


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.app import create_app

    settings = with_secrets(settings)

    async def migrate_only() -> int:
        return 0

    run_with_database(migrate_only(), settings)
    print(f"serving GraphQL on http://{args.host}:{args.port}/graphql", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


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
    serve.add_argument("--port", type=int, default=8000)
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
    create.set_defaults(handler=cmd_tokens_create)

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
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Tortoise narrates every connect and shutdown at INFO: noise around a command's one line.
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
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
