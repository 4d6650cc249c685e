"""Text that no database column can hold gets a clear 4xx, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.builders import make_sale, make_seller
from tests.support.http import AppClient, assert_no_stack_trace, error_messages, post_graphql

ADD_NOTE = """
mutation Note($id: ID!, $text: String!) {
  addNote(input: {id: $id, text: $text}) { afterSale { notes { text } } userErrors { code } }
}
"""
NOTES = "query Notes($id: ID!) { afterSale(id: $id) { notes { text } } }"
INLINE_NUL_NOTE = """
mutation Note($id: ID!) {
  addNote(input: {id: $id, text: "a\\u0000b"}) { userErrors { code } }
}
"""
SEARCH = "query Search($q: String) { afterSales(search: $q) { totalCount } }"


async def test_a_nul_character_in_variables_is_refused_before_anything_is_written(
    app: AppClient,
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)

    response = await post_graphql(
        app, ADD_NOTE, {"id": str(sale_id), "text": "a\x00b"}, token=seller.token
    )

    assert response.status_code == 400
    assert "NUL" in error_messages(response)[0]
    assert_no_stack_trace(response)
    notes = await app.gql(NOTES, {"id": str(sale_id)}, token=seller.token)
    assert notes["afterSale"]["notes"] == []


async def test_a_nul_escape_inside_the_query_text_is_refused(app: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)

    response = await post_graphql(app, INLINE_NUL_NOTE, {"id": str(sale_id)}, token=seller.token)

    assert response.status_code == 400
    notes = await app.gql(NOTES, {"id": str(sale_id)}, token=seller.token)
    assert notes["afterSale"]["notes"] == []


async def test_a_nul_in_a_search_filter_is_refused_not_an_internal_error(app: AppClient) -> None:
    seller = await make_seller()

    response = await post_graphql(app, SEARCH, {"q": "57648\x00"}, token=seller.token)

    assert response.status_code == 400
    assert_no_stack_trace(response)


async def test_an_escaped_backslash_before_u0000_is_plain_text_and_kept(app: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)

    await app.gql(ADD_NOTE, {"id": str(sale_id), "text": "path C:\\u0000"}, token=seller.token)

    notes = await app.gql(NOTES, {"id": str(sale_id)}, token=seller.token)
    assert notes["afterSale"]["notes"] == [{"text": "path C:\\u0000"}]


# A lone surrogate (half of a UTF-16 pair) is not Unicode text: neither database can store it.
REJECT_REFUND = """
mutation Reject($id: ID!, $reason: String!) {
  rejectRefund(input: {id: $id, reason: $reason}) { userErrors { code } }
}
"""
CREATE_WAREHOUSE = """
mutation Warehouse($code: String!) {
  createWarehouse(input: {code: $code, name: "Main"}) { userErrors { code } }
}
"""
WAREHOUSES = "query { warehouses { code } }"
LONE_SURROGATE = "a\ud800b"


async def post_json(
    app: AppClient, query: str, variables: dict[str, Any], *, token: str
) -> httpx.Response:
    """A request whose JSON escapes every non-ASCII character, lone surrogates included
    ("\\ud800"), as JavaScript's JSON.stringify does (httpx would refuse to encode one)."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    return await app.client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def assert_refused_for_a_lone_surrogate(response: httpx.Response) -> None:
    assert response.status_code == 400
    assert "lone surrogate" in error_messages(response)[0]
    assert_no_stack_trace(response)


@pytest.mark.parametrize(
    ("operation", "variable"),
    [
        (ADD_NOTE, "text"),
        (REJECT_REFUND, "reason"),
        (CREATE_WAREHOUSE, "code"),
        (SEARCH, "q"),
    ],
    ids=["addNote.text", "rejectRefund.reason", "createWarehouse.code", "afterSales.search"],
)
async def test_a_lone_surrogate_in_variables_is_refused_before_anything_runs(
    app: AppClient, operation: str, variable: str
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)

    response = await post_json(
        app, operation, {"id": str(sale_id), variable: LONE_SURROGATE}, token=seller.token
    )

    assert_refused_for_a_lone_surrogate(response)
    notes = await app.gql(NOTES, {"id": str(sale_id)}, token=seller.token)
    assert notes["afterSale"]["notes"] == []
    assert (await app.gql(WAREHOUSES, token=seller.token))["warehouses"] == []


@pytest.mark.parametrize(
    "text",
    ["a\\ud800b", "a\\udc00b", "a\\ud83db", "a\\u{D800}b", "a\\ud83d\\u0041b"],
    ids=["lead", "trail", "lead-alone", "braces", "lead-then-letter"],
)
async def test_a_lone_surrogate_escape_in_the_query_text_is_refused(
    app: AppClient, text: str
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)
    inline = INLINE_NUL_NOTE.replace("a\\u0000b", text)

    response = await post_json(app, inline, {"id": str(sale_id)}, token=seller.token)

    assert_refused_for_a_lone_surrogate(response)
    notes = await app.gql(NOTES, {"id": str(sale_id)}, token=seller.token)
    assert notes["afterSale"]["notes"] == []


async def test_a_lone_surrogate_in_a_get_querys_variables_is_refused(app: AppClient) -> None:
    seller = await make_seller()

    response = await app.client.get(
        "/graphql",
        params={"query": SEARCH, "variables": json.dumps({"q": LONE_SURROGATE})},
        headers={"Authorization": f"Bearer {seller.token}"},
    )

    assert_refused_for_a_lone_surrogate(response)


async def test_a_lone_surrogate_sent_as_raw_bytes_is_refused(app: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)
    body = (
        json.dumps({"query": ADD_NOTE, "variables": {"id": str(sale_id), "text": "ab"}})
        .replace('"ab"', '"a\ud800b"')
        .encode("utf-8", "surrogatepass")
    )

    response = await app.client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {seller.token}", "Content-Type": "application/json"},
    )

    assert_refused_for_a_lone_surrogate(response)
    notes = await app.gql(NOTES, {"id": str(sale_id)}, token=seller.token)
    assert notes["afterSale"]["notes"] == []


async def test_a_surrogate_pair_is_a_character_like_any_other_and_kept(app: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)
    inline = INLINE_NUL_NOTE.replace("a\\u0000b", "\\ud83d\\ude00 \\u{1F600}")

    escaped = await post_json(
        app, ADD_NOTE, {"id": str(sale_id), "text": "mug \U0001f600"}, token=seller.token
    )
    written = await post_json(app, inline, {"id": str(sale_id)}, token=seller.token)

    assert (escaped.status_code, written.status_code) == (200, 200)
    notes = await app.gql(NOTES, {"id": str(sale_id)}, token=seller.token)
    assert notes["afterSale"]["notes"] == [
        {"text": "mug \U0001f600"},
        {"text": "\U0001f600 \U0001f600"},
    ]
