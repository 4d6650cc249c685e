"""Test helpers: a settable clock, seller/shop/token setup, TikTok reports, a GraphQL caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from aftersales import accounts, services
from aftersales.platform import LineItem, ReturnReport
from aftersales.settings import Settings

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@dataclass
class Clock:
    current: datetime = T0

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current


@dataclass
class Seller:
    name: str
    token: str
    shop_id: str
    region: str


_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


async def make_seller(region: str = "MY", name: str | None = None) -> Seller:
    n = _next()
    name = name or f"seller-{n}"
    shop_id = f"74940496426424{n:05d}"
    await accounts.add_shop(name, shop_id, region, f"Shop {n}")
    token = await accounts.create_token(name)
    return Seller(name=name, token=token, shop_id=shop_id, region=region)


def report(
    status: str,
    *,
    return_id: str = "576486316948490001",
    return_type: str = "RETURN_AND_REFUND",
    at: datetime = T0,
    order_id: str | None = None,
    role: str = "BUYER",
    **extra: Any,
) -> ReturnReport:
    return ReturnReport(
        return_id=return_id,
        order_id=order_id or return_id,
        return_type=return_type,
        return_status=status,
        update_time=at,
        create_time=extra.pop("create_time", at),
        role=role,
        **extra,
    )


async def make_sale(
    seller: Seller,
    *,
    return_type: str = "RETURN_AND_REFUND",
    status: str = "RETURN_OR_REFUND_REQUEST_PENDING",
    return_id: str | None = None,
    at: datetime = T0,
    refund: str | None = "100.00",
    currency: str = "MYR",
    settings: Settings | None = None,
    **extra: Any,
) -> int:
    """An after-sale created the way production creates them: from a TikTok report."""
    rid = return_id or f"5764863169484{_next():05d}"
    items = extra.pop("items", (LineItem("SKU-1", "Blue mug", 1, Decimal(refund or "0")),))
    result = await services.apply_return_report(
        seller.shop_id,
        report(
            status,
            return_id=rid,
            return_type=return_type,
            at=at,
            currency=currency if refund else None,
            refund_total=Decimal(refund) if refund else None,
            items=items,
            **extra,
        ),
        now=at,
        windows=(settings or Settings()).dispute_windows,
    )
    assert result.after_sale_id is not None
    return result.after_sale_id


@dataclass
class AppClient:
    client: httpx.AsyncClient
    settings: Settings
    clock: Any
    last: dict[str, Any] = field(default_factory=dict)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        self.last = body
        return body["data"]  # type: ignore[no-any-return]
