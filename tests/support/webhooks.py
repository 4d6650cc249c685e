"""Helpers for webhook tests: signed TikTok and logistics deliveries over HTTP."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx

from tests.support.clock import T0
from tests.support.http import AppClient
from webhooks.signing import logistics_signature, tiktok_signature

SALES = """
query Sales($search: String) {
  afterSales(first: 100, search: $search) {
    totalCount
    edges { node {
      id returnId orderId type status returnStatus platformStatus reason abnormalReason
      refundRequested { amount currency } refundAmount { amount currency }
      partialRefundOffer { amount currency } items { sku productName quantity }
      trackingNumber carrier sellerResponseDeadline disputeDeadline disputeStatus returnedAt
      history { actor action fromStatus toStatus source }
    } }
  }
}
"""


def unix(at: datetime) -> int:
    return int(at.timestamp())


def envelope(
    shop_id: str,
    data: dict[str, Any],
    *,
    type_: int = 12,
    notification_id: str | None = "7327112393057371910",
) -> bytes:
    body: dict[str, Any] = {"type": type_}
    if notification_id is not None:
        body["tts_notification_id"] = notification_id
    body |= {"shop_id": shop_id, "timestamp": unix(T0), "data": data}
    return json.dumps(body).encode()


def return_data(
    status: str,
    *,
    at: datetime = T0,
    return_id: str = "576486316948490001",
    return_type: str = "RETURN_AND_REFUND",
    role: str = "BUYER",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "order_id": extra.pop("order_id", "576486316948400001"),
        "return_id": return_id,
        "return_role": role,
        "return_type": return_type,
        "return_status": status,
        "create_time": unix(extra.pop("created", T0)),
        "update_time": unix(at),
        **extra,
    }


async def post_tiktok(
    app: AppClient, body: bytes, *, signature: str | None = None, sign: bool = True
) -> httpx.Response:
    settings = app.settings
    assert settings.tiktok_app_key and settings.tiktok_app_secret
    headers = {"Content-Type": "application/json"}
    if sign:
        headers["Authorization"] = signature or tiktok_signature(
            settings.tiktok_app_key, settings.tiktok_app_secret, body
        )
    return await app.client.post("/webhooks/tiktok", content=body, headers=headers)


async def send_report(
    app: AppClient, shop_id: str, status: str, *, notification_id: str, **kwargs: Any
) -> httpx.Response:
    body = envelope(shop_id, return_data(status, **kwargs), notification_id=notification_id)
    response = await post_tiktok(app, body)
    assert response.status_code == 200, response.text
    return response


def parcel_body(**fields: Any) -> bytes:
    event = {
        "event_id": "trk-0001",
        "occurred_at": "2026-11-20T10:00:00Z",
        "shop_id": "7494049642642441621",
        "order_id": "576486316948400001",
        "return_id": "576486316948490001",
        "tracking_number": "JX0001",
        "carrier": "J&T Express",
        "status": "IN_TRANSIT",
        "abnormal_reason": None,
    }
    return json.dumps(event | fields).encode()


async def post_parcel(
    app: AppClient, body: bytes, *, signature: str | None = None, sign: bool = True
) -> httpx.Response:
    secret = app.settings.logistics_webhook_secret
    assert secret
    headers = {"Content-Type": "application/json"}
    if sign:
        headers["X-Signature"] = signature or logistics_signature(secret, body)
    return await app.client.post("/webhooks/logistics", content=body, headers=headers)


async def sales(app: AppClient, token: str, search: str | None = None) -> list[dict[str, Any]]:
    data = await app.gql(SALES, {"search": search}, token=token)
    return [edge["node"] for edge in data["afterSales"]["edges"]]


async def only_sale(app: AppClient, token: str) -> dict[str, Any]:
    found = await sales(app, token)
    assert len(found) == 1, found
    return found[0]
