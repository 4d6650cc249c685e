"""TikTok's webhooks the sandbox sends: type 12 "Return status change", type 6 "Seller
deauthorization" and type 7 "Upcoming authorization expiration"; and one signed delivery."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from aftersales.tiktok.signing import webhook_signature
from devtools.sandbox.records import WebhookPush
from devtools.sandbox.returns import digits

WEBHOOK_TIMEOUT = 5.0


def webhook_body(shop_id: str, obj: Mapping[str, Any], role: str, now: int) -> bytes:
    """A type-12 webhook for a return's current status, in TikTok's layout."""
    payload = {
        "type": 12,
        "tts_notification_id": digits(19),
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


DEAUTHORIZATION = 6
AUTHORIZATION_EXPIRING = 7


def deauthorization_body(shop_id: str, now: int) -> bytes:
    """Type 6: the seller revoked the app's authorization of the shop."""
    data = {"message": f"Shop_id {shop_id} is deauthorized from your APP by merchant."}
    return _envelope(DEAUTHORIZATION, shop_id, now, data)


def expiring_body(shop_id: str, now: int, expires_at: int) -> bytes:
    """Type 7: the authorization ends at `expires_at` (sent as a string, as TikTok does)."""
    days = max(0, (expires_at - now) // 86400)
    data = {
        "message": f"Authorization of shop_id {shop_id} is expiring in {days} days. Please"
        " direct the merchant to re-authorize.",
        "expiration_time": str(expires_at),
    }
    return _envelope(AUTHORIZATION_EXPIRING, shop_id, now, data)


def _envelope(type_: int, shop_id: str, now: int, data: dict[str, Any]) -> bytes:
    payload = {
        "type": type_,
        "tts_notification_id": digits(19),
        "shop_id": shop_id,
        "timestamp": now,
        "data": data,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


async def deliver(url: str, app_key: str, app_secret: str, body: bytes) -> WebhookPush:
    """POST one webhook signed as TikTok signs; a failure is reported, never raised."""
    headers = {
        "Authorization": webhook_signature(app_key, app_secret, body),
        "Content-Type": "application/json",
    }
    try:
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT) as client:
            response = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return WebhookPush(body, None, type(exc).__name__)
    return WebhookPush(body, response.status_code, None)
