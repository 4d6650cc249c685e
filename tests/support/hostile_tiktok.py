"""A small, hostile TikTok API for tests, served over real HTTP (`serving(hostile.app)`): it
answers like TikTok by default and, for requests a rule matches, in ways TikTok should not (a
NUL in a message, JSON deeper than Python's recursion limit, an integer over 64 bits in a return
object, an answer that never ends or never stops growing). Signatures are not checked: the
project's sandbox does that; this one only misbehaves.

    hostile = Hostile()
    hostile.rules["ciphA"] = "deep_json"   # any request whose path, query or body contains it
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

REFUSED = 25011012  # a business error code TikTok does not ask us to retry


def envelope(data: Any = None, *, code: int = 0, message: str = "Success") -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": "hostile", "data": data or {}}


def return_object(return_id: str, **extra: Any) -> dict[str, Any]:
    """A complete Search Returns object of a pending refund-only request."""
    line = {
        "return_line_item_id": return_id + "1",
        "order_line_item_id": return_id + "2",
        "sku_id": "111",
        "seller_sku": "MUG-1",
        "product_name": "Blue mug",
        "refund_amount": {"currency": "IDR", "refund_total": "40000.00"},
    }
    return {
        "return_id": return_id,
        "order_id": return_id + "0",
        "return_type": "REFUND",
        "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
        "role": "BUYER",
        "refund_amount": {"currency": "IDR", "refund_total": "40000.00"},
        "return_line_items": [line],
        "return_reason_text": "Arrived broken",
        "create_time": 1_795_000_000,
        "update_time": 1_795_000_000,
    } | extra


@dataclass
class Seen:
    method: str
    path: str
    query: str
    body: str


@dataclass
class Hostile:
    rules: dict[str, str] = field(default_factory=dict)  # needle -> behaviour; first wins
    returns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # cipher -> objects
    seen: list[Seen] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])

    def calls_to(self, needle: str) -> list[Seen]:
        return [s for s in self.seen if needle in s.path + "?" + s.query + s.body]

    async def _handle(self, request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", "replace")
        seen = Seen(request.method, request.url.path, request.url.query, raw)
        self.seen.append(seen)
        where = seen.path + "?" + seen.query + seen.body
        behaviour = next((b for needle, b in self.rules.items() if needle in where), "ok")
        return await _BEHAVIOURS[behaviour](self, request, raw)

    async def ok(self, request: Request, raw: str) -> Response:
        path = request.url.path
        if path.endswith("/returns/search"):
            wanted = (json.loads(raw or "{}") or {}).get("return_ids")
            objs = self.returns.get(request.query_params.get("shop_cipher") or "", [])
            objs = [o for o in objs if not wanted or o.get("return_id") in wanted]
            data = {"return_orders": objs, "next_page_token": "", "total_count": len(objs)}
            return _json(envelope(data))
        if path.endswith("/cancellations/search"):  # searched beside the returns: none here
            return _json(envelope({"cancellations": [], "next_page_token": "", "total_count": 0}))
        if path.endswith(("/approve", "/reject")):
            return _json(envelope({}))
        if path.endswith("/token/refresh"):
            far = 1_900_000_000
            tokens = {"access_token": "TTP_new", "refresh_token": "TTP_new_refresh"}
            expiries = {"access_token_expire_in": far, "refresh_token_expire_in": far}
            return _json(envelope(tokens | expiries))
        return _json(envelope(code=36009009, message="Invalid path."))


def _json(obj: Any) -> Response:
    return Response(json.dumps(obj), media_type="application/json")


def _text(text: str) -> Response:
    return Response(text.encode("utf-8", "surrogatepass"), media_type="application/json")


async def _nul_message(h: Hostile, r: Request, raw: str) -> Response:
    return _json(envelope(code=REFUSED, message="refused\u0000with a NUL"))


async def _surrogate_message(h: Hostile, r: Request, raw: str) -> Response:
    text = '{"code": REFUSED, "message": "refused \\ud800 here", "request_id": "x"}'
    return _text(text.replace("REFUSED", str(REFUSED)))


async def _big_message(h: Hostile, r: Request, raw: str) -> Response:
    return _json(envelope(code=REFUSED, message="M" * 900_000))


async def _deep_json(h: Hostile, r: Request, raw: str) -> Response:
    return _text('{"code": 0, "data": ' + "[" * 50_000 + "]" * 50_000 + "}")


async def _bigint_field(h: Hostile, r: Request, raw: str) -> Response:
    answer = await h.ok(r, raw)
    data = json.loads(bytes(answer.body))
    for obj in data["data"].get("return_orders", []):
        obj["order_id"] = 10**30
    return _json(data)


async def _surrogate_field(h: Hostile, r: Request, raw: str) -> Response:
    answer = await h.ok(r, raw)
    text = bytes(answer.body).decode()
    return _text(text.replace('"return_id"', '"weird": "\\udc80", "return_id"', 1))


async def _drip(h: Hostile, r: Request, raw: str) -> Response:
    """Headers at once, then one byte of body every half second, forever."""

    async def body() -> AsyncIterator[bytes]:
        while True:
            yield b" "
            await asyncio.sleep(0.5)

    return StreamingResponse(body(), media_type="application/json")


async def _huge(h: Hostile, r: Request, raw: str) -> Response:
    """Whitespace without end before any JSON: 1 MiB at a time."""

    async def body() -> AsyncIterator[bytes]:
        chunk = b" " * (1024 * 1024)
        for _ in range(1024):
            yield chunk
        yield json.dumps(envelope({})).encode()

    return StreamingResponse(body(), media_type="application/json")


_BEHAVIOURS = {
    "ok": Hostile.ok,
    "nul_message": _nul_message,
    "surrogate_message": _surrogate_message,
    "big_message": _big_message,
    "deep_json": _deep_json,
    "bigint_field": _bigint_field,
    "surrogate_field": _surrogate_field,
    "drip": _drip,
    "huge": _huge,
}
