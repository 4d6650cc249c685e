"""Reading a request body within a size limit: the one reader of every endpoint (the webhooks
here, /graphql in api). A chunked body has no Content-Length to check up front, so the limit
is enforced while reading too."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


class BodyUnreadable(Exception):
    """The body could not be read (a bad Content-Length, the client went away)."""


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise BodyUnreadable("Content-Length is not a number")
        if int(declared) > limit:
            raise BodyTooLarge(limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise BodyTooLarge(limit)
    except ClientDisconnect:
        raise BodyUnreadable("the client went away before sending the whole body") from None
    return bytes(body)
