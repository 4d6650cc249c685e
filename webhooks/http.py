"""Reading a request body within a size limit and a deadline: the one reader of every endpoint
(the webhooks here, /graphql in api). A chunked body has no Content-Length to check up front, so
the size limit is enforced while reading too; a body that trickles in is cut off at the deadline
(408), so a stranger cannot hold a connection and a buffer open by sending slowly."""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect, Request

# Sent with a 408: the rest of the body may still be on its way, so the connection cannot be
# reused for another request.
CLOSE = {"Connection": "close"}


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


class BodyUnreadable(Exception):
    """The body could not be read (a bad Content-Length, the client went away)."""


class BodyTooSlow(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the body did not arrive within {seconds:g} seconds")
        self.seconds = seconds


async def read_body(request: Request, limit: int, *, deadline: float) -> bytes:
    """The raw body, refusing more than `limit` bytes whatever Content-Length claims, and a
    body not complete within `deadline` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BodyUnreadable("Content-Length is not a number")
        if int(declared) > limit:
            raise BodyTooLarge(limit)
    body = bytearray()
    try:
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise BodyTooLarge(limit)
    except ClientDisconnect:
        raise BodyUnreadable("the client went away before sending the whole body") from None
    except TimeoutError:
        raise BodyTooSlow(deadline) from None
    return bytes(body)
