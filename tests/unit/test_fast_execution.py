"""`FastExecution` (api/schema.py) completes plain fields itself: whatever the values, the data
and the errors must be exactly those of graphql-core's own execution. Each query runs on the
same Strawberry schema twice, once with Strawberry's execution context and once with
`FastExecution`, over sources holding both good values and every kind of bad one."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import strawberry
from graphql import Undefined
from strawberry.extensions import ParserCache, SchemaExtension

from api import fast_plan
from api.context import PREFETCHED
from api.fast_execution import FastExecution


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Money:
    amount: Decimal
    currency: str


@strawberry.type
class Line:
    sku: str
    note: str | None
    color: Color
    price: Money | None


async def _lines(root: Thing) -> list[Line]:
    """As the after-sale's nested lists do: the prefetched list when there is one."""
    if root.prefetched_lines is not None:
        return root.prefetched_lines
    return [Line(sku="from-resolver", note=None, color=Color.BLUE, price=None)]


async def _labels(root: Thing) -> list[str]:
    """As the after-sale's tags do: a prefetched list of strings when there is one."""
    if root.prefetched_labels is not None:
        return root.prefetched_labels
    return ["from-resolver"]


@strawberry.type
class Thing:
    id: strawberry.ID
    name: str
    maybe: str | None
    count: int
    # A Boolean leaf, as `AfterSale.mustNotShip`: `True`/`False`, and bad values below.
    flag: bool
    color: Color
    maybe_color: Color | None
    at: datetime
    price: Money
    maybe_price: Money | None
    colors: list[Color]
    maybe_colors: list[Color | None] | None
    lines: list[Line]
    maybe_lines: list[Line | None] | None
    prefetched_lines: strawberry.Private[list[Line] | None] = None
    fetched: list[Line] = strawberry.field(
        resolver=_lines, metadata={PREFETCHED: "prefetched_lines"}
    )
    prefetched_labels: strawberry.Private[list[str] | None] = None
    labels: list[str] = strawberry.field(
        resolver=_labels, metadata={PREFETCHED: "prefetched_labels"}
    )

    @strawberry.field
    def computed(self, times: int = 2) -> str:
        return self.name * times

    @strawberry.field
    async def linked(self) -> Thing | None:
        """An object of the field's own type from an async resolver, as `supersedes` and
        `supersededBy` are (a dataloader's): its fields take the fast way again."""
        return None if self.name == "linked" else replace(self, name="linked")


# Sources of the cases hold coroutines that a query leaving their field out never awaits.
pytestmark = [
    pytest.mark.filterwarnings("ignore:coroutine '_awaitable' was never awaited"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

AT = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


def good(**changes: Any) -> Thing:
    fields: dict[str, Any] = {
        "id": strawberry.ID("7"),
        "name": "mug",
        "maybe": None,
        "count": 3,
        "flag": True,
        "color": Color.RED,
        "maybe_color": None,
        "at": AT,
        "price": Money(amount=Decimal("10.50"), currency="MYR"),
        "maybe_price": None,
        "colors": [Color.RED, Color.BLUE],
        "maybe_colors": [Color.BLUE, None],
        "lines": [
            Line(sku="A", note="n", color=Color.RED, price=Money(amount=Decimal(1), currency="")),
            Line(sku="B", note=None, color=Color.BLUE, price=None),
        ],
        "maybe_lines": [None, Line(sku="C", note=None, color=Color.RED, price=None)],
    }
    fields.update(changes)
    return Thing(**fields)


async def _awaitable(value: Any) -> Any:
    return value


class Exploding:
    """An attribute read that raises."""

    @property
    def sku(self) -> str:
        raise RuntimeError("no sku")

    note = None
    color = Color.RED
    price = None


# Each case: a name and the sources (built anew for every run: awaitables are awaited once).
CASES: dict[str, Any] = {
    "good": lambda: [
        good(),
        good(maybe="x", flag=False, maybe_color=Color.BLUE, maybe_lines=None),
    ],
    "prefetched": lambda: [
        good(prefetched_lines=[Line(sku="P", note=None, color=Color.RED, price=None)]),
        good(prefetched_labels=["vip", "fragile"]),
        good(prefetched_labels=[]),
    ],
    "bad prefetched strings": lambda: [
        good(prefetched_labels=["ok", None]),
        good(prefetched_labels=[ValueError("x")]),
        good(prefetched_labels="not a list"),
        good(prefetched_labels=[_awaitable("later")]),
    ],
    "null in non-null leaf": lambda: [good(name=None)],
    "null in non-null enum": lambda: [good(color=None)],
    "null in non-null object": lambda: [good(price=None)],
    "null in non-null list": lambda: [good(colors=None), good(lines=None)],
    "null item in non-null list": lambda: [good(colors=[Color.RED, None])],
    "null object item in non-null list": lambda: [good(lines=[None])],
    "wrong scalar": lambda: [good(count="three"), good(at="yesterday"), good(count=2**40)],
    "wrong boolean": lambda: [good(flag="yes"), good(flag=1), good(flag=None)],
    "wrong enum": lambda: [good(color="RED"), good(maybe_color="green"), good(colors=["x"])],
    "wrong object": lambda: [good(price="10"), good(maybe_price=Money(amount="x", currency=1))],
    "not a list": lambda: [good(colors="RED"), good(lines=7), good(maybe_lines=(None,))],
    "exception value": lambda: [good(maybe=ValueError("v")), good(price=ValueError("p"))],
    "exception item": lambda: [good(lines=[ValueError("i")]), good(colors=[KeyError("k")])],
    "undefined": lambda: [good(maybe=Undefined), good(maybe_price=Undefined)],
    "undefined item": lambda: [good(maybe_lines=[Undefined]), good(lines=[Undefined])],
    "awaitable": lambda: [
        good(maybe=_awaitable("later"), price=_awaitable(Money(amount=Decimal(2), currency="X")))
    ],
    "awaitable item": lambda: [
        good(lines=[_awaitable(Line(sku="L", note=None, color=Color.RED, price=None))])
    ],
    "raising attribute": lambda: [good(lines=[Exploding()]), good(maybe_lines=[Exploding()])],
    "missing attribute": lambda: [good(price=object())],
    "nested bad values": lambda: [
        good(lines=[Line(sku=None, note=None, color=Color.RED, price=None)]),
        good(maybe_lines=[Line(sku="ok", note=None, color="bad", price=None)]),
        good(
            maybe_lines=[
                Line(sku="ok", note=None, color=Color.RED, price=Money(amount=None, currency="Z"))
            ]
        ),
    ],
}

NO_ERRORS = {"good", "prefetched", "awaitable", "awaitable item", "undefined"}

ALL_FIELDS = """
id name maybe count flag color maybeColor at
price { amount currency } maybePrice { amount currency }
colors maybeColors
lines { sku note color price { amount currency } }
maybeLines { sku note color price { amount currency } }
fetched { sku }
labels
"""
QUERIES = {
    "all": "{ things { " + ALL_FIELDS + " } maybeThings { " + ALL_FIELDS + " } }",
    "fragments and aliases": """
        query { things { ...F a: name b: name lines { ... on Line { sku } sku } } }
        fragment F on Thing { id computed(times: 3) price { __typename amount } }
    """,
    "directives": """
        query ($yes: Boolean = true) {
          things { name @include(if: $yes) maybe @skip(if: $yes) colors @include(if: false)
                   lines @include(if: $yes) { sku note @skip(if: false) } }
        }
    """,
    "typename": "{ __typename things { __typename price { __typename } lines { __typename } } }",
    "linked": "{ things { name linked { " + ALL_FIELDS + " linked { name } } } }",
}


def build(context_class: Any, sources: Callable[[], list[Thing]], extensions: Any = ()) -> Any:
    """The schema, its two root fields each reading sources of their own."""

    @strawberry.type
    class Query:
        @strawberry.field
        def things(self) -> list[Thing]:
            return sources()

        @strawberry.field
        async def maybe_things(self) -> list[Thing | None] | None:
            return sources()

    return strawberry.Schema(
        query=Query, execution_context_class=context_class, extensions=extensions
    )


def outcome(result: Any) -> tuple[Any, list[tuple[str, Any]]]:
    errors = [(e.message, e.path) for e in result.errors or []]
    return result.data, errors


async def run(context_class: Any, case: str, query: str, extensions: Any = ()) -> Any:
    schema = build(context_class, CASES[case], extensions)
    return outcome(await schema.execute(query))


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("case", CASES)
async def test_fast_execution_answers_exactly_as_graphql_core(case: str, query: str) -> None:
    expected = await run(None, case, QUERIES[query])
    assert await run(FastExecution, case, QUERIES[query]) == expected


def test_the_cases_do_reach_the_errors_they_are_about() -> None:
    """The comparison above is only worth something if the bad values do make errors."""
    import asyncio

    for case in CASES:
        _, errors = asyncio.run(run(None, case, QUERIES["all"]))
        assert (errors == []) == (case in NO_ERRORS), (
            case,
            errors,
        )


class Upper(SchemaExtension):
    """An extension with a `resolve` hook: middleware wraps every field."""

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        result = _next(root, info, *args, **kwargs)
        return result.upper() if isinstance(result, str) else result


async def test_with_middleware_every_field_goes_through_it() -> None:
    fast = await run(FastExecution, "good", QUERIES["all"], [Upper])
    assert fast == await run(None, "good", QUERIES["all"], [Upper])
    assert fast[0]["things"][0]["name"] == "MUG"


class Counting(FastExecution):
    """FastExecution counting the fields it hands to graphql-core's generic path."""

    generic = 0

    def execute_field(self, *args: Any, **kwargs: Any) -> Any:
        type(self).generic += 1
        return super().execute_field(*args, **kwargs)


def _generic_fields(count: int) -> int:
    import asyncio

    Counting.generic = 0
    schema = build(Counting, lambda: [good() for _ in range(count)])
    _, errors = outcome(asyncio.run(schema.execute("{ things { " + ALL_FIELDS + " } }")))
    assert errors == []
    return Counting.generic


def test_plain_fields_do_not_go_the_generic_way() -> None:
    # `things` and each thing's `fetched` and `labels` (resolvers, not prefetched here) only.
    assert _generic_fields(1) == 3
    assert _generic_fields(20) == 41


def build_cached(context_class: Any, sources: Callable[[], list[Thing]]) -> Any:
    """`build`, with parsed documents cached as api/schema.py caches them: every request
    with the same text runs the same document nodes (so FastExecution reuses its plans)."""

    @strawberry.type
    class Query:
        @strawberry.field
        def things(self) -> list[Thing]:
            return sources()

        @strawberry.field
        async def maybe_things(self) -> list[Thing | None] | None:
            return sources()

    return strawberry.Schema(
        query=Query,
        execution_context_class=context_class,
        extensions=[lambda: ParserCache(maxsize=8)],
    )


@pytest.mark.parametrize("query", QUERIES)
async def test_plans_kept_across_requests_answer_every_later_request_as_graphql_core(
    query: str,
) -> None:
    current = ["good"]
    fast = build_cached(FastExecution, lambda: CASES[current[0]]())
    generic = build_cached(None, lambda: CASES[current[0]]())
    for case in [*CASES, "good", *reversed(CASES)]:
        current[0] = case
        for variables in (None, {"yes": False}, {"yes": True}):
            got = outcome(await fast.execute(QUERIES[query], variable_values=variables))
            expected = outcome(await generic.execute(QUERIES[query], variable_values=variables))
            assert got == expected, (case, variables)


def test_only_operations_whose_fields_do_not_depend_on_variables_keep_their_plans() -> None:
    import asyncio

    schema = build_cached(FastExecution, lambda: [good()])
    for name in ("all", "fragments and aliases", "typename", "directives"):
        asyncio.run(schema.execute(QUERIES[name]))
    kept = {
        operation.loc.source.body if operation.loc else "": plans
        for operation, plans in fast_plan._shared.values()
    }

    assert kept[QUERIES["all"]]  # steps made on the first request, kept for the next
    assert kept[QUERIES["fragments and aliases"]]
    assert kept[QUERIES["directives"]] is None  # @include(if: $yes): planned per request
