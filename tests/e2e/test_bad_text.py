"""Text that no database column can hold gets a clear 4xx, on SQLite and PostgreSQL alike."""

from __future__ import annotations

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
