"""`GET /oauth/tiktok/callback?code=C&state=S`: where TikTok sends a seller back after they
authorized the app (docs/connecting-a-shop.md). The use case is aftersales/tiktok/onboarding.py;
this module only renders its outcome as a small HTML page: 200 naming the shops connected, 400
for a missing, unknown, expired or used state, 409 for a shop of another seller, 502 when TikTok
refused, 503 when the service is not set up to talk to TikTok. A page never shows the code or a
token, and everything it shows is escaped.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from aftersales.domain.errors import Conflict, TikTokRefused
from aftersales.settings import Settings
from aftersales.tiktok import onboarding
from aftersales.tiktok.link import Link
from webhooks import registration

log = logging.getLogger("aftersales.api")

CALLBACK_PATH = "/oauth/tiktok/callback"
NOT_SET_UP = (
    "This service is not set up to talk to TikTok: set TIKTOK_API_BASE_URL, TIKTOK_APP_KEY,"
    " TIKTOK_APP_SECRET and AFTERSALES_SECRET_KEY, restart it, then connect the shop again."
)


def routes(settings: Settings, clock: Callable[[], datetime]) -> list[BaseRoute]:
    async def callback(request: Request) -> Response:
        link: Link | None = getattr(request.app.state, "tiktok", None)
        if link is None:
            return page(503, "TikTok is not configured", NOT_SET_UP)
        query = request.query_params
        try:
            done = await onboarding.complete(
                link, state=query.get("state"), code=query.get("code"), now=clock()
            )
        except onboarding.BadState as exc:
            return page(400, "This link cannot be used", exc.message)
        except Conflict as exc:
            return page(409, "Shop of another seller", f"Nothing was connected: {exc.message}.")
        except TikTokRefused as exc:
            log.warning("connecting a shop failed: %s", exc.message)
            return page(502, "TikTok refused", f"Nothing was connected. {exc.message}")
        for shop in done.shops:
            if shop.created:  # webhooks that came before the shop was registered
                said = await registration.apply_waiting_deliveries(shop.shop_id, settings)
                if said:
                    log.info("shop %s: %s", shop.shop_id, said)
        return page(
            200, "Shop connected" if len(done.shops) == 1 else "Shops connected", *_lines(done)
        )

    return [Route(CALLBACK_PATH, callback, methods=["GET"])]


def _lines(done: onboarding.Connected) -> list[str]:
    lines = [f"Connected for seller {done.seller}:"]
    for shop in done.shops:
        first = (
            "importing the returns of the last 30 days"
            if shop.backfill is None
            else f"the first import was not started ({shop.backfill}); the poll imports it"
        )
        verb = "new" if shop.created else "updated"
        lines.append(f"{shop.name} ({shop.shop_id}, {shop.region}, {verb}): {first}.")
    return lines


def page(status: int, title: str, *lines: str) -> HTMLResponse:
    """A small HTML page; every text escaped."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(text, status)  # text/html; charset=utf-8
