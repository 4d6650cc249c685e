from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from aftersales.domain import money
from aftersales.domain.errors import InvalidAmount
from aftersales.domain.model import AfterSaleStatus, AfterSaleType, ReturnStatus, Sale
from aftersales.domain.model import SellerAction as A
from aftersales.domain.rules import validate_partial_refund
from aftersales.domain.sync import decision_call

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


def _in(currency: str, requested: str = "100000") -> Sale:
    return replace(SALE, currency=currency, refund_requested=Decimal(requested))


# The digits SPEC pins, as CLDR gives them through Babel (ISO 4217 says 2 for IDR).
@pytest.mark.parametrize(
    ("currency", "digits"),
    [("IDR", 0), ("VND", 0), ("JPY", 0), ("KRW", 0)]
    + [(c, 2) for c in ("MYR", "THB", "PHP", "SGD", "USD", "GBP")],
)
def test_each_currency_has_the_digits_of_cldr(currency: str, digits: int) -> None:
    assert money.digits(currency) == digits
    assert money.digits(currency.lower()) == digits


def test_an_offer_in_rupiah_with_a_fraction_is_refused() -> None:
    with pytest.raises(InvalidAmount) as refused:
        validate_partial_refund(_in("IDR"), Decimal("40000.5"))

    assert refused.value.field == "amount"
    assert "whole numbers" in refused.value.message


def test_trailing_zeros_of_a_rupiah_offer_are_dropped() -> None:
    offer = validate_partial_refund(_in("IDR"), Decimal("40000.00"))

    assert offer == Decimal("40000")
    assert str(offer) == "40000"


def test_amounts_are_written_for_tiktok_in_the_currency_digits() -> None:
    assert money.wire(Decimal("40000"), "IDR") == "40000"
    assert money.wire(Decimal("4E+4"), "VND") == "40000"
    assert money.wire(Decimal("12.5"), "MYR") == "12.50"
    assert money.wire(Decimal("12"), "USD") == "12.00"


def test_the_partial_refund_sent_to_tiktok_has_exactly_the_currency_digits() -> None:
    idr = decision_call(A.OFFER_PARTIAL_REFUND, amount=Decimal("40000"), currency="IDR")
    myr = decision_call(A.OFFER_PARTIAL_REFUND, amount=Decimal("12.5"), currency="MYR")

    assert idr.body["partial_refund"] == {"amount": "40000", "currency": "IDR"}
    assert myr.body["partial_refund"] == {"amount": "12.50", "currency": "MYR"}
