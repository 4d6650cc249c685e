"""The developer tools run through the CLI: `aftersales simulate` (signed webhook traffic to a
running service) and `aftersales tiktok-sandbox` (a stand-in TikTok Shop API)."""

from __future__ import annotations

import argparse

from aftersales.settings import Settings
from api.cli.arguments import port_number
from api.cli.runner import UserFacingError
from api.cli.secrets_setup import with_secrets
from devtools import simulate


def configure_simulate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser(
        "simulate",
        help="send realistic signed TikTok and logistics traffic to a running service",
    )
    simulate.configure(sim)
    sim.set_defaults(handler=lambda args, settings: simulate.run(args, with_secrets(settings)))


def configure_sandbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sandbox = sub.add_parser(
        "tiktok-sandbox",
        help="serve a stand-in TikTok Shop API (signed like TikTok's) for development",
    )
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=port_number, required=True, help="1 to 65535")
    sandbox.add_argument(
        "--webhook-url", help="where the sandbox sends its webhooks (this service's endpoint)"
    )
    sandbox.add_argument(
        "--redirect-url",
        help="where its authorize page sends sellers back, e.g."
        " http://127.0.0.1:8000/oauth/tiktok/callback (the app's registered redirect URL)",
    )
    sandbox.set_defaults(handler=cmd_tiktok_sandbox)


def cmd_tiktok_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    """The stand-in TikTok API, with the app key and secret the service uses (the environment's,
    or in development the local secrets file), so both agree without anything exported."""
    from devtools.sandbox import run_sandbox

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
        redirect_url=args.redirect_url,
    )
    return 0
