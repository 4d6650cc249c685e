"""TikTok's OAuth, as the sandbox plays it (docs/tiktok-sandbox.md, "Connecting a shop"):

- `GET /open/authorize?service_id&state`: the authorization page, a link per shop and one for
  all of them;
- `GET /open/authorize/grant?state&shop_id...`: what clicking does: a new authorization code for
  those shops, and a redirect to the redirect URL with `code` and `state`;
- `GET /api/v2/token/get?app_key&app_secret&auth_code&grant_type=authorized_code` (auth host):
  a code works once, for ten minutes; it gives one token pair, shared by every shop it covers.

The redirect URL is the sandbox's setting (`--redirect-url`, `POST /sandbox/redirect-url`), as
TikTok's is the app's, registered in Partner Center.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from devtools.sandbox.envelope import BAD_CREDENTIALS, BAD_PARAM, OK, Answer, refuse
from devtools.sandbox.records import ACCESS_TOKEN_LIFETIME, REFRESH_TOKEN_LIFETIME, AuthCode, Shop
from devtools.sandbox.routes import same_secret
from devtools.sandbox.state import State

CODE_LIFETIME = 600  # seconds
INVALID_AUTH_CODE = 36004004  # the sandbox's pick for an unknown, used or expired code


def issue_code(state: State, shop_ids: Sequence[str]) -> str:
    """A new authorization code for these shops (all of them when none is named)."""
    covered = tuple(shop_ids) or tuple(state.shops)
    unknown = [shop_id for shop_id in covered if shop_id not in state.shops]
    if unknown or not covered:
        raise KeyError(f"unknown shop {unknown[0]}" if unknown else "the sandbox has no shop")
    code = "SBXCODE_" + secrets.token_urlsafe(24)
    state.auth_codes[code] = AuthCode(covered, state.seconds() + CODE_LIFETIME)
    return code


def redirect_to(state: State, oauth_state: str, code: str) -> str:
    """Where TikTok sends the seller back: the redirect URL with `code` and `state`."""
    assert state.redirect_url is not None
    sep = "&" if "?" in state.redirect_url else "?"
    return f"{state.redirect_url}{sep}{urlencode({'code': code, 'state': oauth_state})}"


def authorize_page(state: State, request: Request) -> Response:
    query = request.query_params
    oauth_state, service_id = query.get("state", ""), query.get("service_id", "")
    if not service_id or not oauth_state:
        return _page(400, "Invalid request", ["service_id and state are required."])
    if state.redirect_url is None:
        return _page(
            400,
            "No redirect URL",
            ["Start the sandbox with --redirect-url, or POST /sandbox/redirect-url."],
        )
    if not state.shops:
        return _page(400, "No shop", ["Add a shop first: POST /sandbox/shops."])
    links = [
        _link(f"Authorize {shop.name} ({shop.shop_id}, {shop.region})", oauth_state, [shop_id])
        for shop_id, shop in state.shops.items()
    ]
    links.append(_link("Authorize all shops", oauth_state, []))
    lines = [f"Service {service_id} asks to manage your shops' returns."]
    return _page(200, "Authorize the app (TikTok sandbox)", lines, links)


def grant(state: State, request: Request) -> Response:
    oauth_state = request.query_params.get("state", "")
    if not oauth_state or state.redirect_url is None:
        return _page(400, "Invalid request", ["state and a redirect URL are required."])
    try:
        code = issue_code(state, request.query_params.getlist("shop_id"))
    except KeyError as exc:
        return _page(400, "Unknown shop", [str(exc.args[0])])
    return RedirectResponse(redirect_to(state, oauth_state, code), status_code=302)


def get_token(state: State, query: Mapping[str, str]) -> Answer:
    """The auth host's token get: not signed, checked by app key and secret instead."""
    if query.get("app_key") != state.app_key or not same_secret(
        query.get("app_secret"), state.app_secret
    ):
        return refuse(BAD_CREDENTIALS, "Invalid credentials. Invalid app_key or app_secret.")
    if query.get("grant_type") != "authorized_code":
        return refuse(BAD_PARAM, "invalid param: grant_type must be authorized_code")
    now = state.seconds()
    found = state.auth_codes.get(query.get("auth_code") or "")
    if found is None or found.used or found.expires_at <= now:
        return refuse(INVALID_AUTH_CODE, "Invalid auth code. It is unknown, used or expired.")
    found.used = True
    access, refresh = "TTP_" + secrets.token_urlsafe(24), "TTP_" + secrets.token_urlsafe(24)
    shops = [state.shops[shop_id] for shop_id in found.shop_ids if shop_id in state.shops]
    for shop in shops:
        shop.access_token, shop.refresh_token = access, refresh
        shop.access_expires_at = now + ACCESS_TOKEN_LIFETIME
        shop.refresh_expires_at = now + REFRESH_TOKEN_LIFETIME
    return Answer(OK, data=_granted(shops[0], [s.region for s in shops]), changed=True)


def _granted(shop: Shop, regions: list[str]) -> dict[str, object]:
    return {
        "access_token": shop.access_token,
        "access_token_expire_in": shop.access_expires_at,
        "refresh_token": shop.refresh_token,
        "refresh_token_expire_in": shop.refresh_expires_at,
        "open_id": f"sandbox-{shop.shop_id}",
        "seller_name": shop.name,
        "seller_base_region": regions[0],
        "user_type": 0,
        "granted_scopes": ["seller.return_refund.basic", "seller.authorization.info"],
    }


def _link(text: str, oauth_state: str, shop_ids: list[str]) -> str:
    query = urlencode([("state", oauth_state), *(("shop_id", s) for s in shop_ids)])
    return f'<li><a href="/open/authorize/grant?{html.escape(query)}">{html.escape(text)}</a></li>'


def _page(status: int, title: str, lines: list[str], links: list[str] | None = None) -> Response:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    if links:
        body += "<ul>" + "".join(links) + "</ul>"
    text = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title></head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(text, status)
