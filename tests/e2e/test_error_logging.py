"""What GraphQL errors leave in the logs: a client's mistake is answered, not logged as an error
(it is the client's to fix, and would drown the server's own errors); a bug is logged at ERROR
with its traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from aftersales.store.accounts import ShopReads
from aftersales.store.records import ShopRecord
from api.schema import MAX_ALIASES
from tests.support.builders import make_seller
from tests.support.http import AppClient, error_messages, post_graphql

TOO_MANY_ALIASES = (
    "query { " + " ".join(f"s{n}: shops {{ shopId }}" for n in range(MAX_ALIASES + 1)) + " }"
)
BY_TYPE = "query ByType($type: AfterSaleType!) { afterSales(type: $type) { totalCount } }"

CLIENT_MISTAKES: list[tuple[str, str, dict[str, Any]]] = [
    ("an unknown enum value", "{ afterSales(type: NOPE) { totalCount } }", {}),
    ("an unknown enum value in a variable", BY_TYPE, {"type": "NOPE"}),
    (f"{MAX_ALIASES + 1} aliases", TOO_MANY_ALIASES, {}),
    ("an unknown warehouse", '{ inventory(warehouseId: "999999") { sku } }', {}),
    ("a malformed id", '{ inventory(warehouseId: "not-an-id") { sku } }', {}),
    ("a syntax error", "{ shops { shopId }", {}),
    ("an unknown field", "{ shops { nope } }", {}),
]


@pytest.mark.parametrize(
    ("query", "variables"),
    [(query, variables) for _, query, variables in CLIENT_MISTAKES],
    ids=[name for name, _, _ in CLIENT_MISTAKES],
)
async def test_a_client_mistake_is_answered_and_not_logged_as_an_error(
    app: AppClient, caplog: pytest.LogCaptureFixture, query: str, variables: dict[str, Any]
) -> None:
    seller = await make_seller()
    caplog.set_level(logging.DEBUG)

    response = await post_graphql(app, query, variables, token=seller.token)

    assert error_messages(response)  # the client is told
    assert "Internal error" not in response.text
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert loud == [], [(r.name, r.levelname, r.getMessage()) for r in loud]
    assert not any(r.exc_info for r in caplog.records)


async def test_a_bug_is_still_logged_at_error_with_its_traceback(
    app: AppClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seller = await make_seller()

    async def broken(self: ShopReads, seller_id: int) -> list[ShopRecord]:
        raise RuntimeError("a bug in the read side")

    monkeypatch.setattr(ShopReads, "shops_of", broken)

    response = await post_graphql(app, "{ shops { shopId } }", token=seller.token)

    assert error_messages(response) == ["Internal error; it has been logged."]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors
    assert all(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in errors)
