"""Arrangement helpers shared by the HTTP tests (GraphQL callers that may expect errors)."""

from __future__ import annotations

from typing import Any

import httpx

from aftersales.logistics import apply_parcel_event
from aftersales.parcels import ParcelEvent
from tests.support import T0, AppClient, Seller


async def make_abnormal_return(
    seller: Seller, *, order_id: str = "576486316948499999", tracking_number: str = "JX0001"
) -> int:
    """An abnormal return opened the way production opens one (SPEC §3.2): a RETURN_TO_SENDER
    tracking event with no return id, through the parcel service."""
    event = ParcelEvent(
        event_id=f"rts-{order_id}-{tracking_number}",
        occurred_at=T0,
        shop_id=seller.shop_id,
        status="RETURN_TO_SENDER",
        order_id=order_id,
        tracking_number=tracking_number,
        carrier="J&T Express",
        abnormal_reason="REFUSED_BY_BUYER",
    )
    result = await apply_parcel_event(event, now=T0)
    assert result.after_sale_id is not None, result
    return result.after_sale_id


async def post_graphql(
    app: AppClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None
) -> httpx.Response:
    """The raw HTTP response, for tests about errors (AppClient.gql asserts there are none)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await app.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


def error_messages(response: httpx.Response) -> list[str]:
    body = response.json()
    return [error["message"] for error in body.get("errors", [])]


def assert_no_stack_trace(response: httpx.Response) -> None:
    assert "Traceback" not in response.text
    for error in response.json().get("errors", []):
        assert "stacktrace" not in (error.get("extensions") or {})
