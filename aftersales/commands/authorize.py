"""Starting to connect a shop by OAuth: the URL of TikTok's authorization page for a seller, with
a new state (docs/connecting-a-shop.md). One use case, two ways in: `aftersales shops connect`
and the `tiktokAuthorizationUrl` mutation.

A state is random (`secrets.token_urlsafe`), stored as its SHA-256 like API tokens, bound to the
seller and the region asked, and works once, for `STATE_LIFETIME`; several may be outstanding.
The callback uses it up (aftersales/tiktok/onboarding.py).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from aftersales.commands.accounts import MAX_SELLER_NAME
from aftersales.domain.errors import Invalid
from aftersales.domain.regions import is_region
from aftersales.store.uow import uow

STATE_LIFETIME = timedelta(minutes=30)
US_AUTHORIZE_URL = "https://services.us.tiktokshop.com/open/authorize"
GLOBAL_AUTHORIZE_URL = "https://services.tiktokshop.com/open/authorize"
CALLBACK_PATH = "/oauth/tiktok/callback"


class NotConfigured(Invalid):
    """A setting the step needs is missing; the message names it."""


@dataclass(frozen=True)
class App:
    """What the settings say about the app in TikTok's Partner Center."""

    service_id: str | None  # TIKTOK_SERVICE_ID
    authorize_url: str | None = None  # TIKTOK_AUTHORIZE_URL; None: TikTok's, by region


@dataclass(frozen=True)
class Authorization:
    """The page the seller opens, and until when its state works."""

    url: str
    expires_at: datetime
    seller_id: int
    seller_created: bool


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def region_code(region: str | None) -> str | None:
    """The region asked, upper-cased; None when not given; `Invalid` when not a region."""
    if region is None or not region.strip():
        return None
    code = region.strip().upper()
    if len(code) != 2 or not is_region(code):
        raise Invalid(
            f"region {region.strip()[:20]!r} is not an ISO 3166-1 code (ID, MY, TH, VN, PH, SG,"
            " US, GB, ...)",
            field="region",
        )
    return code


def authorize_base(app: App, region: str | None) -> str:
    if app.authorize_url:
        return app.authorize_url
    return US_AUTHORIZE_URL if region == "US" else GLOBAL_AUTHORIZE_URL


def _service_id(app: App) -> str:
    if not app.service_id:
        raise NotConfigured(
            "TIKTOK_SERVICE_ID is not set: set it to the service id of the app in TikTok's"
            " Partner Center (docs/connecting-a-shop.md)"
        )
    return app.service_id


async def authorization_url(
    app: App,
    *,
    now: datetime,
    seller_id: int | None = None,
    seller_name: str | None = None,
    region: str | None = None,
    new_state: Callable[[], str] = lambda: secrets.token_urlsafe(32),
) -> Authorization:
    """A new state for the seller (by id, or by name: created when new) and the URL with it."""
    service_id = _service_id(app)
    code = region_code(region)
    state = new_state()
    expires_at = now + STATE_LIFETIME
    async with uow() as tx:
        created = False
        if seller_id is None:
            seller_id, created = await tx.oauth.seller_named(_seller_name(seller_name))
        await tx.oauth.add(
            seller_id, hash_state(state), region=code, created_at=now, expires_at=expires_at
        )
    query = urlencode({"service_id": service_id, "state": state})
    return Authorization(f"{authorize_base(app, code)}?{query}", expires_at, seller_id, created)


def _seller_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid("the seller name is empty", field="seller")
    if len(name) > MAX_SELLER_NAME:
        raise Invalid(
            f"the seller name is {len(name)} characters long; at most {MAX_SELLER_NAME}",
            field="seller",
        )
    return name


def redirect_url(base_url: str | None) -> str | None:
    """The redirect URL to register for the app: the callback on the public origin."""
    return None if base_url is None else base_url.rstrip("/") + CALLBACK_PATH


async def prune_states(*, now: datetime) -> int:
    """Delete the states that can no longer be used (used or expired): how many."""
    async with uow() as tx:
        return await tx.oauth.prune(now=now)
