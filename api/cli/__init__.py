"""The `aftersales` command line. Every command reads the environment (docs/configuration.md).

One module per group of subcommands, each with a `configure` that adds its parsers; this one
assembles them and runs the chosen handler. The CLI is a composition root too: it imports the
commands of the webhooks (`simulate`) and the scheduler (`sweep`) directly, and registers
nothing at run time."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aftersales.domain.errors import DomainError
from aftersales.settings import ConfigError, Settings, load_settings
from aftersales.store import db
from aftersales.store.credentials import CredentialsError
from api import logs
from api.cli import database, serve, shops, sync, tokens, tools
from api.cli.runner import UserFacingError, run_with_database
from scheduler import commands as timers


def cmd_sweep(args: argparse.Namespace, settings: Settings) -> int:
    return run_with_database(timers.sweep(args, settings), settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftersales",
        description="After-sales back office for TikTok Shop sellers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.configure(sub)
    database.configure(sub)
    shops.configure(sub)
    tokens.configure(sub)
    tools.configure_simulate(sub)
    database.configure_prune(sub)

    sweep = sub.add_parser(
        "sweep",
        help="apply late parcel events, close expired dispute windows, once; print counts, exit",
    )
    timers.configure_sweep(sweep)
    sweep.set_defaults(handler=cmd_sweep)

    sync.configure(sub)
    tools.configure_sandbox(sub)
    return parser


def _not_utf8(argv: Sequence[str]) -> int | None:
    """The position of the first argument that is not UTF-8, if any. Python keeps such bytes as
    lone surrogates, which every database driver refuses deep inside a query."""
    for position, arg in enumerate(argv, start=1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return position
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    position = _not_utf8(argv)
    if position is not None:
        print(
            f"error: argument {position} is not valid UTF-8 text: check the terminal's encoding",
            file=sys.stderr,
        )
        return 1
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
