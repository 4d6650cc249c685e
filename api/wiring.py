"""The composition root's plug board: where the webhooks and the scheduler join the app and CLI.

Each edge package exposes plain functions; this module is the only place (with api.app and
api.cli) allowed to import more than one edge.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from starlette.routing import BaseRoute

from aftersales.settings import Settings


def register() -> None:
    """Called once by the CLI before parsing arguments: extra commands and hooks."""
    from api import cli
    from webhooks import registration, simulate

    if registration.apply_waiting_deliveries not in cli.SHOP_REGISTERED_HOOKS:
        cli.SHOP_REGISTERED_HOOKS.append(registration.apply_waiting_deliveries)
    cli.EXTRA_COMMANDS["simulate"] = (
        "send realistic signed TikTok and logistics traffic to a running service",
        simulate.configure,
        simulate.run,
    )

    from scheduler import commands

    cli.EXTRA_COMMANDS["sweep"] = (
        "apply late parcel events, close expired dispute windows, once; print counts, exit",
        commands.configure_sweep,
        lambda args, settings: cli.run_with_database(commands.sweep(args, settings), settings),
    )


def routes(settings: Settings, clock: Callable[[], datetime]) -> list[BaseRoute]:
    """HTTP routes contributed by the edges (webhooks, health of jobs, labels, ...)."""
    from api import labels  # the return-label download (GET /labels/{id}.pdf)
    from scheduler import health  # GET /health/jobs
    from webhooks import endpoints  # POST /webhooks/tiktok and /webhooks/logistics

    return [
        *labels.routes(clock),
        *endpoints.routes(settings, clock),
        *health.routes(settings, clock),
    ]


@contextlib.asynccontextmanager
async def background(
    settings: Settings, clock: Callable[[], datetime], *, run_jobs: bool
) -> AsyncIterator[None]:
    """Background work started with the server and stopped with it (the scheduler)."""
    from scheduler import service

    async with contextlib.AsyncExitStack() as stack:
        if run_jobs:
            await stack.enter_async_context(service.running(settings, clock))
        yield
