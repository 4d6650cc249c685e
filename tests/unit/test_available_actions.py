"""`available_actions` reads a table worked out from `check` (aftersales/domain/rules.py): for
every combination of what `check` reads, the table must say exactly what `check` says, whatever
else the sale holds."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftersales.domain.errors import DomainError
from aftersales.domain.model import (
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    ReturnStatus,
    Sale,
    SellerAction,
)
from aftersales.domain.rules import EXCHANGE_REGIONS, actions_for, available_actions, check

REGIONS = sorted({*EXCHANGE_REGIONS, "MY", "TH", "US", ""})
TRACKING = (None, "", "JX123456789MY")
STATUSES = (None, *AfterSaleStatus)


def allowed_by_check(sale: Sale) -> list[SellerAction]:
    allowed = []
    for action in SellerAction:
        try:
            check(sale, action)
        except DomainError:
            continue
        allowed.append(action)
    return allowed


@pytest.mark.parametrize("type_", list(AfterSaleType), ids=lambda t: t.value)
def test_the_table_agrees_with_check_for_every_combination(type_: AfterSaleType) -> None:
    for status, return_status, region, tracking in itertools.product(
        STATUSES, ReturnStatus, REGIONS, TRACKING
    ):
        sale = Sale(
            type=type_,
            status=status,
            return_status=return_status,
            region=region,
            tracking_number=tracking,
        )
        expected = allowed_by_check(sale)
        assert available_actions(sale) == expected, sale
        assert list(actions_for(type_, status, region, tracking, return_status)) == expected
        for action in SellerAction:
            assert (action in expected) == _allowed(sale, action), (sale, action)


def _allowed(sale: Sale, action: SellerAction) -> bool:
    try:
        check(sale, action)
    except DomainError:
        return False
    return True


def test_what_check_does_not_read_does_not_change_the_answer() -> None:
    bare = Sale(
        type=AfterSaleType.RETURN_AND_REFUND,
        status=AfterSaleStatus.PENDING_REQUEST,
        return_status=ReturnStatus.OTHER,
        region="MY",
    )
    full = Sale(
        type=bare.type,
        status=bare.status,
        return_status=bare.return_status,
        region=bare.region,
        currency="MYR",
        refund_requested=Decimal("10.00"),
        partial_refund_offer=Decimal("5.00"),
        dispute_status=DisputeStatus.IN_PROGRESS,
        refund_amount=Decimal("10.00"),
        reason="Damaged",
        carrier="J&T",
        seller_response_deadline=datetime(2026, 12, 1, tzinfo=UTC),
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    assert available_actions(full) == available_actions(bare) == allowed_by_check(full)


def test_the_answer_is_a_new_list_each_time() -> None:
    sale = Sale(
        type=AfterSaleType.REFUND_ONLY,
        status=AfterSaleStatus.PENDING_REQUEST,
        return_status=ReturnStatus.OTHER,
        region="MY",
    )
    first = available_actions(sale)
    first.clear()
    assert available_actions(sale) == allowed_by_check(sale) != []
