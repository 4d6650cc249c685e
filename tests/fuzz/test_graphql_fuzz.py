"""The GraphQL schema under generated operations (every query and mutation field, random
arguments): never a 5xx, a traceback, SQL or an internal error in a response."""

from __future__ import annotations

from pathlib import Path

import hypothesis_graphql as hg
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from tests.support.builders import make_sale, make_seller
from tests.support.http import AppClient, post_graphql

SCHEMA = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text(encoding="utf-8")
LEAKS = ("Traceback", "SELECT ", "INSERT ", "sqlite", "asyncpg", "tortoise", "Internal error")
# Extremes first: the edges of the calendar and of UTC offsets are where dates break.
EXTREME_TIMES = st.sampled_from(
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1969-12-31T23:59:59Z", "0001-01-01"]
)
SCALARS = {
    "DateTime": EXTREME_TIMES.map(nodes.String)
    | (
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()) | st.text(max_size=30)
    ).map(nodes.String),
    "Decimal": (
        st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str) | st.text(max_size=20)
    ).map(nodes.String),
}


def assert_clean(text: str, status: int) -> None:
    assert status < 500, text
    for leak in LEAKS:
        assert leak not in text, text


@given(query=hg.queries(SCHEMA, custom_scalars=SCALARS, allow_x00=False))
async def test_generated_queries_are_answered_cleanly(app: AppClient, query: object) -> None:
    seller = await make_seller()
    await make_sale(seller)

    response = await post_graphql(app, str(query), token=seller.token)

    assert_clean(response.text, response.status_code)


@given(mutation=hg.mutations(SCHEMA, custom_scalars=SCALARS, allow_x00=False))
async def test_generated_mutations_are_answered_cleanly(app: AppClient, mutation: object) -> None:
    seller = await make_seller()
    await make_sale(seller)

    response = await post_graphql(app, str(mutation), token=seller.token)

    assert_clean(response.text, response.status_code)
