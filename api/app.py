"""The application factory: the composition root that joins GraphQL, webhooks and timers.

Routes: /health, /graphql (and GraphiQL's assets), /labels/{id}.pdf, /webhooks/tiktok,
/webhooks/logistics, /oauth/tiktok/callback, /health/jobs, /healthz, /readyz, /metrics. The
lifespan connects to the database and runs the scheduler. Every request gets a request id and an
access line (api/logs.py) and is counted (api/metrics.py).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aftersales.settings import Settings
from aftersales.store import db
from api import logs, metrics, oauth, playground, probes
from api.auth import OperatorOnly
from api.endpoint import GraphQLEndpoint
from api.labels import download
from api.server import settle_heap
from api.triage import export
from scheduler import health, service, tiktok
from webhooks import endpoints


class ServeConfig(uvicorn.Config):
    """How `aftersales serve` runs uvicorn: the app built from `settings` when the server
    loads it, so that with `--workers N` each worker process (spawned: it receives this
    config pickled) builds its own app, scheduler and database pool from the very settings the
    parent resolved. uvicorn's own access log is off (api/logs.py writes the access line, with
    the request id) and its other lines go through api/logs.py's handler, in LOG_FORMAT. The
    event loop, parser and limits come with `options` (api/server.py, `uvicorn_options`)."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        self.settings = settings  # before uvicorn's __init__, which configures logging
        super().__init__(
            "api.app:create_app",  # a placeholder: `load` builds the app from the settings
            log_level="info",
            log_config=None,
            access_log=False,
            **options,
        )

    def configure_logging(self) -> None:
        super().configure_logging()
        if not logging.getLogger().handlers:  # a spawned worker starts with no handler
            logs.configure(self.settings.log_format)

    def load(self) -> None:
        self.app = create_app(self.settings)
        super().load()
        settle_heap()  # in the process that serves (each worker's own, with --workers N)


# What OPERATOR_TOKEN protects: what a process knows about itself. /healthz and /health stay
# open for load balancers and orchestrators that send no token.
OPERATOR_PATHS = frozenset({"/metrics", "/health/jobs", "/readyz"})


def utcnow() -> datetime:
    return datetime.now(UTC)


async def ok(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    manage_database: bool = True,
    run_jobs: bool = True,
) -> Starlette:
    """The ASGI app. With `manage_database`, it connects on startup and closes on shutdown
    (the schema must be migrated first: `aftersales serve` does it); with `run_jobs`, the
    scheduler runs while it serves."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await db.connect(settings.database_url)
        # The TikTok link (None in local-only mode): the sync jobs and GraphQL share it.
        link = app.state.tiktok = tiktok.build_link(settings, clock)
        try:
            async with contextlib.AsyncExitStack() as stack:
                if link is not None:
                    stack.push_async_callback(link.aclose)
                if run_jobs:
                    await stack.enter_async_context(service.running(settings, clock, link=link))
                yield
        finally:
            if manage_database:
                await db.close()

    graphiql_html = playground.page() if settings.graphiql else None
    graphql = GraphQLEndpoint(settings, clock, graphiql_html=graphiql_html)
    routes = [
        Route("/health", ok),
        Route("/graphql", graphql),
        *(playground.routes() if settings.graphiql else []),
        *download.routes(clock),
        *export.routes(clock),
        *endpoints.routes(settings, clock),
        *oauth.routes(settings, clock),
        *health.routes(settings, clock),
        *probes.routes(),
        *metrics.routes(settings, clock),
    ]
    middleware = [
        Middleware(logs.RequestContextMiddleware),  # outermost: its id is on every line below
        Middleware(metrics.MetricsMiddleware),
    ]
    if settings.operator_token:  # else the operator endpoints are open (an internal listener)
        middleware.append(
            Middleware(OperatorOnly, token=settings.operator_token, paths=OPERATOR_PATHS)
        )
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
