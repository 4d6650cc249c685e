"""GraphQL and HTTP limits (docs/graphql.md): abuse gets a clear 4xx or a GraphQL error, never
a 500."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from aftersales.store.accounts import ShopReads
from aftersales.store.records import ShopRecord
from api.cost import CODE as COST_LIMIT
from api.cost import MAX_READS
from api.endpoint import MAX_BODY_BYTES
from api.schema import MAX_ALIASES, MAX_TOKENS
from tests.support.builders import make_sale, make_seller
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

    async def broken(self: ShopReads, seller_id: int) -> list[ShopRecord]:
        raise RuntimeError("password=hunter2 at db-internal:5432")

    monkeypatch.setattr(ShopReads, "shops_of", broken)

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
        (
            b'{"query": "{ shops { shopId } }", "x": "\xff\xfe"}',
            "application/json",
            "Unable to parse request body as JSON",
        ),
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


# --- fragments that each spread the next one twice (api/limits.py, api/cost.py) -------------


def chained_fragments(count: int) -> str:
    """About 1 KB for 30 fragments; 2^30 selections once every spread is expanded."""
    fragments = " ".join(
        f"fragment F{n} on Query {{ shops {{ shopId }} ...F{n + 1} ...F{n + 1} }}"
        for n in range(count)
    )
    return f"query {{ ...F0 }} {fragments} fragment F{count} on Query {{ shops {{ shopId }} }}"


@pytest.mark.parametrize("count", [25, 30])
async def test_chained_fragment_spreads_are_answered_at_once(app: AppClient, count: int) -> None:
    seller = await make_seller()

    started = time.perf_counter()
    data = await app.gql(chained_fragments(count), token=seller.token)
    took = time.perf_counter() - started

    assert data == {"shops": [{"shopId": seller.shop_id}]}
    assert took < 2.0  # it was minutes at 25, hours at 30, with the event loop blocked


# --- the cost limit (api/cost.py) ---------------------------------------------------------

ALL_LISTS = "items { sku } notes { text } history { action } stockedIn { sku }"
FULL_PAGE = "afterSales(first: 100) { edges { node { id " + ALL_LISTS + " } } }"
BULK = "acceptReturnBulk(input: $input) { results { id userErrors { code } } }"
STATUS = "query Status($id: ID!) { afterSale(id: $id) { status history { action } } }"
NOTES = "query Notes($id: ID!) { afterSale(id: $id) { notes { text } } }"


def aliased(count: int, field: str) -> str:
    return " ".join(f"a{n}: {field}" for n in range(count))


def hundred_ids(*real: int) -> list[str]:
    return [str(n) for n in real] + [str(n) for n in range(1_000_000, 1_000_100 - len(real))]


async def test_thirty_aliased_bulk_calls_are_refused_before_any_of_them_runs(
    app: AppClient,
) -> None:
    seller = await make_seller()
    sales = [await make_sale(seller) for _ in range(3)]
    document = "mutation Many($input: BulkIdsInput!) { " + aliased(30, BULK) + " }"

    response = await post_graphql(
        app, document, {"input": {"ids": hundred_ids(*sales)}}, token=seller.token
    )

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == COST_LIMIT
    assert error["extensions"]["cost"] == {"reads": 0, "commands": 3000}
    assert "at most 200" in error["message"]
    for sale in sales:
        after = await app.gql(STATUS, {"id": str(sale)}, token=seller.token)
        assert after["afterSale"]["status"] == "PENDING_REQUEST"
        assert len(after["afterSale"]["history"]) == 1
    assert_no_stack_trace(response)


async def test_thirty_aliased_full_pages_with_nested_lists_are_refused(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller)

    response = await post_graphql(
        app, "query Pages { " + aliased(30, FULL_PAGE) + " }", token=seller.token
    )

    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == [COST_LIMIT]
    assert body["errors"][0]["extensions"]["cost"]["reads"] == 30 * 500 > MAX_READS


async def test_ten_full_pages_a_page_with_items_and_history_and_a_100_id_bulk_are_answered(
    app: AppClient,
) -> None:
    seller = await make_seller()
    sale = await make_sale(seller)
    page = "afterSales(first: 100) { edges { node { id items { sku } history { action } } } }"
    bulk = "mutation One($input: BulkIdsInput!) { " + BULK + " }"

    pages = await app.gql("query { " + aliased(10, FULL_PAGE) + " }", token=seller.token)
    one = await app.gql("query { " + page + " }", token=seller.token)
    done = await app.gql(bulk, {"input": {"ids": hundred_ids(sale)}}, token=seller.token)

    assert len(pages) == 10
    assert [e["node"]["id"] for e in one["afterSales"]["edges"]] == [str(sale)]
    results = done["acceptReturnBulk"]["results"]
    assert len(results) == 100
    assert results[0] == {"id": str(sale), "userErrors": []}


# --- one operation per request ------------------------------------------------------------

TWO_OPERATIONS = """
mutation Note($id: ID!) {
  addNote(input: {id: $id, text: "from the first operation"}) { userErrors { code } }
}
query Read($id: ID!) { afterSale(id: $id) { notes { text } } }
"""


async def test_two_operations_without_an_operation_name_are_an_error_and_run_nothing(
    app: AppClient,
) -> None:
    seller = await make_seller()
    sale = await make_sale(seller)

    response = await post_graphql(app, TWO_OPERATIONS, {"id": str(sale)}, token=seller.token)

    assert response.status_code == 200
    assert response.json()["data"] is None
    assert error_messages(response) == [
        "Must provide operation name if query contains multiple operations."
    ]
    notes = await app.gql(NOTES, {"id": str(sale)}, token=seller.token)
    assert notes["afterSale"]["notes"] == []


async def test_the_operation_named_is_the_one_that_runs(app: AppClient) -> None:
    seller = await make_seller()
    sale = await make_sale(seller)
    headers = {"Authorization": f"Bearer {seller.token}"}
    request = {"query": TWO_OPERATIONS, "variables": {"id": str(sale)}}

    noted = await app.client.post(
        "/graphql", json={**request, "operationName": "Note"}, headers=headers
    )
    read = await app.client.post(
        "/graphql", json={**request, "operationName": "Read"}, headers=headers
    )

    assert noted.json() == {"data": {"addNote": {"userErrors": []}}}
    assert read.json() == {"data": {"afterSale": {"notes": [{"text": "from the first operation"}]}}}


# --- JSON nested too deep to parse -------------------------------------------------------

NESTED_100K = b"[" * 100_000 + b"]" * 100_000


def nested_variables(depth: int) -> bytes:
    return (
        b'{"query": "query Search($q: String) { afterSales(search: $q) { totalCount } }",'
        b' "variables": {"q": ' + b"[" * depth + b"]" * depth + b"}}"
    )


@pytest.mark.parametrize(
    "body", [NESTED_100K, nested_variables(100_000)], ids=["body", "variables"]
)
async def test_deeply_nested_json_without_a_token_is_a_401_and_never_parsed(
    app: AppClient, body: bytes
) -> None:
    response = await app.client.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert_no_stack_trace(response)


@pytest.mark.parametrize(
    "body",
    [NESTED_100K, nested_variables(100_000), nested_variables(70)],
    ids=["body", "variables", "variables-70-deep"],
)
async def test_deeply_nested_json_is_a_clean_400(app: AppClient, body: bytes) -> None:
    seller = await make_seller()
    headers = {"Authorization": f"Bearer {seller.token}", "Content-Type": "application/json"}

    response = await app.client.post("/graphql", content=body, headers=headers)

    assert response.status_code == 400
    assert error_messages(response) == ["the request's JSON is nested more than 64 levels deep"]
    assert_no_stack_trace(response)


async def test_deeply_nested_variables_of_a_get_query_are_a_clean_400(app: AppClient) -> None:
    seller = await make_seller()
    query = "query Search($q: String) { afterSales(search: $q) { totalCount } }"

    response = await app.client.get(
        "/graphql",
        params={"query": query, "variables": '{"q": ' + "[" * 10_000 + "]" * 10_000 + "}"},
        headers={"Authorization": f"Bearer {seller.token}"},
    )

    assert response.status_code == 400
    assert "nested more than 64 levels" in error_messages(response)[0]
    assert_no_stack_trace(response)


async def test_variables_nested_within_the_limit_reach_graphql_and_are_refused_there(
    app: AppClient,
) -> None:
    seller = await make_seller()
    headers = {"Authorization": f"Bearer {seller.token}", "Content-Type": "application/json"}

    response = await app.client.post("/graphql", content=nested_variables(60), headers=headers)

    assert response.status_code == 200
    assert "String cannot represent a non string value" in error_messages(response)[0]
