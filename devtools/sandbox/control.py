"""The sandbox's own routes (`/sandbox/...`): set up shops, returns and cancellations, move
them, queue faults, read the record of calls, set the redirect URL of its authorize page. Not
signed: the sandbox is a local tool.

JSON in, JSON out. Whatever a request gets wrong answers 400 (404 for an unknown shop or return
in the path) with `{"error": "…"}` naming it; nothing a request sends is stored unless it is
what the sandbox can use and send back.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devtools.sandbox import cancellations
from devtools.sandbox.records import Fault
from devtools.sandbox.returns import LAST_SECOND, problem
from devtools.sandbox.state import State
from devtools.sandbox.wire import JSON, NotJSON, parse

_SHOP_TEXTS = ("cipher", "access_token", "refresh_token", "name", "region")


def control_routes(state: State) -> list[Route]:
    """The control routes, bound to `state`."""

    def bound(handler: Callable[[State, Request], Awaitable[Response]]) -> Any:
        async def endpoint(request: Request) -> Response:
            return await handler(state, request)

        return endpoint

    return [
        Route("/sandbox/shops", bound(add_shop), methods=["POST"]),
        Route("/sandbox/shops/{shop_id}/expire-token", bound(expire_token), methods=["POST"]),
        Route("/sandbox/shops/{shop_id}/deauthorize", bound(deauthorize), methods=["POST"]),
        Route("/sandbox/shops/{shop_id}/expiring", bound(expiring), methods=["POST"]),
        Route("/sandbox/returns", bound(put_return), methods=["POST"]),
        Route("/sandbox/returns/{return_id}", bound(get_return), methods=["GET"]),
        Route("/sandbox/returns/{return_id}/status", bound(set_status), methods=["POST"]),
        Route("/sandbox/returns/{return_id}/edit", bound(edit_return), methods=["POST"]),
        Route("/sandbox/cancellations", bound(put_cancellation), methods=["POST"]),
        Route("/sandbox/cancellations/{cancel_id}", bound(get_cancellation), methods=["GET"]),
        Route(
            "/sandbox/cancellations/{cancel_id}/status",
            bound(move_cancellation),
            methods=["POST"],
        ),
        Route("/sandbox/cancellations/{cancel_id}/shipped", bound(mark_shipped), methods=["POST"]),
        Route("/sandbox/faults", bound(queue_faults), methods=["POST"]),
        Route("/sandbox/calls", bound(calls), methods=["GET"]),
        Route("/sandbox/redirect-url", bound(set_redirect_url), methods=["POST"]),
    ]


async def add_shop(state: State, request: Request) -> Response:
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    shop_id, expires = raw.get("shop_id"), raw.get("access_expires_at")
    if not isinstance(shop_id, str) or not shop_id:
        return _error("shop_id (a string) is required")
    for name in _SHOP_TEXTS:
        if raw.get(name) is not None and not isinstance(raw[name], str):
            return _error(f"{name} must be a string")
    if expires is not None and not _unix_seconds(expires):
        return _error(f"access_expires_at must be Unix seconds (0 to {LAST_SECOND})")
    shop = state.add_shop(
        shop_id,
        cipher=raw.get("cipher") or f"SBX_{secrets.token_urlsafe(12)}",
        access_token=raw.get("access_token") or "TTP_" + secrets.token_urlsafe(24),
        refresh_token=raw.get("refresh_token") or "TTP_" + secrets.token_urlsafe(24),
        access_expires_at=expires,
        name=raw.get("name") or "Sandbox shop",
        region=raw.get("region") or "ID",
    )
    return JSON(asdict(shop), 201)


async def expire_token(state: State, request: Request) -> Response:
    shop_id = str(request.path_params["shop_id"])
    if shop_id not in state.shops:
        return _error(f"unknown shop {shop_id}", 404)
    state.expire_token(shop_id)
    return JSON({"shop_id": shop_id, "access_expires_at": state.shops[shop_id].access_expires_at})


async def deauthorize(state: State, request: Request) -> Response:
    """The seller revokes the app: tokens dead, type 6 pushed (`{"webhook": false}`: not)."""
    shop_id = str(request.path_params["shop_id"])
    if shop_id not in state.shops:
        return _error(f"unknown shop {shop_id}", 404)
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    webhook = raw.get("webhook", True)
    if not isinstance(webhook, bool):
        return _error("webhook must be true or false")
    state.deauthorize(shop_id, webhook=webhook)
    return JSON({"shop_id": shop_id, "deauthorized": True, "webhook": webhook})


async def expiring(state: State, request: Request) -> Response:
    """Push a type 7: the authorization ends at `expiration_time` (default: the refresh
    token's end)."""
    shop_id = str(request.path_params["shop_id"])
    if shop_id not in state.shops:
        return _error(f"unknown shop {shop_id}", 404)
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    ends = raw.get("expiration_time")
    if ends is not None and not _unix_seconds(ends):
        return _error(f"expiration_time must be Unix seconds (0 to {LAST_SECOND})")
    announced = state.announce_expiry(shop_id, ends)
    return JSON({"shop_id": shop_id, "expiration_time": announced})


async def put_return(state: State, request: Request) -> Response:
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    shop_id, obj = raw.get("shop_id"), raw.get("return")
    if not isinstance(shop_id, str) or shop_id not in state.shops:
        return _error("shop_id must name a shop added with POST /sandbox/shops")
    if not isinstance(obj, dict):
        return _error("return (a Search Returns object) is required")
    wrong = problem(obj)
    if wrong is not None:
        return _error(wrong)
    return JSON(state.put_return(shop_id, obj), 201)


async def get_return(state: State, request: Request) -> Response:
    return_id = str(request.path_params["return_id"])
    if return_id not in state.returns:
        return _error(f"unknown return {return_id}", 404)
    return JSON(state.get_return(return_id))


async def set_status(state: State, request: Request) -> Response:
    return_id = str(request.path_params["return_id"])
    if return_id not in state.returns:
        return _error(f"unknown return {return_id}", 404)
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    status, role = raw.get("status"), raw.get("role", "BUYER")
    if not isinstance(status, str) or not status:
        return _error("status (a TikTok return_status) is required")
    if not isinstance(role, str) or not role:
        return _error("role must be a string: BUYER, SELLER or SYSTEM")
    return JSON(state.set_status(return_id, status, role=role))


async def edit_return(state: State, request: Request) -> Response:
    """The buyer edits the request: a new return replaces it (`Sandbox.edit_return`)."""
    return_id = str(request.path_params["return_id"])
    if return_id not in state.returns:
        return _error(f"unknown return {return_id}", 404)
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    return JSON(state.edit_return(return_id, raw), 201)


async def put_cancellation(state: State, request: Request) -> Response:
    """A cancellation started by its `role` (BUYER by default), pushed as a type 11 unless
    `"webhook": false` (a lost webhook, for the poll to repair)."""
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    shop_id, obj, webhook = (
        raw.get("shop_id"),
        raw.get("cancellation", {}),
        raw.get("webhook", True),
    )
    if not isinstance(shop_id, str) or shop_id not in state.shops:
        return _error("shop_id must name a shop added with POST /sandbox/shops")
    if not isinstance(obj, dict):
        return _error("cancellation (a Search Cancellations object) must be an object")
    if not isinstance(webhook, bool):
        return _error("webhook must be true or false")
    wrong = cancellations.problem(obj)
    if wrong is not None:
        return _error(wrong)
    return JSON(state.put_cancellation(shop_id, obj, webhook=webhook), 201)


async def get_cancellation(state: State, request: Request) -> Response:
    cancel_id = str(request.path_params["cancel_id"])
    if cancel_id not in state.cancellations:
        return _error(f"unknown cancellation {cancel_id}", 404)
    return JSON(state.get_cancellation(cancel_id))


async def move_cancellation(state: State, request: Request) -> Response:
    """The buyer withdraws (CANCELLATION_REQUEST_CANCELLED), TikTok approves on its own
    (…_SUCCESS) or refunds (…_COMPLETE)."""
    cancel_id = str(request.path_params["cancel_id"])
    if cancel_id not in state.cancellations:
        return _error(f"unknown cancellation {cancel_id}", 404)
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    status, webhook = raw.get("status"), raw.get("webhook", True)
    if status not in cancellations.STATUSES:
        return _error(f"status must be one of {', '.join(cancellations.STATUSES)}")
    if not isinstance(webhook, bool):
        return _error("webhook must be true or false")
    return JSON(state.move_cancellation(cancel_id, status, webhook=webhook))


async def mark_shipped(state: State, request: Request) -> Response:
    """The order has shipped: Approve Cancellation answers 25001045 from now on."""
    cancel_id = str(request.path_params["cancel_id"])
    if cancel_id not in state.cancellations:
        return _error(f"unknown cancellation {cancel_id}", 404)
    state.mark_shipped(cancel_id)
    return JSON({"cancel_id": cancel_id, "shipped": True})


async def queue_faults(state: State, request: Request) -> Response:
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    needle, faults = raw.get("path_contains"), raw.get("faults")
    if not isinstance(needle, str) or not isinstance(faults, list):
        return _error("path_contains (a string) and faults (a list) are required")
    try:
        parsed = [Fault.from_json(item) for item in faults]
    except ValueError as exc:
        return _error(f"bad fault: {exc}")
    state.fail(needle, *parsed)
    return JSON({"queued": len(parsed)}, 201)


async def set_redirect_url(state: State, request: Request) -> Response:
    """Where the authorize page sends sellers back (the app's registered redirect URL)."""
    raw = await _json_object(request)
    if isinstance(raw, Response):
        return raw
    url = raw.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return _error("url (an http:// or https:// URL) is required")
    state.redirect_url = url
    return JSON({"redirect_url": url})


async def calls(state: State, request: Request) -> Response:
    return JSON([call.to_json() for call in state.calls])


def _unix_seconds(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= LAST_SECOND


def _error(message: str, status: int = 400) -> Response:
    return JSON({"error": message}, status)


async def _json_object(request: Request) -> dict[str, Any] | Response:
    try:
        raw = parse(await request.body() or b"{}")
    except NotJSON as exc:
        return _error(str(exc))
    if not isinstance(raw, dict):
        return _error("the body must be a JSON object")
    return raw
