"""Nested lists load per page, not per row (docs/graphql.md): the SQL count does not grow with
the page."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal

import pytest

from aftersales.commands import seller as seller_commands
from aftersales.domain.model import LineItem
from aftersales.store import models
from tests.support.builders import Seller, make_sale, make_seller
from tests.support.clock import T0
from tests.support.http import AppClient

PAGE = """
query Page($first: Int!) {
  afterSales(first: $first) {
    totalCount
    edges {
      node {
        id status availableActions shop { shopId region }
        items { sku quantity unitRefund { amount currency } }
        notes { text }
        history { action actor source }
        stockedIn { sku quantity condition }
      }
    }
  }
}
"""
SQL_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class StatementCounter(logging.Handler):
    """Counts the SQL statements Tortoise logs on "tortoise.db_client" at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip()
        if message.upper().startswith(SQL_VERBS):
            self.statements.append(message)


@pytest.fixture
def sql() -> Iterator[StatementCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


async def _seller_id(seller: Seller) -> int:
    return (await models.Seller.get(name=seller.name)).id


async def _statements_for_a_page(
    app: AppClient, token: str, first: int, sql: StatementCounter
) -> int:
    sql.statements.clear()
    data = await app.gql(PAGE, {"first": first}, token=token)
    assert len(data["afterSales"]["edges"]) == first
    return len(sql.statements)


async def test_a_page_of_40_costs_as_many_queries_as_a_page_of_5(
    app: AppClient, sql: StatementCounter
) -> None:
    seller = await make_seller()
    items = (
        LineItem("SKU-1", "Blue mug", 1, Decimal("10.00")),
        LineItem("SKU-2", "Red mug", 2, Decimal("45.00")),
    )
    seller_id = await _seller_id(seller)
    for _ in range(40):
        sale_id = await make_sale(seller, items=items)
        await seller_commands.add_note(seller_id, sale_id, "checked", now=T0)
    await app.gql(PAGE, {"first": 1}, token=seller.token)  # records the token's use, once a minute

    small = await _statements_for_a_page(app, seller.token, 5, sql)
    large = await _statements_for_a_page(app, seller.token, 40, sql)

    assert small == large > 0
    # auth, count, page, and one per nested list (items, notes, history, stocked-in)
    assert large <= 7, sql.statements


async def test_every_nested_list_is_filled_for_every_row_of_the_page(app: AppClient) -> None:
    seller = await make_seller()
    seller_id = await _seller_id(seller)
    for _ in range(12):
        sale_id = await make_sale(seller)
        await seller_commands.add_note(seller_id, sale_id, f"note {sale_id}", now=T0)

    data = await app.gql(PAGE, {"first": 12}, token=seller.token)

    nodes = [edge["node"] for edge in data["afterSales"]["edges"]]
    assert all(len(node["items"]) == 1 for node in nodes)
    assert [node["notes"] for node in nodes] == [[{"text": f"note {node['id']}"}] for node in nodes]
    assert all(
        [h["action"] for h in node["history"]] == ["PLATFORM_STATUS_REPORTED", "ADD_NOTE"]
        for node in nodes
    )
