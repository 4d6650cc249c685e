"""The cost limit's arithmetic (api/cost.py, docs/graphql.md#cost), from documents and variables."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from api.cost import MAX_COMMANDS, MAX_READS, Cost, cost_of
from api.schema import schema

ALL_LISTS = "items { sku } notes { text } history { action } stockedIn { sku }"


def cost(document: str, variables: dict[str, Any] | None = None, name: str | None = None) -> Cost:
    return cost_of(schema._schema, parse(document), name, variables)


def aliases(count: int, field: str) -> str:
    return " ".join(f"a{n}: {field}" for n in range(count))


@pytest.mark.parametrize(
    ("document", "reads"),
    [
        ("{ afterSales { totalCount } }", 0),
        ("{ afterSales { edges { node { id } } } }", 20),
        ("{ afterSales(first: 0) { edges { node { id } } } }", 0),
        (
            "{ afterSales(first: 100) { edges { node { id items { sku } history { action } } } } }",
            300,
        ),
        ("{ afterSales(first: 100) { edges { node { " + ALL_LISTS + " } } } }", 500),
        ("{ afterSales(first: 5000) { edges { node { id } } } }", 100),  # refused anyway
        ("{ afterSale(id: 1) { id notes { text } } }", 2),
        ("{ shops { shopId } afterSaleCounts(type: RETURN) { count } }", 0),
        ("{ warehouses { id } }", 200),  # the most a seller may have
        ("{ inventory { sku warehouse { code } } }", 100),
        ("{ inventory(first: 10) { sku } }", 10),
    ],
)
def test_a_query_costs_its_after_sales_and_their_nested_lists(document: str, reads: int) -> None:
    assert cost(document) == Cost(reads=reads, commands=0)


def test_page_sizes_come_from_variables_and_their_defaults() -> None:
    document = """
    query Page($n: Int! = 50, $m: Int!) {
      a: afterSales(first: $n) { edges { node { id } } }
      b: afterSales(first: $m) { edges { node { id } } }
    }
    """

    assert cost(document, {"m": 10}).reads == 60
    assert cost(document, {"n": 100, "m": 100}).reads == 200


def test_fragments_and_inline_fragments_count_like_the_fields_they_hold() -> None:
    document = """
    query { afterSales(first: 100) { ...Page } }
    fragment Page on AfterSaleConnection {
      edges { node { ...Sale ... on AfterSale { notes { text } } } }
    }
    fragment Sale on AfterSale { id items { sku } }
    """

    assert cost(document).reads == 300


def test_only_the_operation_named_is_counted() -> None:
    document = """
    query Small { afterSales(first: 1) { edges { node { id } } } }
    query Large { afterSales(first: 100) { edges { node { id } } } }
    """

    assert cost(document, name="Small").reads == 1
    assert cost(document, name="Large").reads == 100


def test_thirty_aliased_warehouse_lists_are_over_the_read_limit() -> None:
    spent = cost("{ " + aliases(30, "warehouses { id code name address }") + " }")

    assert spent.reads == 30 * 200 > MAX_READS
    assert not spent.within_limits


def test_aliases_multiply_a_page() -> None:
    page = "afterSales(first: 100) { edges { node { id " + ALL_LISTS + " } } }"

    assert cost("{ " + aliases(10, page) + " }") == Cost(reads=MAX_READS, commands=0)
    assert not cost("{ " + aliases(30, page) + " }").within_limits


def test_a_bulk_mutation_runs_one_command_per_id_and_reads_each_after_sale() -> None:
    document = """
    mutation($input: BulkIdsInput!) {
      acceptReturnBulk(input: $input) {
        results { id afterSale { id history { action } } userErrors { code } }
        userErrors { code }
      }
    }
    """

    spent = cost(document, {"input": {"ids": [str(n) for n in range(1, 101)]}})

    assert spent == Cost(reads=200, commands=100)
    assert spent.within_limits


def test_ids_written_in_the_document_or_in_a_variable_of_their_own_count_alike() -> None:
    literal = (
        'mutation { addNoteBulk(input: {ids: ["1", "2", "3"], text: "x"}) { results { id } } }'
    )
    variable = (
        'mutation($ids: [ID!]!) { addNoteBulk(input: {ids: $ids, text: "x"}) { results { id } } }'
    )

    assert cost(literal).commands == 3
    assert cost(variable, {"ids": ["1", "2"]}).commands == 2
    assert cost(variable, {"ids": "1"}).commands == 1  # one id is coerced to a list of one


def test_a_single_mutation_runs_one_command() -> None:
    document = """
    mutation {
      a: acceptReturn(input: {id: "1"}) { afterSale { id } }
      b: addNote(input: {id: "1", text: "x"}) { afterSale { notes { text } } }
    }
    """

    assert cost(document) == Cost(reads=3, commands=2)


def test_thirty_aliased_bulk_calls_of_100_ids_are_over_the_command_limit() -> None:
    bulk = "acceptReturnBulk(input: $input) { results { id } }"
    document = "mutation($input: BulkIdsInput!) { " + aliases(30, bulk) + " }"

    spent = cost(document, {"input": {"ids": [str(n) for n in range(1, 101)]}})

    assert spent.commands == 3000 > MAX_COMMANDS
    assert not spent.within_limits
    error = spent.error()
    assert error.extensions is not None and error.extensions["code"] == "COST_LIMIT"
    assert "3,000 commands (at most 200" in error.message
