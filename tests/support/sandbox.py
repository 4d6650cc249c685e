"""The TikTok sandbox (and any other ASGI app) served by a real uvicorn on loopback, inside the
test's own event loop, so tests talk to it over real HTTP and can still poke its state."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from devtools.sandbox import Sandbox
from tests.support.eventually import eventually_async

APP_KEY = "sbx-app-key"
APP_SECRET = "sbx-app-secret-do-not-leak"
SHOP_ID = "7494049642642441621"
CIPHER = "ROW_sandbox-cipher"
ACCESS_TOKEN = "TTP_access-token-do-not-leak"
REFRESH_TOKEN = "TTP_refresh-token-do-not-leak"


@asynccontextmanager
async def serving(
    app: Any, *, host: str = "127.0.0.1", date_header: bool = True
) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port for the block; yields its base URL. `date_header`
    False: the app sends its own `Date` (the sandbox, from its clock)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        date_header=date_header,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:

        def started() -> bool:
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError("uvicorn stopped before it started")
            return bool(server.started)

        await eventually_async(started, what="uvicorn starts", seconds=10, every=0.005)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def serving_sandbox(sandbox: Sandbox) -> AsyncIterator[str]:
    """`serving(sandbox.app)`, and wait for its webhook pushes before stopping."""
    async with serving(sandbox.app, date_header=False) as base_url:
        try:
            yield base_url
        finally:
            await sandbox.wait_for_webhooks()
