"""Bearer-token authentication: one way every route learns who asks, and one 401 body.

- Sellers: `seller_of(request)` is the seller whose token the request carries (/graphql, GET
  and POST alike, and the label download), or `Unauthenticated`; `unauthorized(exc)` is the one
  answer to that, whatever the route.
- Operators: with OPERATOR_TOKEN set, `OperatorOnly` lets through /metrics, /health/jobs and
  /readyz only with that token (docs/configuration.md#endpoints-for-operators); unset, they are
  open, for a listener that only the internal network reaches.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from aftersales.commands import accounts

AUTH_HINT = (
    "send the header 'Authorization: Bearer <token>'; create a token with"
    " `aftersales tokens create --seller NAME`"
)
OPERATOR_HINT = "send the header 'Authorization: Bearer <OPERATOR_TOKEN>'"


class Unauthenticated(Exception):
    """No seller: the message says what is wrong with the Authorization header."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def unauthorized(exc: Unauthenticated) -> Response:
    """The 401 of every route: a GraphQL-shaped error, so clients parse one body."""
    return JSONResponse(
        {"errors": [{"message": exc.message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _bearer(headers: Headers, hint: str) -> str:
    header = headers.get("authorization", "")
    if not header:
        raise Unauthenticated("missing Authorization header: " + hint)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


async def seller_of(connection: HTTPConnection) -> int:
    """The seller id the request's bearer token belongs to, or `Unauthenticated`.

    Expiry is checked against the wall clock, not the app's injected one: tokens are created,
    listed and expire in real time, whatever clock the after-sales rules run with."""
    token = _bearer(connection.headers, AUTH_HINT)
    seller_id = await accounts.authenticate(token, now=datetime.now(UTC))
    if seller_id is None:
        raise Unauthenticated("unknown, expired or revoked token: " + AUTH_HINT)
    return seller_id


class OperatorOnly:
    """ASGI middleware: requests to `paths` need `Authorization: Bearer <token>` (compared in
    constant time); everything else passes untouched."""

    def __init__(self, app: ASGIApp, *, token: str, paths: frozenset[str]) -> None:
        self.app = app
        self.token = token.encode()
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            try:
                given = _bearer(Headers(scope=scope), OPERATOR_HINT)
                if not hmac.compare_digest(given.encode(), self.token):
                    raise Unauthenticated("wrong operator token: " + OPERATOR_HINT)
            except Unauthenticated as exc:
                await unauthorized(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)
