"""The stock-in cap and line rules (aftersales.inventory), pure."""

from __future__ import annotations

import pytest

from aftersales.domain.errors import Invalid, InvalidQuantity
from aftersales.domain.model import StockCondition
from aftersales.domain.stock import (
    MAX_LEVEL,
    StockLine,
    check_levels,
    fingerprint,
    plan_stock_in,
    require_key_for_unknown_contents,
    validate_warehouse,
)

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
        ([("A", 10_001, G)], {"A": 20_000}, {}, InvalidQuantity, "lines.0.quantity"),
        ([("A", 10_001, G)], {}, {}, InvalidQuantity, "lines.0.quantity"),
        ([("A", 2, G)], {}, {"A": MAX_LEVEL - 1}, InvalidQuantity, "lines.0.quantity"),
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


def test_a_line_moves_at_most_ten_thousand_units() -> None:
    planned = plan_stock_in([StockLine("A", 10_000, G)], {}, {})

    assert [x.quantity for x in planned] == [10_000]


def test_units_of_unknown_contents_may_be_stocked_in_up_to_what_an_int_can_count() -> None:
    planned = plan_stock_in([StockLine("A", 10_000, G)], {}, {"A": MAX_LEVEL - 10_000})

    assert [x.quantity for x in planned] == [10_000]


def test_a_stock_in_of_unknown_contents_needs_an_idempotency_key() -> None:
    with pytest.raises(Invalid) as refused:
        require_key_for_unknown_contents({}, None)

    assert refused.value.field == "idempotencyKey"
    require_key_for_unknown_contents({}, "parcel-1")
    require_key_for_unknown_contents({"A": 1}, None)


@pytest.mark.parametrize(
    ("lines", "levels", "field"),
    [
        ([("A", 1, G)], {"A": (MAX_LEVEL, 0)}, "lines.0.quantity"),
        (
            [("B", 1, G), ("A", 600, D), ("A", 400, D)],
            {"A": (0, MAX_LEVEL - 999)},
            "lines.1.quantity",
        ),
    ],
)
def test_no_inventory_level_may_pass_what_graphql_can_read(
    lines: list[tuple[str, int, StockCondition]],
    levels: dict[str, tuple[int, int]],
    field: str,
) -> None:
    with pytest.raises(InvalidQuantity) as refused:
        check_levels([StockLine(*x) for x in lines], levels, warehouse="KL1")

    assert refused.value.field == field
    assert "2,147,483,647" in refused.value.message


def test_an_inventory_level_may_reach_what_graphql_can_read() -> None:
    check_levels([StockLine("A", 1_000, G)], {"A": (MAX_LEVEL - 1_000, MAX_LEVEL)}, warehouse="KL1")


@pytest.mark.parametrize(
    "address",
    [
        "\n".join(f"line {n}" for n in range(9)),
        "x" * 401,
        "\n".join(f"line {n}" for n in range(40)),
        "Jl. Contoh No. 1 " * 60,
    ],
    ids=["9 lines", "401 characters", "40 lines", "1,000 characters"],
)
def test_a_warehouse_address_a_label_cannot_hold_is_refused_saying_what_fits(address: str) -> None:
    with pytest.raises(Invalid) as refused:
        validate_warehouse("KL1", "Main", address)

    assert refused.value.field == "address"
    assert "at most 8 lines and 400 characters" in refused.value.message


def test_a_warehouse_address_of_8_lines_and_400_characters_is_accepted() -> None:
    address = "\n".join(["x" * 49] * 8)

    assert validate_warehouse("KL1", "Main", address).address == address
