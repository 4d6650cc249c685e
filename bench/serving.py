"""How the bare baselines are served: one uvicorn process, as `aftersales serve` runs, with
`/health` and one asyncpg pool (DATABASE_URL) for their handlers."""

from __future__ import annotations

import argparse
import importlib.util
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Bare:
    """A bare baseline's routes and the pool they use (`bare.pool`, open while it serves)."""

    def __init__(self, *routes: Route) -> None:
        self.routes = [*routes, Route("/health", _health)]
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "the pool opens with the app's lifespan"
        return self._pool

    def app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            self._pool = await asyncpg.create_pool(
                os.environ["DATABASE_URL"], min_size=1, max_size=10
            )
            try:
                yield
            finally:
                await self._pool.close()

        return Starlette(routes=self.routes, lifespan=lifespan)

    def main(self, description: str | None) -> None:
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--port", type=int, required=True)
        serve(self.app(), parser.parse_args().port)


async def _health(_: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


def serve(app: Starlette, port: int) -> None:
    fast = {
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
    }
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning", **fast)
