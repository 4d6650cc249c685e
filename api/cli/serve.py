"""`aftersales serve`: bind the port, migrate, then serve HTTP (one process or several)."""

from __future__ import annotations

import argparse
import errno
import socket

from aftersales.commands.credentials import any_shop_has_credentials
from aftersales.settings import Settings, missing_secret_key
from aftersales.store.urls import describe
from api.cli.arguments import MAX_WORKERS, port_number, worker_count
from api.cli.runner import UserFacingError, run_with_database
from api.cli.secrets_setup import with_secret_key, with_secrets

# On SIGTERM, requests in flight get this long to finish before they are cancelled; then the
# scheduler stops (an in-flight job run is cancelled and rolls back) and the database closes.
# Webhooks answer in milliseconds (TikTok gives up after 3 s); keep the orchestrator's grace
# period above it (Kubernetes' default 30 s is).
GRACEFUL_SHUTDOWN_SECONDS = 10


def configure(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.app import ServeConfig
    from api.server import uvicorn_options

    settings.check_production()
    sockets = bind(args.host, args.port)
    try:
        settings = with_secrets(settings)

        settings = with_secret_key(settings)

        async def migrate_only() -> int:
            if not settings.secret_keys and await any_shop_has_credentials():
                raise UserFacingError(
                    "refusing to start in production: "
                    + missing_secret_key("production needs it to decrypt")
                )
            return 0

        run_with_database(migrate_only(), settings)
        # One line an operator can grep for: which mode, which database (never the password).
        print(f"{settings.environment} mode: database {describe(settings.database_url)}")
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
