"""A local stand-in for the TikTok Shop Partner API (docs/tiktok-sandbox.md): the ASGI app.

It answers the calls `aftersales.tiktok.client` makes, over real HTTP, with TikTok's envelopes
and documented error codes, and checks every request the way TikTok does (app key, timestamp
window, signature, access token, shop cipher). Returns and cancellations live in memory;
decisions move them through TikTok's statuses, and each status change can be pushed as a signed
type-12 (type-11) webhook, as TikTok pushes it. Tests drive it through `Sandbox`'s methods;
people drive it through the unsigned `/sandbox/...` routes (it is a local tool: anyone who can
reach it can change it).

Faults can be queued per path (an HTTP status, a TikTok error code, or a delay) to rehearse what
a real integration meets: rate limits, outages, timeouts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from devtools.sandbox import authorize, routes
from devtools.sandbox.checks import check
from devtools.sandbox.control import control_routes
from devtools.sandbox.envelope import BAD_METHOD, BAD_PATH, Answer, request_id
from devtools.sandbox.records import Call
from devtools.sandbox.state import State
from devtools.sandbox.wire import JSON, Incoming, read

SHOP_ROUTE = True  # acts for the shop of its shop_cipher
APP_ROUTE = False  # acts for the app: no shop_cipher


class Sandbox(State):
    """In-memory TikTok: shops, returns, faults and a record of calls, plus the ASGI `app`."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        now: Callable[[], float] = time.time,
        webhook_url: str | None = None,
        log: Callable[[str], None] | None = None,
        redirect_url: str | None = None,
    ) -> None:
        super().__init__(
            app_key,
            app_secret,
            now=now,
            webhook_url=webhook_url,
            log=log,
            redirect_url=redirect_url,
        )
        self.app = self._build_app()

    def authorize(self, oauth_state: str, *shop_ids: str) -> str:
        """What a seller's click on the authorize page does: the redirect URL with a new code
        for these shops (all of them when none is named) and `oauth_state`."""
        if self.redirect_url is None:
            raise ValueError("the sandbox has no redirect URL")
        return authorize.redirect_to(self, oauth_state, authorize.issue_code(self, shop_ids))

    def _build_app(self) -> Starlette:
        def signed(path: str, handler: routes.Handler, shop_route: bool, method: str) -> Route:
            async def endpoint(request: Request) -> Response:
                return await self._serve(request, handler, shop_route)

            return Route(path, endpoint, methods=[method])

        returns, decision = "/return_refund/202309", "{return_id}/{verb:str}"
        tiktok = [
            signed(f"{returns}/returns/search", routes.search, SHOP_ROUTE, "POST"),
            signed(f"{returns}/returns/{decision}", routes.decide, SHOP_ROUTE, "POST"),
            signed(
                f"{returns}/cancellations/search", routes.search_cancellations, SHOP_ROUTE, "POST"
            ),
            signed(
                f"{returns}/cancellations/{decision}",
                routes.decide_cancellation,
                SHOP_ROUTE,
                "POST",
            ),
            signed(f"{returns}/reject_reasons", routes.reject_reasons, SHOP_ROUTE, "GET"),
            signed("/authorization/202309/shops", routes.authorized_shops, APP_ROUTE, "GET"),
            Route("/api/v2/token/refresh", self._refresh, methods=["GET"]),
            Route("/api/v2/token/get", self._get_token, methods=["GET"]),
            Route("/open/authorize", self._page(authorize.authorize_page), methods=["GET"]),
            Route("/open/authorize/grant", self._page(authorize.grant), methods=["GET"]),
        ]
        handlers: dict[Any, Any] = {HTTPException: _http_exception}
        return Starlette(routes=tiktok + control_routes(self), exception_handlers=handlers)

    async def _serve(self, request: Request, handler: routes.Handler, shop_route: bool) -> Response:
        incoming = await read(request)
        faulted = await self._apply_fault(incoming)
        if faulted is not None:
            return faulted
        checked = check(self, incoming, shop_route)
        if isinstance(checked, Answer):
            return self._answer(incoming, checked)
        return self._answer(incoming, routes.guarded(handler, self, incoming, checked))

    async def _refresh(self, request: Request) -> Response:
        incoming = await read(request)
        faulted = await self._apply_fault(incoming)
        if faulted is not None:
            return faulted
        return self._answer(incoming, routes.refresh(self, incoming.query))

    async def _get_token(self, request: Request) -> Response:
        incoming = await read(request)
        faulted = await self._apply_fault(incoming)
        if faulted is not None:
            return faulted
        return self._answer(incoming, authorize.get_token(self, incoming.query))

    def _page(self, handler: Callable[[State, Request], Response]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            return handler(self, request)

        return endpoint

    async def _apply_fault(self, incoming: Incoming) -> Response | None:
        fault = self.next_fault(incoming.request.url.path)
        if fault is None:
            return None
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            return None
        if fault.kind == "code":
            answer = Answer(fault.error_code or 0, fault.message, http_status=fault.status)
            return self._answer(incoming, answer)
        self._record(incoming, None, False, fault.status)
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        return PlainTextResponse(f"{fault.status} {_phrase(fault.status)}", fault.status, headers)

    def _answer(self, incoming: Incoming, answer: Answer) -> Response:
        self._record(incoming, answer.code, answer.changed, answer.http_status)
        response = JSON(answer.envelope(self.seconds()), answer.http_status)
        # TikTok's own time, as TikTok's gateway sends it: a client whose timestamp is refused
        # (36009004) corrects its clock from it. Served with uvicorn's own Date header off.
        response.headers["Date"] = formatdate(self.seconds(), usegmt=True)
        return response

    def _record(self, incoming: Incoming, code: int | None, changed: bool, status: int) -> None:
        query = {
            key: ("***" if key in ("app_secret", "refresh_token", "auth_code") else value)
            for key, value in incoming.query.items()
        }
        call = Call(
            method=incoming.request.method,
            path=incoming.request.url.path,
            query=query,
            body=incoming.body,
            idempotency_key=incoming.query.get("idempotency_key"),
            code=code,
            changed=changed,
            http_status=status,
        )
        self.calls.append(call)
        mark = " (changed)" if changed else ""
        self.log(f"{call.method} {call.path} -> HTTP {status} code {code}{mark}")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer as TikTok's gateway does, with an envelope."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        body = {"code": BAD_METHOD, "message": "Invalid method."}
    else:
        body = {"code": BAD_PATH, "message": "Invalid path."}
    return JSON(body | {"request_id": request_id(int(time.time()))}, status)


def build_sandbox(
    app_key: str,
    app_secret: str,
    *,
    now: Callable[[], float] = time.time,
    webhook_url: str | None = None,
    log: Callable[[str], None] | None = None,
    redirect_url: str | None = None,
) -> Sandbox:
    """A fresh, empty sandbox; serve `.app` with any ASGI server."""
    return Sandbox(
        app_key, app_secret, now=now, webhook_url=webhook_url, log=log, redirect_url=redirect_url
    )


def run_sandbox(
    *,
    host: str,
    port: int,
    app_key: str,
    app_secret: str,
    webhook_url: str | None,
    log: Callable[[str], None],
    redirect_url: str | None = None,
) -> None:
    """Serve a fresh sandbox with uvicorn until interrupted (blocks)."""
    sandbox = build_sandbox(
        app_key, app_secret, webhook_url=webhook_url, log=log, redirect_url=redirect_url
    )
    log(f"TikTok sandbox on http://{host}:{port} for app key {app_key}")
    if webhook_url:
        log(f"pushing webhooks (types 6, 7, 11 and 12) to {webhook_url}")
    if redirect_url:
        log(f"its authorize page (/open/authorize) sends sellers back to {redirect_url}")
    config = uvicorn.Config(
        sandbox.app, host=host, port=port, log_level="warning", lifespan="off", date_header=False
    )
    uvicorn.Server(config).run()
