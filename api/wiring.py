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


def routes(settings: Settings, clock: Callable[[], datetime]) -> list[BaseRoute]:
    """HTTP routes contributed by the edges (webhooks, health of jobs, labels, ...)."""
    return []


@contextlib.asynccontextmanager
async def background(
    settings: Settings, clock: Callable[[], datetime], *, run_jobs: bool
) -> AsyncIterator[None]:
    """Background work started with the server and stopped with it (the scheduler)."""
    yield
