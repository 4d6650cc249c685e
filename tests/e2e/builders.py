"""Arrangement helpers shared by the HTTP tests (GraphQL callers that may expect errors)."""

from __future__ import annotations

from typing import Any

import httpx

from aftersales.domain import AbnormalReason, AfterSaleType, ReturnStatus
from aftersales.store import repository
from aftersales.store.models import Shop
from tests.support import T0, AppClient, Seller


async def make_abnormal_return(
    seller: Seller, *, order_id: str = "576486316948499999", tracking_number: str = "JX0001"
) -> int:
    """An abnormal return as the logistics feed opens one (SPEC §3.2): no return id, no status.

    The logistics webhook is built elsewhere; until then the row is written through the
    repository exactly as that webhook will write it.
    """
    shop = await Shop.get(shop_id=seller.shop_id)
    async with repository.transaction() as conn:
        row = await repository.create_sale(
            conn,
            shop,
            {
                "type": AfterSaleType.ABNORMAL_RETURN,
                "order_id": order_id,
                "status": None,
                "return_status": ReturnStatus.RETURNING,
                "abnormal_reason": AbnormalReason.REFUSED_BY_BUYER,
                "tracking_number": tracking_number,
                "carrier": "J&T Express",
                "parcel_key": f"{order_id}/{tracking_number}",
            },
            at=T0,
        )
    assert row is not None
    return row.id


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
