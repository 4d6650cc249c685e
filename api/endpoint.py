"""The /graphql endpoint: GraphiQL for browsers; for everything else a bounded body, refused NUL
characters and bearer-token authentication in front of Strawberry's ASGI view.

It speaks GraphQL over HTTP (docs/graphql.md): POST with a JSON body, or GET with query
parameters for queries; the response is `application/json` (errors answered 200, as legacy
clients expect) or, when the client asks for it in `Accept`, `application/graphql-response+json`,
where a request that could not run at all (it did not parse or validate, or its variables did
not coerce) is answered 400 without a `data` entry."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from aftersales.settings import Settings
from api.auth import Unauthenticated, authenticate
from api.context import Context
from api.schema import schema
from webhooks.http import BodyTooLarge, BodyUnreadable, read_body

MAX_BODY_BYTES = 256 * 1024


JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def response_media_type(accept: str) -> str:
    """`application/graphql-response+json` when `Accept` names it and prefers it (by q-value)
    to `application/json`; otherwise `application/json`, also for `*/*` or no header."""
    preference: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        preference[media.lower()] = max(quality, preference.get(media.lower(), 0.0))
    wanted = preference.get(GRAPHQL_RESPONSE, 0.0)
    legacy = max(preference.get(JSON, 0.0), preference.get("application/*", 0.0))
    return GRAPHQL_RESPONSE if wanted > 0 and wanted >= legacy else JSON


def _is_request_error(result: ExecutionResult) -> bool:
    """Nothing ran: the document did not parse or validate, or the variables did not coerce.
    (Errors raised while resolving fields carry a path.)"""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


class _View(GraphQL[Context, None]):
    def __init__(self, settings: Settings, clock: Callable[[], datetime], **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.settings = settings
        self.clock = clock

    async def get_context(self, request: Any, response: Any) -> Context:
        seller_id = request.scope.get("state", {}).get("seller_id", 0)
        return Context(seller_id=seller_id, settings=self.settings, clock=self.clock)

    async def get_sub_response(self, request: Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept", ""))
        request.state.sub_response = sub_response
        return sub_response

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as exc:
            # A mutation sent with GET: the method is wrong, not the request (405, not 400).
            if isinstance(exc.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, exc.reason) from exc.__cause__
            raise

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        sub_response: Response = request.state.sub_response
        if sub_response.media_type == GRAPHQL_RESPONSE and _is_request_error(result):
            sub_response.status_code = 400
            processed.pop("data", None)
        return processed

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = Response(
            self.encode_json(response_data),
            status_code=sub_response.status_code or 200,
            media_type=sub_response.media_type or JSON,
        )
        kept = (b"content-type", b"content-length")
        response.headers.raw.extend(h for h in sub_response.headers.raw if h[0] not in kept)
        if sub_response.background:
            response.background = sub_response.background
        return response


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
    return isinstance(payload, dict) and _operation_has_nul(payload)


def _operation_has_nul(operation: dict[str, Any]) -> bool:
    query = operation.get("query")
    if isinstance(query, str) and ("\x00" in query or _GRAPHQL_NUL.search(query)):
        return True
    variables = operation.get("variables")
    if isinstance(variables, str):  # a GET sends them as a JSON string
        if "\x00" in variables:
            return True
        try:
            variables = json.loads(variables)
        except ValueError:
            return False  # Strawberry answers it with its own 400
    return _contains_nul(variables) or _contains_nul(operation.get("operationName"))


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
        self, settings: Settings, clock: Callable[[], datetime], graphiql_html: str | None
    ) -> None:
        self.view = _View(settings, clock, graphql_ide=None, allow_queries_via_get=True)
        self.graphiql_html = graphiql_html

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
            if self.graphiql_html is None:
                off = "the GraphiQL playground is turned off here (GRAPHIQL=off)"
                await JSONResponse({"errors": [{"message": off}]}, status_code=404)(
                    scope, receive, send
                )
                return
            await HTMLResponse(self.graphiql_html)(scope, receive, send)
            return
        if request.method == "GET":
            if _operation_has_nul(dict(request.query_params)):
                await _nul_refused()(scope, receive, send)
                return
            await self._authenticated(request, scope, receive, send)
            return
        if request.method != "POST":
            await JSONResponse(
                {"errors": [{"message": "send GraphQL queries with GET or POST"}]},
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
            await _nul_refused()(scope, receive, send)
            return
        await self._authenticated(request, scope, _replay(body, receive), send)

    async def _authenticated(
        self, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> None:
        try:
            seller_id = await authenticate(request.headers)
        except Unauthenticated as exc:
            await _unauthorized(exc.message)(scope, receive, send)
            return
        scope.setdefault("state", {})["seller_id"] = seller_id
        await self.view(scope, receive, send)


def _nul_refused() -> Response:
    return JSONResponse(
        {"errors": [{"message": "NUL characters (\\u0000) are not allowed in requests"}]},
        status_code=400,
    )
