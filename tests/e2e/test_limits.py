"""GraphQL and HTTP limits (docs/graphql.md): abuse gets a clear 4xx or a GraphQL error, never
a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aftersales.store import queries
from api.endpoint import MAX_BODY_BYTES
from api.schema import MAX_ALIASES, MAX_TOKENS
from tests.support.builders import make_seller
from tests.support.http import AppClient, assert_no_stack_trace, error_messages, post_graphql

# Our schema is shallow; the depth limit is still checked on whatever document arrives.
TOO_DEEP = "query Deep { " + "shops { " * 12 + "shopId" + " }" * 12 + " }"
DEEP_BUT_ALLOWED = "query { afterSales { edges { node { shop { shopId } } } } }"
TOO_MANY_ALIASES = (
    "query Aliases { "
    + " ".join(f"s{n}: shops {{ shopId }}" for n in range(MAX_ALIASES + 1))
    + " }"
)
ENOUGH_ALIASES = (
    "query { " + " ".join(f"s{n}: shops {{ shopId }}" for n in range(MAX_ALIASES)) + " }"
)
TOO_MANY_TOKENS = "query Tokens { shops { " + "shopId " * MAX_TOKENS + "} }"
SHOPS = "query { shops { shopId } }"


async def test_a_document_deeper_than_the_limit_is_a_validation_error(app: AppClient) -> None:
    seller = await make_seller()

    response = await post_graphql(app, TOO_DEEP, token=seller.token)

    assert response.status_code == 200
    assert response.json()["data"] is None
    assert "'Deep' exceeds maximum operation depth of 10" in error_messages(response)
    assert_no_stack_trace(response)


async def test_the_deepest_real_query_is_within_the_depth_limit(app: AppClient) -> None:
    seller = await make_seller()

    data = await app.gql(DEEP_BUT_ALLOWED, token=seller.token)

    assert data == {"afterSales": {"edges": []}}


async def test_too_many_aliases_are_a_validation_error(app: AppClient) -> None:
    seller = await make_seller()

    response = await post_graphql(app, TOO_MANY_ALIASES, token=seller.token)

    assert response.status_code == 200
    assert error_messages(response) == [f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"]
    assert_no_stack_trace(response)


async def test_aliases_up_to_the_limit_are_answered(app: AppClient) -> None:
    seller = await make_seller()

    data = await app.gql(ENOUGH_ALIASES, token=seller.token)

    assert len(data) == MAX_ALIASES


async def test_too_many_tokens_are_refused_before_parsing_the_whole_document(
    app: AppClient,
) -> None:
    seller = await make_seller()

    response = await post_graphql(app, TOO_MANY_TOKENS, token=seller.token)

    assert response.status_code in (200, 400)
    assert error_messages(response) == [
        f"Syntax Error: Document contains more than {MAX_TOKENS} tokens. Parsing aborted."
    ]
    assert_no_stack_trace(response)


async def test_an_unexpected_internal_error_is_masked_and_logged(
    app: AppClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seller = await make_seller()

    async def broken(seller_id: int) -> list[queries.ShopRecord]:
        raise RuntimeError("password=hunter2 at db-internal:5432")

    monkeypatch.setattr(queries, "shops_of", broken)

    response = await post_graphql(app, SHOPS, token=seller.token)

    assert response.status_code == 200
    assert error_messages(response) == ["Internal error; it has been logged."]
    assert "hunter2" not in response.text
    assert_no_stack_trace(response)
    assert "hunter2" in caplog.text


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"{not json", "application/json", "Unable to parse request body as JSON"),
        (b'{"query": 5}', "application/json", "`query` must be a string"),
        (b'{"variables": {}}', "application/json", "No GraphQL query found"),
        (b"query=x", "application/x-www-form-urlencoded", "Unsupported content type"),
    ],
)
async def test_a_malformed_request_body_is_a_400(
    app: AppClient, content: bytes, content_type: str, message: str
) -> None:
    seller = await make_seller()
    headers = {"Authorization": f"Bearer {seller.token}", "Content-Type": content_type}

    response = await app.client.post("/graphql", content=content, headers=headers)

    assert response.status_code == 400
    assert message in response.text
    assert "Traceback" not in response.text


async def test_a_body_over_the_size_limit_is_a_413(app: AppClient) -> None:
    seller = await make_seller()
    padding = " " * MAX_BODY_BYTES

    response = await app.client.post(
        "/graphql",
        json={"query": SHOPS + padding},
        headers={"Authorization": f"Bearer {seller.token}"},
    )

    assert response.status_code == 413
    assert error_messages(response) == [f"request body over {MAX_BODY_BYTES} bytes"]


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_size_limit(
    app: AppClient,
) -> None:
    seller = await make_seller()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "' + SHOPS.encode()
        for _ in range(MAX_BODY_BYTES // 1024 + 1):
            yield b" " * 1024
        yield b'"}'

    response = await app.client.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {seller.token}", "Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_a_streamed_body_within_the_limit_is_answered(app: AppClient) -> None:
    seller = await make_seller()

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "query { shops '
        yield b'{ shopId } }"}'

    response = await app.client.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {seller.token}", "Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"shops": [{"shopId": seller.shop_id}]}}


async def test_other_methods_are_a_405(app: AppClient) -> None:
    response = await app.client.put("/graphql", json={"query": SHOPS})

    assert response.status_code == 405
