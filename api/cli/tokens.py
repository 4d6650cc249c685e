"""`aftersales tokens create | list | revoke`: a seller's API tokens."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from aftersales.commands import accounts
from aftersales.settings import Settings
from aftersales.store.accounts import TokenRecord
from api.cli.arguments import duration
from api.cli.output import print_table, when
from api.cli.runner import run_with_database


def configure(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def _token_label(token: TokenRecord) -> str:
    return f"API token {token.id}" + (f" ({token.name!r})" if token.name else "")


def cmd_tokens_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create() -> int:
        expires_at = datetime.now(UTC) + args.expires_in if args.expires_in else None
        new = await accounts.issue_token(args.seller, name=args.name, expires_at=expires_at)
        token = new.record
        print(
            f"new {_token_label(token)} for seller {token.seller!r},"
            f" expires {when(token.expires_at, never='never')}"
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
            expires = when(token.expires_at, never="never")
            if token.expires_at is not None and token.expires_at <= now:
                expires += " (expired)"
            rows.append(
                (
                    str(token.id),
                    token.name or "-",
                    when(token.created_at),
                    expires,
                    when(token.last_used_at, never="never"),
                    when(token.revoked_at),
                )
            )
        print_table(rows)
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
                f" ({when(token.revoked_at)}); nothing changed"
            )
        return 0

    return run_with_database(revoke(), settings)
