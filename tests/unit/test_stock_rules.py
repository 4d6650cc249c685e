"""The stock-in cap and line rules (aftersales.inventory), pure."""

from __future__ import annotations

import pytest

from aftersales.domain.errors import Invalid, InvalidQuantity
from aftersales.domain.model import StockCondition
from aftersales.domain.stock import StockLine, fingerprint, plan_stock_in, validate_warehouse

G, D = StockCondition.GOOD, StockCondition.DAMAGED


@pytest.mark.parametrize(
    ("lines", "returned", "stocked", "planned"),
    [
        ([("A", 2, G)], {"A": 2}, {}, [("A", 2, G)]),
        ([("A", 1, G), ("A", 1, D)], {"A": 2}, {}, [("A", 1, G), ("A", 1, D)]),
        ([("A", 1, G), ("A", 1, G)], {"A": 3}, {"A": 1}, [("A", 2, G)]),
        ([(" A ", 1, G)], {"A": 1}, {}, [("A", 1, G)]),
        ([("ANY", 9, G)], {}, {}, [("ANY", 9, G)]),  # contents unknown: no cap
    ],
)
def test_allowed_stock_ins_are_planned_one_movement_per_sku_and_condition(
    lines: list[tuple[str, int, StockCondition]],
    returned: dict[str, int],
    stocked: dict[str, int],
    planned: list[tuple[str, int, StockCondition]],
) -> None:
    result = plan_stock_in([StockLine(*x) for x in lines], returned, stocked)

    assert [(x.sku, x.quantity, x.condition) for x in result] == planned


@pytest.mark.parametrize(
    ("lines", "returned", "stocked", "error", "field"),
    [
        ([("A", 3, G)], {"A": 2}, {}, InvalidQuantity, "lines.0.quantity"),
        ([("A", 1, G)], {"A": 2}, {"A": 2}, InvalidQuantity, "lines.0.quantity"),
        ([("A", 1, G), ("A", 2, D)], {"A": 2}, {}, InvalidQuantity, "lines.0.quantity"),
        ([("A", 0, G)], {"A": 2}, {}, InvalidQuantity, "lines.0.quantity"),
        ([("A", 1, G), ("B", -1, G)], {"A": 2}, {}, InvalidQuantity, "lines.1.quantity"),
        ([("B", 1, G)], {"A": 2}, {}, InvalidQuantity, "lines.0.sku"),
        ([("", 1, G)], {"A": 2}, {}, Invalid, "lines.0.sku"),
        ([], {"A": 2}, {}, Invalid, "lines"),
    ],
)
def test_refused_stock_ins_name_the_line_at_fault(
    lines: list[tuple[str, int, StockCondition]],
    returned: dict[str, int],
    stocked: dict[str, int],
    error: type[Exception],
    field: str,
) -> None:
    with pytest.raises(error) as refused:
        plan_stock_in([StockLine(*x) for x in lines], returned, stocked)

    assert type(refused.value) is error
    assert getattr(refused.value, "field", None) == field


def test_the_fingerprint_ignores_line_order_but_not_quantities() -> None:
    a = [StockLine("A", 1, G), StockLine("B", 2, D)]

    assert fingerprint(1, a) == fingerprint(1, list(reversed(a)))
    assert fingerprint(1, a) != fingerprint(2, a)
    assert fingerprint(1, a) != fingerprint(1, [StockLine("A", 2, G), StockLine("B", 2, D)])


def test_warehouse_fields_are_trimmed_and_required() -> None:
    assert validate_warehouse(" KL1 ", " Main ", "  ").address is None
    with pytest.raises(Invalid):
        validate_warehouse("KL1", "  ", None)
