"""Bearer-token authentication, for /graphql and the label download alike."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import Headers

from aftersales.commands import accounts

AUTH_HINT = (
    "send the header 'Authorization: Bearer <token>'; create a token with"
    " `aftersales tokens create --seller NAME`"
)


class Unauthenticated(Exception):
    """No seller: the message says what is wrong with the Authorization header."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def authenticate(headers: Headers) -> int:
    """The seller id the request's bearer token belongs to, or `Unauthenticated`.

    Expiry is checked against the wall clock, not the app's injected one: tokens are created,
    listed and expire in real time, whatever clock the after-sales rules run with."""
    header = headers.get("authorization", "")
    if not header:
        raise Unauthenticated("missing Authorization header: " + AUTH_HINT)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    seller_id = await accounts.authenticate(token.strip(), now=datetime.now(UTC))
    if seller_id is None:
        raise Unauthenticated("unknown, expired or revoked token: " + AUTH_HINT)
    return seller_id
