"""TikTok's routes, as the sandbox answers them once a request has passed TikTok's checks:
Search Returns, the approve and reject decisions, Get Reject Reasons, Get Authorized Shops, and
the auth host's token refresh."""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from devtools.sandbox import cancellations
from devtools.sandbox.decisions import check_decision
from devtools.sandbox.envelope import (
    BAD_CREDENTIALS,
    BAD_PARAM,
    BAD_PATH,
    BAD_REFRESH_TOKEN,
    NOT_FOUND,
    OK,
    Answer,
    refuse,
)
from devtools.sandbox.records import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME, Shop
from devtools.sandbox.returns import matches, page_token, paging
from devtools.sandbox.state import State
from devtools.sandbox.statuses import AWAITING_BUYER_RESPONSE, reasons_for
from devtools.sandbox.wire import Incoming

_LOCALE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")

Handler = Callable[[State, Incoming, Shop], Answer]


def guarded(handler: Handler, state: State, incoming: Incoming, shop: Shop) -> Answer:
    """A route's answer; a body that is not the JSON the route expects is a bad param."""
    if isinstance(incoming.body, str):
        return refuse(BAD_PARAM, "invalid param: the body is not JSON")
    return handler(state, incoming, shop)


def search(state: State, incoming: Incoming, shop: Shop) -> Answer:
    body = incoming.body if incoming.body is not None else {}
    if not isinstance(body, dict):
        return refuse(BAD_PARAM, "invalid param: the body must be a JSON object")
    paged = paging(incoming.query)
    if isinstance(paged, Answer):
        return paged
    sort_field, descending, size, offset = paged
    found = [
        obj
        for return_id, obj in state.returns.items()
        if state.return_shop[return_id] == shop.shop_id and matches(obj, body)
    ]
    found.sort(key=lambda o: (int(o.get(sort_field) or 0), o["return_id"]), reverse=descending)
    page = found[offset : offset + size]
    more = offset + size < len(found)
    data = {
        "return_orders": copy.deepcopy(page),
        "next_page_token": page_token(offset + size) if more else "",
        "total_count": len(found),
    }
    return Answer(OK, data=data)


def decide(state: State, incoming: Incoming, shop: Shop) -> Answer:
    """An approve or reject call; the same idempotency key gets the first answer again."""
    params = incoming.request.path_params
    return_id, verb = str(params["return_id"]), str(params["verb"])
    if verb not in ("approve", "reject"):
        return Answer(BAD_PATH, "Invalid path.", http_status=404)
    key = incoming.query.get("idempotency_key")
    if key and (return_id, key) in state.idempotent:
        first = state.idempotent[(return_id, key)]
        return Answer(first.code, first.message, first.data, changed=False)
    answer = _apply_decision(state, shop, return_id, verb, incoming.body)
    if key:
        state.idempotent[(return_id, key)] = answer
    return answer


def _apply_decision(state: State, shop: Shop, return_id: str, verb: str, body: Any) -> Answer:
    obj = state.returns.get(return_id)
    if obj is None or state.return_shop[return_id] != shop.shop_id:
        return refuse(NOT_FOUND, "Order not found.")
    checked = check_decision(obj, verb, body)
    if isinstance(checked, Answer):
        return checked
    if checked.to_status == AWAITING_BUYER_RESPONSE:
        obj["partial_refund"] = dict(body["partial_refund"])
        obj["seller_proposed_return_type"] = "PARTIAL_REFUND"
    state.move(obj, checked.to_status, "SELLER")
    return Answer(OK, data={}, changed=True)


def search_cancellations(state: State, incoming: Incoming, shop: Shop) -> Answer:
    found = [
        obj
        for cancel_id, obj in state.cancellations.items()
        if state.cancel_shop[cancel_id] == shop.shop_id
    ]
    body = incoming.body if incoming.body is not None else {}
    return cancellations.search(found, incoming.query, body)


def decide_cancellation(state: State, incoming: Incoming, shop: Shop) -> Answer:
    """Approve or Reject Cancellation; the same idempotency key gets the first answer again."""
    params = incoming.request.path_params
    cancel_id, verb = str(params["return_id"]), str(params["verb"])
    if verb not in ("approve", "reject"):
        return Answer(BAD_PATH, "Invalid path.", http_status=404)
    key = incoming.query.get("idempotency_key")
    if key and (cancel_id, key) in state.idempotent:
        first = state.idempotent[(cancel_id, key)]
        return Answer(first.code, first.message, first.data, changed=False)
    obj = state.cancellations.get(cancel_id)
    if obj is not None and state.cancel_shop[cancel_id] != shop.shop_id:
        obj = None
    body = incoming.body if incoming.body is not None else {}
    checked = cancellations.check_decision(
        obj, verb, body, region=shop.region, shipped=cancel_id in state.shipped
    )
    if isinstance(checked, Answer):
        answer = checked
    else:
        state.move_cancellation(cancel_id, checked)
        answer = Answer(OK, data={}, changed=True)
    if key:
        state.idempotent[(cancel_id, key)] = answer
    return answer


def reject_reasons(state: State, incoming: Incoming, shop: Shop) -> Answer:
    return_id = incoming.query.get("return_or_cancel_id", "")
    if not return_id:
        return refuse(BAD_PARAM, "invalid param: return_or_cancel_id is required")
    if state.cancel_shop.get(return_id) == shop.shop_id:
        listed = [{"name": name, "text": text} for name, text in cancellations.REASONS]
        return Answer(OK, data={"reasons": listed})
    if state.return_shop.get(return_id) != shop.shop_id:
        return refuse(NOT_FOUND, "Order not found.")
    locale = incoming.query.get("locale")
    if locale is not None and not _LOCALE.fullmatch(locale):
        return refuse(BAD_PARAM, "invalid param: locale must be a language tag such as en-US")
    return Answer(OK, data={"reasons": reasons_for(state.returns[return_id], locale)})


def authorized_shops(state: State, incoming: Incoming, shop: Shop) -> Answer:
    """Every shop the access token covers (an authorization may cover several)."""
    listed = [
        {
            "cipher": each.cipher,
            "code": f"SANDBOX{each.shop_id[-6:]}",
            "id": each.shop_id,
            "name": each.name,
            "region": each.region,
            "seller_type": "LOCAL",
        }
        for each in state.shops_sharing(shop.access_token)
    ]
    return Answer(OK, data={"shops": listed})


def refresh(state: State, query: Mapping[str, str]) -> Answer:
    """The auth host's token refresh: not signed, checked by app key and secret instead."""
    if query.get("app_key") != state.app_key or not same_secret(
        query.get("app_secret"), state.app_secret
    ):
        return refuse(BAD_CREDENTIALS, "Invalid credentials. Invalid app_key or app_secret.")
    if query.get("grant_type") != "refresh_token":
        return refuse(BAD_PARAM, "invalid param: grant_type must be refresh_token")
    token = query.get("refresh_token") or ""
    now = state.seconds()
    shop = next((s for s in state.shops.values() if token and s.refresh_token == token), None)
    if shop is None or shop.refresh_expires_at <= now:
        return refuse(BAD_REFRESH_TOKEN, "Invalid refresh token.")
    shop.access_token = "TTP_" + secrets.token_urlsafe(24)
    shop.refresh_token = "TTP_" + secrets.token_urlsafe(24)
    shop.access_expires_at = now + ACCESS_TOKEN_LIFETIME
    shop.refresh_expires_at = now + REFRESH_TOKEN_LIFETIME
    return Answer(OK, data=_grant(shop), changed=True)


def same_secret(given: str | None, expected: str) -> bool:
    """Whether the app secret given is the app's (compared in constant time)."""
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


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
