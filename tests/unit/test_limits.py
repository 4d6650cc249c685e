"""The depth and alias limits (api/limits.py) and the cost walk (api/cost.py) on documents
whose fragments each spread the next one twice: 2^N fields once expanded, N fragments written.
Each is computed once per fragment, so these answer in milliseconds, with the same results a
full expansion would give."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from graphql import parse, specified_rules, validate
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter

from api.cost import cost_of
from api.schema import LIMIT_RULES, MAX_ALIASES, MAX_DEPTH, schema

T = TypeVar("T")
RULES = [*specified_rules, *LIMIT_RULES]
DEEP = "shops { " * (MAX_DEPTH + 2) + "shopId" + " }" * (MAX_DEPTH + 2)


def chained(count: int, last: str, on: str = "Query") -> str:
    """`fragment F0 { <last> ...F1 ...F1 } ... fragment F<count> { <last> }`, spread by F0."""
    fragments = " ".join(
        f"fragment F{n} on {on} {{ {last} ...F{n + 1} ...F{n + 1} }}" for n in range(count)
    )
    return f"{fragments} fragment F{count} on {on} {{ {last} }}"


def aliases_of(count: int) -> str:
    return " ".join(f"s{n}: shops {{ shopId }}" for n in range(count))


def within(seconds: float, work: Callable[[], T]) -> T:
    """What `work` returns, failing the test if it takes longer than `seconds` (an exponential
    walk would run for hours: it is left behind in a daemon thread)."""
    done: list[T] = []
    thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert done, f"not done within {seconds} s"
    return done[0]


def messages(document: str) -> list[str]:
    errors = within(2.0, lambda: validate(schema._schema, parse(document), RULES))
    return [error.message for error in errors]


def test_thirty_chained_fragments_validate_in_milliseconds() -> None:
    document = "query { ...F0 } " + chained(30, "shops { shopId }")

    found = messages(document)

    assert found == []


def test_a_deep_field_in_the_last_of_thirty_fragments_is_one_depth_error() -> None:
    document = "query Bomb { ...F0 } " + chained(30, "shops { shopId }").replace(
        "fragment F30 on Query { shops { shopId } }", f"fragment F30 on Query {{ {DEEP} }}"
    )

    found = messages(document)

    assert found.count(f"'Bomb' exceeds maximum operation depth of {MAX_DEPTH}") == 1


def test_an_alias_in_the_last_of_thirty_fragments_counts_once_per_spread() -> None:
    document = "query { ...F0 } " + chained(30, "shops { shopId }").replace(
        "fragment F30 on Query { shops", "fragment F30 on Query { a: shops"
    )

    found = messages(document)

    assert f"{2**30} aliases found. Allowed: {MAX_ALIASES}" in found


def test_the_cost_of_thirty_chained_fragments_is_that_of_the_fields_collected() -> None:
    page = "afterSales(first: 100) { edges { node { id notes { text } } } }"
    document = parse("query { ...F0 } " + chained(30, page))

    spent = within(2.0, lambda: cost_of(schema._schema, document, None, None))

    # One page per fragment, each of 100 after-sales with their notes: a fragment spread twice
    # in a selection set is collected once, as execution collects it.
    assert spent.reads == 31 * 200


def test_the_cost_of_nested_fragments_spread_in_several_fields_multiplies() -> None:
    document = parse(
        """
        query { afterSales(first: 10) { ...Page } }
        fragment Page on AfterSaleConnection { edges { ...Edge } edges { ...Edge } }
        fragment Edge on AfterSaleEdge { node { ...Sale } node { ...Sale } }
        fragment Sale on AfterSale { id notes { text } ...Sale2 ...Sale2 }
        fragment Sale2 on AfterSale { history { action } }
        """
    )

    spent = cost_of(schema._schema, document, None, None)

    # 2 edges x 2 nodes, each 10 after-sales with two lists: 4 * 10 * 3.
    assert spent.reads == 120


@pytest.mark.parametrize(
    "document",
    [
        "query Deep { " + DEEP + " }",
        "{ " + DEEP + " shops { shopId } }",
        "query Q { ...A } fragment A on Query { shops { " + DEEP + " } }",
        "query Q { ... on Query { " + DEEP + " } }",
        "query Ok { shops { shopId } }",
        "{ __schema { types { fields { type { fields { type { name } } } } } } }",
        "query A { " + DEEP + " } query B { shops { shopId } }",
        "query { " + aliases_of(MAX_ALIASES + 1) + " }",
        "query { ...F } fragment F on Query { " + aliases_of(MAX_ALIASES) + " }",
    ],
)
def test_documents_without_repeated_spreads_get_the_errors_strawberry_gave(document: str) -> None:
    """Outside the exponential case, clients see what Strawberry's limiters told them."""
    strawberry_rules = [
        *specified_rules,
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]

    ours = validate(schema._schema, parse(document), RULES)
    theirs = validate(schema._schema, parse(document), strawberry_rules)

    assert [e.formatted for e in ours] == [e.formatted for e in theirs]
