"""The /graphql endpoint: GraphiQL for browsers; for everything else a bounded body, bearer-token
authentication, then refused NUL characters, lone surrogates and over-deep JSON (400), in front
of Strawberry's ASGI view. Nothing is read or parsed before the token is checked; a body must
arrive within READ_TIMEOUT_SECONDS (408).

It speaks GraphQL over HTTP (docs/graphql.md): POST with a JSON body, or GET with query
parameters for queries; the response is `application/json` (errors answered 200, as legacy
clients expect) or, when the client asks for it in `Accept`, `application/graphql-response+json`,
where a request that could not run at all (it did not parse or validate, or its variables did
not coerce) is answered 400 without a `data` entry."""

from __future__ import annotations

import contextvars
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from aftersales.settings import Settings
from api.auth import Unauthenticated, seller_of, unauthorized
from api.context import Context
from api.schema import schema_for
from webhooks.http import CLOSE, BodyTooLarge, BodyTooSlow, BodyUnreadable, read_body

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
        super().__init__(schema_for(fast_execution=settings.graphql_fast_execution), **kwargs)
        self.settings = settings
        self.clock = clock

    async def get_context(self, request: Any, response: Any) -> Context:
        seller_id = request.scope.get("state", {}).get("seller_id", 0)
        link = getattr(request.app.state, "tiktok", None)  # set by the lifespan (api/app.py)
        return Context(seller_id=seller_id, settings=self.settings, clock=self.clock, link=link)

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

    def encode_json(self, data: object) -> bytes:
        """orjson: several times faster than json on a page of 50; json for what orjson refuses
        (a lone surrogate in a string, an integer over 64 bits), so the answer is the same."""
        try:
            return orjson.dumps(data)
        except TypeError:
            return json.dumps(data, separators=(",", ":")).encode()

    def decode_json(self, data: str | bytes) -> object:
        """The body the endpoint parsed already (to check it) is not parsed a second time."""
        parsed = _parsed_body.get()
        if parsed is not None and parsed[0] == data:
            return parsed[1]
        try:
            return json.loads(data)
        except UnicodeDecodeError as exc:
            # Bytes that are not UTF-8 are malformed JSON too: Strawberry answers a
            # JSONDecodeError with its 400, anything else with a 500.
            raise json.JSONDecodeError(f"not UTF-8: {exc.reason}", "", 0) from exc

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


MAX_JSON_DEPTH = 64  # arrays and objects nested in a request body (variables included)

NUL_REFUSED = "NUL characters (\\u0000) are not allowed in requests"
SURROGATE_REFUSED = (
    "lone surrogates (\\ud800 to \\udfff without their pair) are not allowed in requests:"
    " send valid Unicode text"
)
TOO_DEEP = f"the request's JSON is nested more than {MAX_JSON_DEPTH} levels deep"

# In a GraphQL string, an odd number of backslashes before u0000 or u{0} is an escape for NUL.
_GRAPHQL_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u(?:0000|\{0+\})", re.IGNORECASE)
# A Unicode escape in a GraphQL string (\uXXXX or \u{X...}), after an even run of backslashes.
_GRAPHQL_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u(?:([0-9A-Fa-f]{4})|\{([0-9A-Fa-f]+)\})")
_SURROGATE = re.compile("[\ud800-\udfff]")


# The POST body the endpoint parsed, and what it parsed to, for `_View.decode_json`.
_parsed_body: contextvars.ContextVar[tuple[bytes, Any] | None] = contextvars.ContextVar(
    "graphql_parsed_body", default=None
)


def _refusal(body: bytes) -> str | None:
    """Why a POST body must not reach Strawberry (answered 400), or None.

    NUL cannot be stored in PostgreSQL text and a lone surrogate cannot be encoded as UTF-8 by
    either database, so both are refused in every input, on every database alike: raw, in a JSON
    string (variables), or escaped in the query text. JSON nested deeper than MAX_JSON_DEPTH is
    refused before anything recurses into it (Python's own parser raises RecursionError)."""
    if b"\x00" in body:
        return NUL_REFUSED
    try:
        payload = json.loads(body)
    except RecursionError:
        return TOO_DEEP
    except ValueError:
        return None  # Strawberry answers malformed JSON with its own 400
    _parsed_body.set((body, payload))
    return _operation_refusal(payload) if isinstance(payload, dict) else _scan(payload)


def _operation_refusal(operation: dict[str, Any]) -> str | None:
    """Why an operation (a POST body, or a GET's query parameters) is refused, or None."""
    refusal = _scan(operation)
    if refusal is not None:
        return refusal
    query = operation.get("query")
    if isinstance(query, str):
        if _GRAPHQL_NUL.search(query):
            return NUL_REFUSED
        if _has_lone_surrogate_escape(query):
            return SURROGATE_REFUSED
    variables = operation.get("variables")
    if isinstance(variables, str):  # a GET sends them as a JSON string
        try:
            return _scan(json.loads(variables), depth=1)
        except RecursionError:
            return TOO_DEEP
        except ValueError:
            return None  # Strawberry answers it with its own 400
    return None


def _scan(value: object, *, depth: int = 0) -> str | None:
    """Why a parsed JSON value is refused, or None: arrays and objects nested more than
    MAX_JSON_DEPTH levels (counting `depth` levels around it), or a string (keys included) with
    NUL or a lone surrogate. Level by level, without recursion."""
    level: list[Any] = [value]
    while level:
        nested: list[Any] = []
        for item in level:
            kind = type(item)  # json.loads makes exactly these types
            if kind is str:
                if "\x00" in item or (not item.isascii() and _SURROGATE.search(item)):
                    return NUL_REFUSED if "\x00" in item else SURROGATE_REFUSED
            elif kind is dict or kind is list:
                if depth >= MAX_JSON_DEPTH:
                    return TOO_DEEP
                nested.extend(item)  # a dict's keys
                if kind is dict:
                    nested.extend(item.values())
        level = nested
        depth += 1
    return None


def _has_lone_surrogate_escape(query: str) -> bool:
    """True when the query text escapes a surrogate that is not half of a pair: GraphQL pairs
    a leading \\uD800-\\uDBFF with a trailing \\uDC00-\\uDFFF written right after it; a
    surrogate is never valid in the \\u{...} form."""
    open_pair_end: int | None = None  # where a leading surrogate's escape ended
    for match in _GRAPHQL_ESCAPE.finditer(query):
        fixed = match.group(2) is not None
        code = int(match.group(2) or match.group(3), 16)
        if open_pair_end is not None:
            starts_at = match.start() + len(match.group(1))
            if fixed and 0xDC00 <= code <= 0xDFFF and starts_at == open_pair_end:
                open_pair_end = None
                continue
            return True
        if fixed and 0xD800 <= code <= 0xDBFF:
            open_pair_end = match.end()
        elif 0xD800 <= code <= 0xDFFF:
            return True
    return open_pair_end is not None


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
        self.settings = settings
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
        if request.method not in ("GET", "POST"):
            await JSONResponse(
                {"errors": [{"message": "send GraphQL queries with GET or POST"}]},
                status_code=405,
                headers={"Allow": "GET, POST"},
            )(scope, receive, send)
            return
        if request.method == "GET":
            # Nothing is parsed before the token is checked: a stranger's request costs little.
            if not await self._authenticated(request, scope, receive, send):
                return
            refusal = _operation_refusal(dict(request.query_params))
            if refusal is not None:
                await _refused(refusal)(scope, receive, send)
                return
            await self.view(scope, receive, send)
            return
        # The token first: a stranger's body is never read, let alone buffered or parsed.
        if not await self._authenticated(request, scope, receive, send):
            return
        try:
            body = await read_body(
                request, MAX_BODY_BYTES, deadline=self.settings.read_timeout.total_seconds()
            )
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
        except BodyTooSlow as exc:
            await JSONResponse({"errors": [{"message": str(exc)}]}, status_code=408, headers=CLOSE)(
                scope, receive, send
            )
            return
        refusal = _refusal(body)
        if refusal is not None:
            await _refused(refusal)(scope, receive, send)
            return
        await self.view(scope, _replay(body, receive), send)

    async def _authenticated(
        self, request: Request, scope: Scope, receive: Receive, send: Send
    ) -> bool:
        """True with the seller's id in the request's state; else answers 401 and is False."""
        try:
            seller_id = await seller_of(request)
        except Unauthenticated as exc:
            await unauthorized(exc)(scope, receive, send)
            return False
        scope.setdefault("state", {})["seller_id"] = seller_id
        return True


def _refused(message: str) -> Response:
    return JSONResponse({"errors": [{"message": message}]}, status_code=400)
