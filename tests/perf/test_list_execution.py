"""The list page's fields are completed by `FastExecution` (api/schema.py): a page costs the
same number of fields on graphql-core's generic path (a resolver call, a resolve-info object,
Strawberry's wrapper each) whatever its size; its nested lists come with the page, not from a
resolver per row. Counted, not timed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from aftersales.domain.model import LineItem
from aftersales.settings import Settings
from api.context import Context
from api.fast_execution import FastExecution
from api.schema import build_schema
from tests.perf.test_statements import MUST_NOT_SHIP, PAGE
from tests.support.builders import make_sale, make_seller, seller_id_of
from tests.support.clock import Clock


class Counting(FastExecution):
    """FastExecution, counting the fields it hands to graphql-core's generic path."""

    generic: list[str] = []

    def execute_field(self, parent_type: Any, source: Any, details: Any, *rest: Any) -> Any:
        type(self).generic.append(f"{parent_type.name}.{details[0].node.name.value}")
        return super().execute_field(parent_type, source, details, *rest)


async def test_a_page_of_50_takes_the_generic_path_as_often_as_a_page_of_5(
    settings: Settings, clock: Clock
) -> None:
    seller = await make_seller()
    lines = (
        LineItem("MUG-01", "Mug", 1, Decimal("10.00")),
        LineItem("CUP-02", "Cup", 2, Decimal("5.00")),
    )
    for _ in range(55):
        await make_sale(seller, items=lines)
    seller_id = await seller_id_of(seller)
    schema = build_schema()
    schema.execution_context_class = Counting
    generic = {}
    for first in (5, 50):
        Counting.generic = []
        context = Context(seller_id=seller_id, settings=settings, clock=clock.now)
        result = await schema.execute(PAGE, {"first": first}, context_value=context)
        assert result.errors is None, result.errors
        assert result.data is not None
        edges = result.data["afterSales"]["edges"]
        assert len(edges) == first
        assert all(len(e["node"]["items"]) == 2 and e["node"]["history"] for e in edges)
        generic[first] = list(Counting.generic)
    assert generic[5] == generic[50] == ["Query.afterSales"], generic


async def test_the_must_not_ship_page_is_served_fast_and_as_graphql_core_serves_it(
    settings: Settings, clock: Clock
) -> None:
    seller = await make_seller()
    for status in ("CANCELLATION_REQUEST_SUCCESS", "CANCELLATION_REQUEST_PENDING") * 3:
        await make_sale(seller, return_type="CANCELLATION", status=status)
    seller_id = await seller_id_of(seller)
    answers = []
    for execution in (Counting, StrawberryGraphQLCoreExecutionContext):
        schema = build_schema()
        schema.execution_context_class = execution
        Counting.generic = []
        context = Context(seller_id=seller_id, settings=settings, clock=clock.now)
        result = await schema.execute(MUST_NOT_SHIP, {"first": 50}, context_value=context)
        assert result.errors is None, result.errors
        answers.append(result.data)
        if execution is Counting:
            assert Counting.generic == ["Query.afterSales"]

    fast, generic = answers
    assert fast == generic
    assert fast is not None and fast["afterSales"]["totalCount"] == 3
