"""Bearer-token authentication, for /graphql and the label download alike."""

from __future__ import annotations

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
    """The seller id the request's bearer token belongs to, or `Unauthenticated`."""
    header = headers.get("authorization", "")
    if not header:
        raise Unauthenticated("missing Authorization header: " + AUTH_HINT)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    seller_id = await accounts.authenticate(token.strip())
    if seller_id is None:
        raise Unauthenticated("unknown or revoked token: " + AUTH_HINT)
    return seller_id
