"""TikTok's checks of a signed request, in TikTok's order (docs/tiktok-sandbox.md, "What it
checks"): app key, signature, timestamp window, content type, access token, shop cipher. The
first failure is the answer."""

from __future__ import annotations

from aftersales.tiktok.signing import signature_ok
from devtools.sandbox.envelope import (
    BAD_CREDENTIALS,
    BAD_FORMAT,
    BAD_SIGN,
    CIPHER_MISSING,
    TOKEN_EXPIRED,
    TOKEN_NOT_FOR_SHOP,
    Answer,
    refuse,
)
from devtools.sandbox.records import Shop
from devtools.sandbox.state import State
from devtools.sandbox.wire import Incoming, is_json

TIMESTAMP_PAST_SLACK = 300  # TikTok: no earlier than 5 minutes before now
TIMESTAMP_FUTURE_SLACK = 30  # ... and no later than 30 seconds after


def check(state: State, incoming: Incoming, shop_route: bool) -> Answer | Shop:
    """The shop a signed request acts for, or TikTok's refusal of the request."""
    refused = _check_signature(state, incoming)
    if refused is not None:
        return refused
    token = incoming.request.headers.get("x-tts-access-token", "")
    shop = _shop_for_token(state, token, incoming.query.get("shop_cipher"))
    if isinstance(shop, Answer):
        return shop
    return _check_cipher(incoming.query.get("shop_cipher"), shop, shop_route)


def _check_signature(state: State, incoming: Incoming) -> Answer | None:
    query = incoming.query
    if query.get("app_key") != state.app_key:
        return refuse(BAD_CREDENTIALS, "Invalid credentials. Invalid app_key query parameter.")
    if not query.get("sign"):
        return refuse(
            BAD_CREDENTIALS,
            "Missing credentials. The request does not include a required signature.",
        )
    refused = _check_timestamp(query.get("timestamp", ""), state.seconds())
    if refused is not None:
        return refused
    path = incoming.request.url.path
    if not signature_ok(state.app_secret, path, query, incoming.raw, query["sign"]):
        return refuse(BAD_SIGN, "Invalid credentials. The sign query parameter is invalid.")
    if incoming.request.method == "POST" and not is_json(incoming.request):
        return refuse(
            BAD_FORMAT, "Invalid request format. The request body must be application/json."
        )
    return None


def _check_timestamp(raw: str, now: int) -> Answer | None:
    try:
        stamp = int(raw)
    except ValueError:
        return refuse(BAD_CREDENTIALS, "Invalid timestamp. The timestamp is not an integer.")
    if stamp < 0 or stamp < now - TIMESTAMP_PAST_SLACK:
        return refuse(
            BAD_CREDENTIALS,
            "Invalid timestamp. The value of the timestamp query parameter must not be"
            " earlier than 5 minutes before the current time.",
        )
    if stamp > now + TIMESTAMP_FUTURE_SLACK:
        return refuse(
            BAD_CREDENTIALS,
            "Invalid timestamp. The value of the timestamp query parameter must not exceed"
            " the current time by more than 30 seconds.",
        )
    return None


def _shop_for_token(state: State, token: str, cipher: str | None) -> Answer | Shop:
    """The shop the token is for: of the shops it covers, the one of `cipher` if any."""
    covered = state.shops_sharing(token)
    shop = next((s for s in covered if s.cipher == cipher), covered[0] if covered else None)
    if shop is None:
        return refuse(
            BAD_CREDENTIALS, "Invalid credentials. The x-tts-access-token header is invalid."
        )
    if shop.access_expires_at <= state.seconds():
        return refuse(
            TOKEN_EXPIRED,
            "Expired credentials. The access_token or x-tts-access-token header has expired.",
        )
    return shop


def _check_cipher(cipher: str | None, shop: Shop, shop_route: bool) -> Answer | Shop:
    if not shop_route:
        if cipher:
            return refuse(
                BAD_CREDENTIALS,
                "Unexpected identifier. The shop_cipher query parameter is not required"
                " for this request.",
            )
        return shop
    if not cipher:
        return refuse(
            CIPHER_MISSING,
            "Missing identifier. The shop_cipher query parameter is required to identify"
            " the target shop.",
        )
    if cipher != shop.cipher:
        return refuse(
            TOKEN_NOT_FOR_SHOP,
            "Invalid query or header. The access token is not associated with the shop"
            " given by shop_cipher.",
        )
    return shop
