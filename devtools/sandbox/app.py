"""A local stand-in for the TikTok Shop Partner API (docs/tiktok-sandbox.md).

It answers the calls `aftersales.tiktok.client` makes, over real HTTP, with TikTok's envelopes
and documented error codes, and checks every request the way TikTok does (app key, timestamp
window, signature, access token, shop cipher). Returns live in memory; decisions move them through
TikTok's statuses, and each status change can be pushed as a signed type-12 webhook, as TikTok
pushes it. Tests drive it through `Sandbox`'s methods; people drive it through the unsigned
`/sandbox/...` routes (it is a local tool: anyone who can reach it can change it).

Faults can be queued per path (an HTTP status, a TikTok error code, or a delay) to rehearse what
a real integration meets: rate limits, outages, timeouts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import json
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, Literal

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from aftersales.tiktok.signing import signature_ok, webhook_signature

logger = logging.getLogger("devtools.sandbox")

DAY = 24 * 3600
ACCESS_TOKEN_LIFETIME = 7 * DAY
REFRESH_TOKEN_LIFETIME = 30 * DAY
RESPONSE_WINDOW = 2 * DAY
TIMESTAMP_PAST_SLACK = 300  # TikTok: no earlier than 5 minutes before now
TIMESTAMP_FUTURE_SLACK = 30  # ... and no later than 30 seconds after
WEBHOOK_TIMEOUT = 5.0

# return_type
REFUND = "REFUND"
RETURN_AND_REFUND = "RETURN_AND_REFUND"
REPLACEMENT = "REPLACEMENT"

# return_status, spelled as TikTok's Search Returns and type-12 webhook documentation spell them
PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"
REJECTED = "REFUND_OR_RETURN_REQUEST_REJECT"
AWAITING_BUYER_SHIP = "AWAITING_BUYER_SHIP"
BUYER_SHIPPED_ITEM = "BUYER_SHIPPED_ITEM"
REJECT_RECEIVE_PACKAGE = "REJECT_RECEIVE_PACKAGE"
SUCCESS = "RETURN_OR_REFUND_REQUEST_SUCCESS"
COMPLETE = "RETURN_OR_REFUND_REQUEST_COMPLETE"
CANCELLED = "RETURN_OR_REFUND_REQUEST_CANCEL"
AWAITING_BUYER_RESPONSE = "AWAITING_BUYER_RESPONSE"
REPLACEMENT_PENDING = "REPLACEMENT_REQUEST_PENDING"
REPLACEMENT_REJECT = "REPLACEMENT_REQUEST_REJECT"
REPLACEMENT_REFUND_SUCCESS = "REPLACEMENT_REQUEST_REFUND_SUCCESS"
REPLACEMENT_CANCEL = "REPLACEMENT_REQUEST_CANCEL"
REPLACEMENT_COMPLETE = "REPLACEMENT_REQUEST_COMPLETE"

CANCELLED_STATUSES = frozenset({CANCELLED, REPLACEMENT_CANCEL})
APPROVED_STATUSES = frozenset(
    {
        AWAITING_BUYER_SHIP,
        BUYER_SHIPPED_ITEM,
        SUCCESS,
        COMPLETE,
        REPLACEMENT_COMPLETE,
        REPLACEMENT_REFUND_SUCCESS,
    }
)

# Envelope codes. TikTok documents all of these but the last two blocks, which are the sandbox's.
OK = 0
BAD_CREDENTIALS = 36009004  # bad app_key, timestamp, missing sign, unknown access token
BAD_SIGN = 106001
TOKEN_EXPIRED = 105002
TOKEN_NOT_FOR_SHOP = 101000
CIPHER_MISSING = 106013
BAD_PATH = 36009009
BAD_METHOD = 36009010
BAD_FORMAT = 36009022
BAD_PARAM = 25001001
NOT_FOUND = 25007006
CANNOT_APPROVE_APPLICATION = 25011012
CANNOT_APPROVE_RECEIVE = 25011013
WRONG_TYPE = 25020004
CANCELLED_ALREADY = 25020009
APPROVED_ALREADY = 25020010
BAD_REFRESH_TOKEN = 36004014  # the sandbox's own: unknown or expired refresh token

SHOP_ROUTE = True
APP_ROUTE = False

# Made up for the sandbox, in the style of TikTok's reason names (one is from TikTok's sample).
REJECT_REASONS: tuple[tuple[str, str], ...] = (
    ("seller_reject_apply_product_has_been_used", "The product has been used"),
    (
        "seller_reject_apply_you_have_reached_an_agreement_with_the_buyer",
        "You have reached an agreement with the buyer",
    ),
    ("seller_reject_apply_product_is_not_defective", "The product is not damaged or defective"),
    (
        "seller_reject_apply_missing_proof_of_issue",
        "The buyer did not provide photos or videos of the issue",
    ),
    (
        "seller_reject_receive_package_not_the_item_sold",
        "The returned item is not the item sold",
    ),
)
REJECT_REASON_NAMES = frozenset(name for name, _ in REJECT_REASONS)


@dataclass(frozen=True)
class Rule:
    """What a decision needs and does: its verb, the return types and statuses it applies to."""

    verb: Literal["approve", "reject"]
    types: frozenset[str]
    from_statuses: frozenset[str]
    to_status: str
    receive: bool = False


def _rule(
    verb: Literal["approve", "reject"], types: set[str], froms: set[str], to: str, **kw: bool
) -> Rule:
    return Rule(verb, frozenset(types), frozenset(froms), to, **kw)


ALL_TYPES = {REFUND, RETURN_AND_REFUND, REPLACEMENT}
DECISIONS: dict[str, Rule] = {
    "APPROVE_RETURN": _rule("approve", {RETURN_AND_REFUND}, {PENDING}, AWAITING_BUYER_SHIP),
    "REJECT_RETURN": _rule("reject", {RETURN_AND_REFUND}, {PENDING}, REJECTED),
    "APPROVE_REFUND": _rule("approve", {REFUND}, {PENDING}, SUCCESS),
    "REJECT_REFUND": _rule("reject", {REFUND}, {PENDING}, REJECTED),
    "OFFER_PARTIAL_REFUND": _rule(
        "approve", ALL_TYPES, {PENDING, REPLACEMENT_PENDING}, AWAITING_BUYER_RESPONSE
    ),
    "APPROVE_RECEIVED_PACKAGE": _rule(
        "approve", {RETURN_AND_REFUND}, {BUYER_SHIPPED_ITEM}, SUCCESS, receive=True
    ),
    "REJECT_RECEIVED_PACKAGE": _rule(
        "reject", {RETURN_AND_REFUND}, {BUYER_SHIPPED_ITEM}, REJECT_RECEIVE_PACKAGE, receive=True
    ),
    "APPROVE_REPLACEMENT": _rule(
        "approve", {REPLACEMENT}, {REPLACEMENT_PENDING}, REPLACEMENT_COMPLETE
    ),
    "REJECT_REPLACEMENT": _rule("reject", {REPLACEMENT}, {REPLACEMENT_PENDING}, REPLACEMENT_REJECT),
    "ISSUE_REPLACEMENT_REFUND": _rule(
        "approve", {REPLACEMENT}, {REPLACEMENT_PENDING}, REPLACEMENT_REFUND_SUCCESS
    ),
}

NEXT_ACTIONS: dict[tuple[str, str], str] = {
    (REFUND, PENDING): "SELLER_RESPOND_REFUND",
    (RETURN_AND_REFUND, PENDING): "SELLER_RESPOND_RETURN",
    (RETURN_AND_REFUND, BUYER_SHIPPED_ITEM): "SELLER_RESPOND_RECEIVE_PACKAGE",
    (REPLACEMENT, REPLACEMENT_PENDING): "SELLER_RESPOND_REPLACEMENT",
}


# ---------------------------------------------------------------------------------------------
# What the sandbox holds and records


@dataclass
class Shop:
    """An authorized shop and its current tokens (expiries are Unix seconds)."""

    shop_id: str
    cipher: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: int
    refresh_expires_at: int
    name: str = "Sandbox shop"
    region: str = "ID"


@dataclass(frozen=True)
class Fault:
    """One injected failure, consumed by one matching request (see `Sandbox.fail`)."""

    kind: Literal["http", "code", "delay"]
    status: int = 200
    error_code: int | None = None
    message: str = ""
    seconds: float = 0.0
    retry_after: float | None = None

    @classmethod
    def http(cls, status: int, *, retry_after: float | None = None) -> Fault:
        """Answer with this HTTP status and a plain-text body, as a gateway would."""
        return cls("http", status=status, retry_after=retry_after)

    @classmethod
    def code(cls, code: int, message: str, *, status: int = 200) -> Fault:
        """Answer with TikTok's envelope carrying this code, changing nothing."""
        return cls("code", status=status, error_code=code, message=message)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait this long, then handle the request normally (to provoke client timeouts)."""
        return cls("delay", seconds=seconds)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Fault:
        kind = raw.get("kind")
        if kind == "http":
            retry_after = raw.get("retry_after")
            return cls.http(int(raw["status"]), retry_after=_opt_float(retry_after))
        if kind == "code":
            return cls.code(int(raw["code"]), str(raw.get("message") or ""))
        if kind == "delay":
            return cls.delay(float(raw["seconds"]))
        raise ValueError("a fault's kind is http, code or delay")


@dataclass(frozen=True)
class Call:
    """One request the sandbox received and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    idempotency_key: str | None
    code: int | None  # the envelope code answered; None when a fault answered without one
    changed: bool
    http_status: int = 200

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WebhookPush:
    """One type-12 webhook the sandbox tried to deliver."""

    body: bytes
    status: int | None
    error: str | None


@dataclass(frozen=True)
class Answer:
    """What a TikTok route answers: an envelope code, message, data, and whether state moved."""

    code: int
    message: str = "Success"
    data: dict[str, Any] | None = None
    changed: bool = False
    http_status: int = 200


def _refuse(code: int, message: str) -> Answer:
    return Answer(code=code, message=message)


@dataclass
class _Incoming:
    """A TikTok-route request, read once."""

    request: Request
    raw: bytes
    query: dict[str, str]
    body: Any


# ---------------------------------------------------------------------------------------------
# The sandbox


class Sandbox:
    """In-memory TikTok: shops, returns, faults and a record of calls, plus the ASGI `app`."""

    def __init__(
        self,
        app_key: str,
        app_secret: str,
        *,
        now: Callable[[], float] = time.time,
        webhook_url: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.app_key = app_key
        self.app_secret = app_secret
        self.now = now
        self.webhook_url = webhook_url
        self.log: Callable[[str], None] = log or logger.info
        self.shops: dict[str, Shop] = {}
        self.returns: dict[str, dict[str, Any]] = {}
        self.return_shop: dict[str, str] = {}
        self.calls: list[Call] = []
        self.webhooks: list[WebhookPush] = []
        self._faults: list[tuple[str, list[Fault]]] = []
        self._idempotent: dict[tuple[str, str], Answer] = {}
        self._pushes: set[asyncio.Task[None]] = set()
        self.app = self._build_app()

    # --- Python API for tests ------------------------------------------------------------

    def add_shop(
        self,
        shop_id: str,
        *,
        cipher: str,
        access_token: str,
        refresh_token: str,
        access_expires_at: int | None = None,
        name: str = "Sandbox shop",
        region: str = "ID",
    ) -> Shop:
        """Authorize a shop with these tokens (the access token lasts 7 days unless told)."""
        now = self._now()
        shop = Shop(
            shop_id=shop_id,
            cipher=cipher,
            access_token=access_token,
            refresh_token=refresh_token,
            access_expires_at=now + ACCESS_TOKEN_LIFETIME
            if access_expires_at is None
            else access_expires_at,
            refresh_expires_at=now + REFRESH_TOKEN_LIFETIME,
            name=name,
            region=region,
        )
        self.shops[shop_id] = shop
        return shop

    def put_return(self, shop_id: str, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Store (or replace) a Search Returns object for a shop; missing fields get defaults."""
        if shop_id not in self.shops:
            raise KeyError(f"unknown shop {shop_id}")
        complete = _with_defaults(obj, self._now())
        return_id = complete["return_id"]
        self.returns[return_id] = complete
        self.return_shop[return_id] = shop_id
        return copy.deepcopy(complete)

    def get_return(self, return_id: str) -> dict[str, Any]:
        """A copy of a return as Search Returns would show it."""
        return copy.deepcopy(self.returns[return_id])

    def set_status(self, return_id: str, status: str, *, role: str = "BUYER") -> dict[str, Any]:
        """Move a return as a buyer or TikTok would (bumps update_time, pushes a webhook)."""
        obj = self.returns[return_id]
        self._move(obj, status, role)
        return copy.deepcopy(obj)

    def expire_token(self, shop_id: str) -> None:
        """Make the shop's current access token expired (105002 from now on)."""
        self.shops[shop_id].access_expires_at = self._now() - 1

    def fail(self, path_contains: str, *faults: Fault) -> None:
        """Queue faults for requests whose path contains `path_contains`, one per request."""
        self._faults.append((path_contains, list(faults)))

    async def wait_for_webhooks(self) -> None:
        """Wait until every webhook push started so far has finished (delivered or not)."""
        while self._pushes:
            await asyncio.gather(*list(self._pushes), return_exceptions=True)

    # --- state changes -------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.now())

    def _move(self, obj: dict[str, Any], status: str, role: str) -> None:
        obj["return_status"] = status
        obj["update_time"] = max(self._now(), int(obj.get("create_time") or 0))
        obj["seller_next_action_response"] = _next_actions(obj)
        self._push_webhook(obj, role)

    def _push_webhook(self, obj: Mapping[str, Any], role: str) -> None:
        if not self.webhook_url:
            return
        shop_id = self.return_shop[str(obj["return_id"])]
        body = _webhook_body(shop_id, obj, role, self._now())
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._deliver(self.webhook_url, body))
            return
        task = loop.create_task(self._deliver(self.webhook_url, body))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _deliver(self, url: str, body: bytes) -> None:
        headers = {
            "Authorization": webhook_signature(self.app_key, self.app_secret, body),
            "Content-Type": "application/json",
        }
        try:
            async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self.webhooks.append(WebhookPush(body, None, type(exc).__name__))
            self.log(f"webhook not delivered: {type(exc).__name__}")
            return
        self.webhooks.append(WebhookPush(body, response.status_code, None))
        if response.status_code != 200:
            self.log(f"webhook answered HTTP {response.status_code}")

    # --- the ASGI app --------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        tiktok = [
            Route(
                "/return_refund/202309/returns/search",
                self._route(self._search, SHOP_ROUTE),
                methods=["POST"],
            ),
            Route(
                "/return_refund/202309/returns/{return_id}/{verb:str}",
                self._route(self._decide, SHOP_ROUTE),
                methods=["POST"],
            ),
            Route(
                "/return_refund/202309/reject_reasons",
                self._route(self._reject_reasons, SHOP_ROUTE),
                methods=["GET"],
            ),
            Route(
                "/authorization/202309/shops",
                self._route(self._authorized_shops, APP_ROUTE),
                methods=["GET"],
            ),
            Route("/api/v2/token/refresh", self._refresh, methods=["GET"]),
        ]
        control = [
            Route("/sandbox/shops", self._control_add_shop, methods=["POST"]),
            Route(
                "/sandbox/shops/{shop_id}/expire-token",
                self._control_expire_token,
                methods=["POST"],
            ),
            Route("/sandbox/returns", self._control_put_return, methods=["POST"]),
            Route("/sandbox/returns/{return_id}", self._control_get_return, methods=["GET"]),
            Route(
                "/sandbox/returns/{return_id}/status",
                self._control_set_status,
                methods=["POST"],
            ),
            Route("/sandbox/faults", self._control_fail, methods=["POST"]),
            Route("/sandbox/calls", self._control_calls, methods=["GET"]),
        ]
        handlers: Mapping[Any, Any] = {HTTPException: _http_exception}
        return Starlette(routes=tiktok + control, exception_handlers=dict(handlers))

    def _route(
        self, handler: Callable[[_Incoming, Shop], Answer], shop_route: bool
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await self._serve(request, handler, shop_route)

        return endpoint

    async def _serve(
        self, request: Request, handler: Callable[[_Incoming, Shop], Answer], shop_route: bool
    ) -> Response:
        incoming = await _read(request)
        faulted = await self._apply_fault(incoming)
        if faulted is not None:
            return faulted
        checked = self._check(incoming, shop_route)
        answer = checked if isinstance(checked, Answer) else _guard(handler, incoming, checked)
        return self._answer(incoming, answer)

    async def _apply_fault(self, incoming: _Incoming) -> Response | None:
        fault = self._next_fault(incoming.request.url.path)
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
        phrase = _phrase(fault.status)
        return PlainTextResponse(f"{fault.status} {phrase}", fault.status, headers=headers)

    def _next_fault(self, path: str) -> Fault | None:
        for index, (needle, queued) in enumerate(self._faults):
            if needle in path and queued:
                fault = queued.pop(0)
                if not queued:
                    del self._faults[index]
                return fault
        return None

    def _answer(self, incoming: _Incoming, answer: Answer) -> Response:
        self._record(incoming, answer.code, answer.changed, answer.http_status)
        envelope: dict[str, Any] = {
            "code": answer.code,
            "message": answer.message,
            "request_id": _request_id(self._now()),
        }
        if answer.code == OK:
            envelope["data"] = answer.data or {}
        return JSONResponse(envelope, answer.http_status)

    def _record(self, incoming: _Incoming, code: int | None, changed: bool, status: int) -> None:
        query = {
            key: ("***" if key in ("app_secret", "refresh_token") else value)
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

    # --- TikTok's request checks ---------------------------------------------------------

    def _check(self, incoming: _Incoming, shop_route: bool) -> Answer | Shop:
        refused = self._check_signature(incoming)
        if refused is not None:
            return refused
        shop = self._shop_for_token(incoming.request.headers.get("x-tts-access-token", ""))
        if isinstance(shop, Answer):
            return shop
        return self._check_cipher(incoming.query.get("shop_cipher"), shop, shop_route)

    def _check_signature(self, incoming: _Incoming) -> Answer | None:
        query = incoming.query
        if query.get("app_key") != self.app_key:
            return _refuse(BAD_CREDENTIALS, "Invalid credentials. Invalid app_key query parameter.")
        if not query.get("sign"):
            return _refuse(
                BAD_CREDENTIALS,
                "Missing credentials. The request does not include a required signature.",
            )
        refused = self._check_timestamp(query.get("timestamp", ""))
        if refused is not None:
            return refused
        path = incoming.request.url.path
        if not signature_ok(self.app_secret, path, query, incoming.raw, query["sign"]):
            return _refuse(BAD_SIGN, "Invalid credentials. The sign query parameter is invalid.")
        if incoming.request.method == "POST" and not _is_json(incoming.request):
            return _refuse(
                BAD_FORMAT, "Invalid request format. The request body must be application/json."
            )
        return None

    def _check_timestamp(self, raw: str) -> Answer | None:
        try:
            stamp = int(raw)
        except ValueError:
            return _refuse(BAD_CREDENTIALS, "Invalid timestamp. The timestamp is not an integer.")
        now = self._now()
        if stamp < 0 or stamp < now - TIMESTAMP_PAST_SLACK:
            return _refuse(
                BAD_CREDENTIALS,
                "Invalid timestamp. The value of the timestamp query parameter must not be"
                " earlier than 5 minutes before the current time.",
            )
        if stamp > now + TIMESTAMP_FUTURE_SLACK:
            return _refuse(
                BAD_CREDENTIALS,
                "Invalid timestamp. The value of the timestamp query parameter must not exceed"
                " the current time by more than 30 seconds.",
            )
        return None

    def _shop_for_token(self, token: str) -> Answer | Shop:
        shop = next((s for s in self.shops.values() if token and s.access_token == token), None)
        if shop is None:
            return _refuse(
                BAD_CREDENTIALS, "Invalid credentials. The x-tts-access-token header is invalid."
            )
        if shop.access_expires_at <= self._now():
            return _refuse(
                TOKEN_EXPIRED,
                "Expired credentials. The access_token or x-tts-access-token header has expired.",
            )
        return shop

    def _check_cipher(self, cipher: str | None, shop: Shop, shop_route: bool) -> Answer | Shop:
        if not shop_route:
            if cipher:
                return _refuse(
                    BAD_CREDENTIALS,
                    "Unexpected identifier. The shop_cipher query parameter is not required"
                    " for this request.",
                )
            return shop
        if not cipher:
            return _refuse(
                CIPHER_MISSING,
                "Missing identifier. The shop_cipher query parameter is required to identify"
                " the target shop.",
            )
        if cipher != shop.cipher:
            return _refuse(
                TOKEN_NOT_FOR_SHOP,
                "Invalid query or header. The access token is not associated with the shop"
                " given by shop_cipher.",
            )
        return shop

    # --- TikTok routes -------------------------------------------------------------------

    def _search(self, incoming: _Incoming, shop: Shop) -> Answer:
        body = incoming.body if incoming.body is not None else {}
        if not isinstance(body, dict):
            return _refuse(BAD_PARAM, "invalid param: the body must be a JSON object")
        paging = _paging(incoming.query)
        if isinstance(paging, Answer):
            return paging
        sort_field, descending, size, offset = paging
        found = [obj for obj in self._shop_returns(shop.shop_id) if _matches(obj, body)]
        found.sort(key=lambda o: (int(o.get(sort_field) or 0), o["return_id"]), reverse=descending)
        page = found[offset : offset + size]
        more = offset + size < len(found)
        data = {
            "return_orders": copy.deepcopy(page),
            "next_page_token": _page_token(offset + size) if more else "",
            "total_count": len(found),
        }
        return Answer(OK, data=data)

    def _shop_returns(self, shop_id: str) -> list[dict[str, Any]]:
        return [obj for rid, obj in self.returns.items() if self.return_shop[rid] == shop_id]

    def _decide(self, incoming: _Incoming, shop: Shop) -> Answer:
        params = incoming.request.path_params
        return_id, verb = str(params["return_id"]), str(params["verb"])
        if verb not in ("approve", "reject"):
            return Answer(BAD_PATH, "Invalid path.", http_status=404)
        key = incoming.query.get("idempotency_key")
        if key and (return_id, key) in self._idempotent:
            first = self._idempotent[(return_id, key)]
            return Answer(first.code, first.message, first.data, changed=False)
        answer = self._apply_decision(shop, return_id, verb, incoming.body)
        if key:
            self._idempotent[(return_id, key)] = answer
        return answer

    def _apply_decision(self, shop: Shop, return_id: str, verb: str, body: Any) -> Answer:
        obj = self.returns.get(return_id)
        if obj is None or self.return_shop[return_id] != shop.shop_id:
            return _refuse(NOT_FOUND, "Order not found.")
        checked = _check_decision(obj, verb, body)
        if isinstance(checked, Answer):
            return checked
        if checked.to_status == AWAITING_BUYER_RESPONSE:
            obj["partial_refund"] = dict(body["partial_refund"])
            obj["seller_proposed_return_type"] = "PARTIAL_REFUND"
        self._move(obj, checked.to_status, "SELLER")
        return Answer(OK, data={}, changed=True)

    def _reject_reasons(self, incoming: _Incoming, shop: Shop) -> Answer:
        return_id = incoming.query.get("return_or_cancel_id", "")
        if not return_id:
            return _refuse(BAD_PARAM, "invalid param: return_or_cancel_id is required")
        if self.return_shop.get(return_id) != shop.shop_id:
            return _refuse(NOT_FOUND, "Order not found.")
        reasons = [{"name": name, "text": text} for name, text in REJECT_REASONS]
        return Answer(OK, data={"reasons": reasons})

    def _authorized_shops(self, incoming: _Incoming, shop: Shop) -> Answer:
        listed = {
            "cipher": shop.cipher,
            "code": f"SANDBOX{shop.shop_id[-6:]}",
            "id": shop.shop_id,
            "name": shop.name,
            "region": shop.region,
            "seller_type": "LOCAL",
        }
        return Answer(OK, data={"shops": [listed]})

    async def _refresh(self, request: Request) -> Response:
        incoming = await _read(request)
        faulted = await self._apply_fault(incoming)
        if faulted is not None:
            return faulted
        return self._answer(incoming, self._refresh_answer(incoming.query))

    def _refresh_answer(self, query: Mapping[str, str]) -> Answer:
        if query.get("app_key") != self.app_key or not _same(
            query.get("app_secret"), self.app_secret
        ):
            return _refuse(BAD_CREDENTIALS, "Invalid credentials. Invalid app_key or app_secret.")
        if query.get("grant_type") != "refresh_token":
            return _refuse(BAD_PARAM, "invalid param: grant_type must be refresh_token")
        token = query.get("refresh_token") or ""
        now = self._now()
        shop = next((s for s in self.shops.values() if token and s.refresh_token == token), None)
        if shop is None or shop.refresh_expires_at <= now:
            return _refuse(BAD_REFRESH_TOKEN, "Invalid refresh token.")
        shop.access_token = "TTP_" + secrets.token_urlsafe(24)
        shop.refresh_token = "TTP_" + secrets.token_urlsafe(24)
        shop.access_expires_at = now + ACCESS_TOKEN_LIFETIME
        shop.refresh_expires_at = now + REFRESH_TOKEN_LIFETIME
        return Answer(OK, data=_grant(shop), changed=True)

    # --- control routes (not signed) -----------------------------------------------------

    async def _control_add_shop(self, request: Request) -> Response:
        raw = await _json_object(request)
        if isinstance(raw, Response):
            return raw
        shop_id = raw.get("shop_id")
        if not isinstance(shop_id, str) or not shop_id:
            return _control_error("shop_id (a string) is required")
        shop = self.add_shop(
            shop_id,
            cipher=str(raw.get("cipher") or f"SBX_{secrets.token_urlsafe(12)}"),
            access_token=str(raw.get("access_token") or "TTP_" + secrets.token_urlsafe(24)),
            refresh_token=str(raw.get("refresh_token") or "TTP_" + secrets.token_urlsafe(24)),
            access_expires_at=_opt_int(raw.get("access_expires_at")),
            name=str(raw.get("name") or "Sandbox shop"),
            region=str(raw.get("region") or "ID"),
        )
        return JSONResponse(asdict(shop), 201)

    async def _control_expire_token(self, request: Request) -> Response:
        shop_id = str(request.path_params["shop_id"])
        if shop_id not in self.shops:
            return _control_error(f"unknown shop {shop_id}", 404)
        self.expire_token(shop_id)
        return JSONResponse({"shop_id": shop_id, "access_expires_at": self._now() - 1})

    async def _control_put_return(self, request: Request) -> Response:
        raw = await _json_object(request)
        if isinstance(raw, Response):
            return raw
        shop_id, obj = raw.get("shop_id"), raw.get("return")
        if not isinstance(shop_id, str) or shop_id not in self.shops:
            return _control_error("shop_id must name a shop added with POST /sandbox/shops")
        if not isinstance(obj, dict):
            return _control_error("return (a Search Returns object) is required")
        return JSONResponse(self.put_return(shop_id, obj), 201)

    async def _control_get_return(self, request: Request) -> Response:
        return_id = str(request.path_params["return_id"])
        if return_id not in self.returns:
            return _control_error(f"unknown return {return_id}", 404)
        return JSONResponse(self.get_return(return_id))

    async def _control_set_status(self, request: Request) -> Response:
        return_id = str(request.path_params["return_id"])
        if return_id not in self.returns:
            return _control_error(f"unknown return {return_id}", 404)
        raw = await _json_object(request)
        if isinstance(raw, Response):
            return raw
        status, role = raw.get("status"), raw.get("role", "BUYER")
        if not isinstance(status, str) or not status or not isinstance(role, str):
            return _control_error("status (a TikTok return_status) is required")
        return JSONResponse(self.set_status(return_id, status, role=role))

    async def _control_fail(self, request: Request) -> Response:
        raw = await _json_object(request)
        if isinstance(raw, Response):
            return raw
        needle, faults = raw.get("path_contains"), raw.get("faults")
        if not isinstance(needle, str) or not isinstance(faults, list):
            return _control_error("path_contains (a string) and faults (a list) are required")
        try:
            parsed = [Fault.from_json(item) for item in faults]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return _control_error(f"bad fault: {exc}")
        self.fail(needle, *parsed)
        return JSONResponse({"queued": len(parsed)}, 201)

    async def _control_calls(self, request: Request) -> Response:
        return JSONResponse([call.to_json() for call in self.calls])


# ---------------------------------------------------------------------------------------------
# Helpers


async def _read(request: Request) -> _Incoming:
    raw = await request.body()
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
    return _Incoming(request=request, raw=raw, query=dict(request.query_params), body=body)


def _guard(handler: Callable[[_Incoming, Shop], Answer], incoming: _Incoming, shop: Shop) -> Answer:
    """A route's answer; a body that is not the JSON object the route expects is a bad param."""
    if isinstance(incoming.body, str):
        return _refuse(BAD_PARAM, "invalid param: the body is not JSON")
    return handler(incoming, shop)


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip() == "application/json"


def _same(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


def _check_decision(obj: Mapping[str, Any], verb: str, body: Any) -> Answer | Rule:
    """The rule a decision follows, or TikTok's refusal of it."""
    if not isinstance(body, dict):
        return _refuse(BAD_PARAM, "invalid param: the body must be a JSON object")
    rule = DECISIONS.get(str(body.get("decision")))
    if rule is None or rule.verb != verb:
        return _refuse(BAD_PARAM, f"invalid param: decision is not one the {verb} call takes")
    refused = _check_decision_params(rule, body)
    if refused is not None:
        return refused
    if obj.get("return_type") not in rule.types:
        return _refuse(WRONG_TYPE, "decision not match reverse type")
    return _check_decision_status(obj.get("return_status"), rule) or rule


def _check_decision_params(rule: Rule, body: Mapping[str, Any]) -> Answer | None:
    if rule.verb == "reject" and body.get("reject_reason") not in REJECT_REASON_NAMES:
        return _refuse(
            BAD_PARAM,
            "invalid param: reject_reason must be a name from Get Reject Reasons",
        )
    if rule.to_status == AWAITING_BUYER_RESPONSE:
        offer = body.get("partial_refund")
        if not isinstance(offer, dict) or not offer.get("amount") or not offer.get("currency"):
            return _refuse(BAD_PARAM, "invalid param: partial_refund{amount, currency} required")
    return None


def _check_decision_status(status: Any, rule: Rule) -> Answer | None:
    if status in rule.from_statuses:
        return None
    if status in CANCELLED_STATUSES:
        return _refuse(CANCELLED_ALREADY, "reverse already cancelled")
    if status in APPROVED_STATUSES and not (rule.receive and status == BUYER_SHIPPED_ITEM):
        return _refuse(APPROVED_ALREADY, "Aftersales has been approved and cannot be rejected")
    if rule.receive:
        return _refuse(CANNOT_APPROVE_RECEIVE, "reverse status cannot approve receive")
    return _refuse(CANNOT_APPROVE_APPLICATION, "reverse status cannot approve application")


def _paging(query: Mapping[str, str]) -> Answer | tuple[str, bool, int, int]:
    """Search Returns' query: (sort field, descending, page size, offset), or a refusal."""
    sort_field = query.get("sort_field", "create_time")
    sort_order = query.get("sort_order", "ASC")
    if sort_field not in ("create_time", "update_time") or sort_order not in ("ASC", "DESC"):
        return _refuse(BAD_PARAM, "invalid param: sort_field or sort_order")
    try:
        size = int(query.get("page_size", ""))
    except ValueError:
        size = 0
    if not 10 <= size <= 50:
        return _refuse(BAD_PARAM, "invalid param: page_size must be 10 to 50")
    offset = _page_offset(query.get("page_token", ""))
    if offset is None:
        return _refuse(BAD_PARAM, "invalid param: page_token")
    return sort_field, sort_order == "DESC", size, offset


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _page_offset(token: str) -> int | None:
    if not token:
        return 0
    try:
        decoded = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = decoded.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return offset if prefix == "offset" and offset >= 0 else None


_LIST_FILTERS = {
    "return_ids": "return_id",
    "order_ids": "order_id",
    "return_types": "return_type",
    "return_status": "return_status",
    "arbitration_status": "arbitration_status",
}
_TIME_FILTERS = ("create_time", "update_time")


def _matches(obj: Mapping[str, Any], filters: Mapping[str, Any]) -> bool:
    for name, attribute in _LIST_FILTERS.items():
        wanted = filters.get(name)
        if isinstance(wanted, list) and wanted and obj.get(attribute) not in wanted:
            return False
    for attribute in _TIME_FILTERS:
        value = int(obj.get(attribute) or 0)
        low, high = filters.get(f"{attribute}_ge"), filters.get(f"{attribute}_lt")
        if isinstance(low, int) and value < low:
            return False
        if isinstance(high, int) and value >= high:
            return False
    return True


def _next_actions(obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    action = NEXT_ACTIONS.get((str(obj.get("return_type")), str(obj.get("return_status"))))
    if action is None:
        return []
    return [{"action": action, "deadline": int(obj["update_time"]) + RESPONSE_WINDOW}]


def _digits(count: int) -> str:
    return str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(count - 1)
    )


def _with_defaults(obj: Mapping[str, Any], now: int) -> dict[str, Any]:
    """A full Search Returns object: `obj`'s fields over plausible defaults."""
    return_type = str(obj.get("return_type") or RETURN_AND_REFUND)
    currency = str((obj.get("refund_amount") or {}).get("currency") or "IDR")
    total = str((obj.get("refund_amount") or {}).get("refund_total") or "150000.00")
    create_time = int(obj.get("create_time") or now)
    base: dict[str, Any] = {
        "return_id": _digits(19),
        "order_id": _digits(18),
        "return_type": return_type,
        "return_status": REPLACEMENT_PENDING if return_type == REPLACEMENT else PENDING,
        "role": "BUYER",
        "return_reason": "ecom_order_delivered_refund_and_return_reason_damaged_product",
        "return_reason_text": "Damaged product",
        "refund_amount": {
            "currency": currency,
            "refund_total": total,
            "refund_subtotal": total,
            "refund_shipping_fee": "0.00",
            "refund_tax": "0.00",
        },
        "return_line_items": [_default_line(currency, total)],
        "shipment_type": "PLATFORM",
        "handover_method": "DROP_OFF",
        "can_buyer_keep_item": False,
        "create_time": create_time,
        "update_time": create_time,
    }
    merged = base | copy.deepcopy(dict(obj))
    merged["refund_amount"] = base["refund_amount"] | dict(obj.get("refund_amount") or {})
    merged["return_id"] = str(merged["return_id"])
    merged["order_id"] = str(merged["order_id"])
    if "seller_next_action_response" not in obj:
        merged["seller_next_action_response"] = _next_actions(merged)
    return merged


def _default_line(currency: str, total: str) -> dict[str, Any]:
    return {
        "return_line_item_id": _digits(19),
        "order_line_item_id": _digits(19),
        "sku_id": _digits(19),
        "seller_sku": "SBX-TSHIRT-M",
        "sku_name": "Black, M",
        "product_name": "Sandbox cotton T-shirt",
        "product_image": {
            "url": "https://example.com/sandbox/tshirt.jpg",
            "width": 600,
            "height": 600,
        },
        "refund_amount": {"currency": currency, "refund_total": total},
    }


def _webhook_body(shop_id: str, obj: Mapping[str, Any], role: str, now: int) -> bytes:
    """A type-12 "Return status change" webhook, in TikTok's layout."""
    payload = {
        "type": 12,
        "tts_notification_id": _digits(19),
        "shop_id": shop_id,
        "timestamp": now,
        "data": {
            "order_id": obj["order_id"],
            "return_id": obj["return_id"],
            "return_role": role,
            "return_type": obj["return_type"],
            "return_status": obj["return_status"],
            "create_time": obj["create_time"],
            "update_time": obj["update_time"],
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _grant(shop: Shop) -> dict[str, Any]:
    return {
        "access_token": shop.access_token,
        "access_token_expire_in": shop.access_expires_at,
        "refresh_token": shop.refresh_token,
        "refresh_token_expire_in": shop.refresh_expires_at,
        "open_id": f"sandbox-{shop.shop_id}",
        "seller_name": shop.name,
        "seller_base_region": shop.region,
        "granted_scopes": ["seller.return_refund.basic", "seller.authorization.info"],
    }


def _request_id(now: int) -> str:
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H%M%S")
    return stamp + secrets.token_hex(10).upper()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _control_error(message: str, status: int = 400) -> Response:
    return JSONResponse({"error": message}, status)


async def _json_object(request: Request) -> dict[str, Any] | Response:
    try:
        raw = json.loads(await request.body() or b"{}")
    except ValueError:
        return _control_error("the body is not JSON")
    if not isinstance(raw, dict):
        return _control_error("the body must be a JSON object")
    return raw


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer as TikTok's gateway does, with an envelope."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 405:
        body = {"code": BAD_METHOD, "message": "Invalid method."}
    else:
        body = {"code": BAD_PATH, "message": "Invalid path."}
    return JSONResponse(body | {"request_id": _request_id(int(time.time()))}, status)


# ---------------------------------------------------------------------------------------------
# Entry points


def build_sandbox(
    app_key: str,
    app_secret: str,
    *,
    now: Callable[[], float] = time.time,
    webhook_url: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Sandbox:
    """A fresh, empty sandbox; serve `.app` with any ASGI server."""
    return Sandbox(app_key, app_secret, now=now, webhook_url=webhook_url, log=log)


def run_sandbox(
    *,
    host: str,
    port: int,
    app_key: str,
    app_secret: str,
    webhook_url: str | None,
    log: Callable[[str], None],
) -> None:
    """Serve a fresh sandbox with uvicorn until interrupted (blocks)."""
    sandbox = build_sandbox(app_key, app_secret, webhook_url=webhook_url, log=log)
    log(f"TikTok sandbox on http://{host}:{port} for app key {app_key}")
    if webhook_url:
        log(f"pushing type-12 webhooks to {webhook_url}")
    config = uvicorn.Config(sandbox.app, host=host, port=port, log_level="warning", lifespan="off")
    uvicorn.Server(config).run()
