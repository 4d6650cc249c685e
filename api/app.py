"""The application factory: the composition root that joins GraphQL, webhooks and timers.

Routes: /health, /graphql (and GraphiQL's assets), /labels/{id}.pdf, /webhooks/tiktok,
/webhooks/logistics, /health/jobs, /healthz, /readyz, /metrics. The lifespan connects to the
database and runs the scheduler. Every request gets a request id and an access line (api/logs.py)
and is counted (api/metrics.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aftersales.settings import Settings
from aftersales.store import db
from api import logs, metrics, playground, probes
from api.endpoint import GraphQLEndpoint
from api.labels import download
from scheduler import health, service
from webhooks import endpoints


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
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await db.connect(settings.database_url)
        try:
            async with contextlib.AsyncExitStack() as stack:
                if run_jobs:
                    await stack.enter_async_context(service.running(settings, clock))
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
        *endpoints.routes(settings, clock),
        *health.routes(settings, clock),
        *probes.routes(),
        *metrics.routes(),
    ]
    middleware = [
        Middleware(logs.RequestContextMiddleware),  # outermost: its id is on every line below
        Middleware(metrics.MetricsMiddleware),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
