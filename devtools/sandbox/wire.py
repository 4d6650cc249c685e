"""JSON in and out of every route, and a TikTok-route request read once.

Parsing is strict where Python's `json` is lenient, so that nothing the sandbox stores or records
can later fail to render: `NaN` and `Infinity` are not JSON, and nesting too deep for the parser
is refused rather than raised. Rendering escapes everything outside ASCII, so a lone surrogate
(valid as a JSON escape, not as UTF-8) comes back as the escape it arrived as.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class NotJSON(ValueError):
    """A body that is not one JSON value the sandbox can store and send back."""


def _no_constant(name: str) -> Any:
    raise NotJSON(f"{name} is not JSON")


def parse(raw: bytes) -> Any:
    """The JSON value in `raw`, or NotJSON saying why not."""
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise NotJSON("the body is nested too deeply") from None
    except NotJSON:
        raise
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise NotJSON("the body is not JSON") from None


class JSON(JSONResponse):
    """A JSON response in ASCII, so any string the sandbox holds can be sent."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


@dataclass
class Incoming:
    """A TikTok-route request, read once: the raw body (signatures cover its bytes), the query,
    and the body parsed (the decoded text when it is not JSON)."""

    request: Request
    raw: bytes
    query: dict[str, str]
    body: Any


async def read(request: Request) -> Incoming:
    raw = await request.body()
    body: Any = None
    if raw:
        try:
            body = parse(raw)
        except NotJSON:
            body = raw.decode("utf-8", "replace")
    return Incoming(request=request, raw=raw, query=dict(request.query_params), body=body)


def is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == "application/json"
