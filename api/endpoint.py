"""The /graphql endpoint: GraphiQL for browsers; for everything else a bounded body, refused NUL
characters and bearer-token authentication in front of Strawberry's ASGI view."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL

from aftersales.settings import Settings
from api.auth import Unauthenticated, authenticate
from api.context import Context
from api.schema import schema
from webhooks.http import BodyTooLarge, BodyUnreadable, read_body

MAX_BODY_BYTES = 256 * 1024


class _View(GraphQL[Context, None]):
    def __init__(self, settings: Settings, clock: Callable[[], datetime], **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.settings = settings
        self.clock = clock

    async def get_context(self, request: Any, response: Any) -> Context:
        seller_id = request.scope.get("state", {}).get("seller_id", 0)
        return Context(seller_id=seller_id, settings=self.settings, clock=self.clock)


def _unauthorized(message: str) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


# In a GraphQL string, an odd number of backslashes before u0000 or u{0} is an escape for NUL.
_GRAPHQL_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u(?:0000|\{0+\})", re.IGNORECASE)


def _has_nul(body: bytes) -> bool:
    """NUL cannot be stored in PostgreSQL text, so it is refused in every input, on every
    database alike: raw, in a JSON string (variables), or escaped in the query text."""
    if b"\x00" in body:
        return True
    try:
        payload = json.loads(body)
    except ValueError:
        return False  # Strawberry answers malformed JSON with its own 400
    if not isinstance(payload, dict):
        return False
    query = payload.get("query")
    if isinstance(query, str) and ("\x00" in query or _GRAPHQL_NUL.search(query)):
        return True
    return _contains_nul(payload.get("variables"))


def _contains_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands out the body already read, then defers to the real one."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class GraphQLEndpoint:
    """ASGI app: GraphiQL for browsers, token-checked GraphQL for everything else."""

    def __init__(
        self, settings: Settings, clock: Callable[[], datetime], graphiql_html: str
    ) -> None:
        self.view = _View(settings, clock, graphql_ide=None, allow_queries_via_get=False)
        self.graphiql_html = graphiql_html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            await HTMLResponse(self.graphiql_html)(scope, receive, send)
            return
        if request.method != "POST":
            await JSONResponse(
                {"errors": [{"message": "send GraphQL operations with POST"}]},
                status_code=405,
                headers={"Allow": "GET, POST"},
            )(scope, receive, send)
            return
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            await JSONResponse(
                {"errors": [{"message": f"request body over {MAX_BODY_BYTES} bytes"}]},
                status_code=413,
            )(scope, receive, send)
            return
        except BodyUnreadable as exc:
            await JSONResponse({"errors": [{"message": str(exc)}]}, status_code=400)(
                scope, receive, send
            )
            return
        if _has_nul(body):
            await JSONResponse(
                {"errors": [{"message": "NUL characters (\\u0000) are not allowed in requests"}]},
                status_code=400,
            )(scope, receive, send)
            return
        receive = _replay(body, receive)
        try:
            seller_id = await authenticate(request.headers)
        except Unauthenticated as exc:
            await _unauthorized(exc.message)(scope, receive, send)
            return
        scope.setdefault("state", {})["seller_id"] = seller_id
        await self.view(scope, receive, send)
