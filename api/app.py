"""The application factory: the composition root that wires GraphQL, webhooks and timers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from aftersales.settings import Settings
from aftersales.store import db
from api import playground, wiring
from api.graphql_app import GraphQLEndpoint


def utcnow() -> datetime:
    return datetime.now(UTC)


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utcnow,
    manage_database: bool = True,
    run_jobs: bool = True,
) -> Starlette:
    """The ASGI app. With `manage_database`, it connects on startup and closes on shutdown
    (the schema must be migrated first: `aftersales serve` does it)."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if manage_database:
            await db.connect(settings.database_url)
        try:
            async with wiring.background(settings, clock, run_jobs=run_jobs):
                yield
        finally:
            if manage_database:
                await db.close()

    graphql = GraphQLEndpoint(settings, clock, graphiql_html=playground.page())
    routes = [
        Route("/health", health),
        Route("/graphql", graphql),
        *playground.routes(),
        *wiring.routes(settings, clock),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    return app
