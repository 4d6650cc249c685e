"""GRAPHQL_FAST_EXECUTION=off runs graphql-core's own executor instead of `FastExecution`
(api/fast_execution.py), should an upgrade of graphql-core or Strawberry break it: the same
answers, slower."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest

from aftersales.domain.model import LineItem
from aftersales.settings import ConfigError, Settings, load_settings
from api.app import create_app
from api.fast_execution import FastExecution
from tests.perf.test_statements import PAGE
from tests.support.builders import make_sale, make_seller
from tests.support.clock import Clock


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, True),
        ({"GRAPHQL_FAST_EXECUTION": "off"}, False),
        ({"GRAPHQL_FAST_EXECUTION": "on"}, True),
    ],
)
def test_fast_execution_is_on_unless_turned_off(env: dict[str, str], expected: bool) -> None:
    assert load_settings(env).graphql_fast_execution is expected


def test_a_bad_switch_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="GRAPHQL_FAST_EXECUTION must be 'on' or 'off'"):
        load_settings({"GRAPHQL_FAST_EXECUTION": "fast"})


async def _page(settings: Settings, clock: Clock, token: str) -> dict[str, Any]:
    asgi = create_app(settings, clock=clock.now, manage_database=False, run_jobs=False)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/graphql",
            json={"query": PAGE, "variables": {"first": 10}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_turned_off_the_page_is_the_same_without_fast_execution(
    settings: Settings, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller = await make_seller()
    lines = (LineItem("MUG-01", "Mug", 1, Decimal("10.00")),)
    for _ in range(12):
        await make_sale(seller, items=lines)
    fast_runs: list[str] = []
    original = FastExecution.execute_fields

    def counting(self: FastExecution, parent_type: Any, *args: Any) -> Any:
        fast_runs.append(parent_type.name)
        return original(self, parent_type, *args)

    monkeypatch.setattr(FastExecution, "execute_fields", counting)

    fast = await _page(settings, clock, seller.token)
    ran_fast = len(fast_runs)
    generic = await _page(replace(settings, graphql_fast_execution=False), clock, seller.token)

    assert "errors" not in fast and len(fast["data"]["afterSales"]["edges"]) == 10
    assert generic == fast
    assert ran_fast > 0
    assert len(fast_runs) == ran_fast  # nothing more ran through FastExecution when off
