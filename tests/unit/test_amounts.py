from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.domain.errors import InvalidAmount
from aftersales.domain.model import AfterSaleStatus, AfterSaleType, ReturnStatus, Sale
from aftersales.domain.rules import validate_partial_refund

SALE = Sale(
    type=AfterSaleType.REFUND_ONLY,
    status=AfterSaleStatus.PENDING_REQUEST,
    return_status=ReturnStatus.OTHER,
    region="MY",
    currency="MYR",
    refund_requested=Decimal("100.00"),
)


def test_trailing_zeros_beyond_cents_are_the_same_amount() -> None:
    assert validate_partial_refund(SALE, Decimal("10.000")) == Decimal("10.00")


@pytest.mark.parametrize("amount", ["10.001", "0.005", "NaN", "Infinity"])
def test_amounts_that_are_not_whole_cents_are_refused(amount: str) -> None:
    with pytest.raises(InvalidAmount):
        validate_partial_refund(SALE, Decimal(amount))
