"""Amounts in a currency's own digits: how many decimals an amount may have, and how it is
written for TikTok (docs/tiktok-sync.md#money).

The digits are CLDR's, read through Babel (`get_currency_precision`): IDR, VND, JPY and KRW
have none, MYR, THB, PHP, SGD, USD and GBP two. ISO 4217's exponent differs for some (IDR is 2
there), and TikTok writes IDR amounts as whole numbers, as CLDR does. Babel's table is data
shipped in its package: nothing here does I/O beyond reading it once, or reads a clock. This is
the one module of the domain that imports something besides the standard library
(pyproject.toml's import-linter contracts hold it to that).
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import get_currency_precision

# What an amount column holds (aftersales/store/models.py `MONEY`): a currency with more
# digits (BHD, KWD: 3) is still refused a third decimal.
STORED_DIGITS = 2


def digits(currency: str | None) -> int:
    """How many decimals an amount in `currency` has (CLDR); two when it is not known."""
    if not currency:
        return STORED_DIGITS
    return min(get_currency_precision(currency.upper()), STORED_DIGITS)


def smallest_unit(currency: str | None) -> Decimal:
    """The currency's smallest unit: 1 for IDR, 0.01 for MYR."""
    return Decimal(1).scaleb(-digits(currency))


def exact(amount: Decimal, currency: str | None) -> Decimal | None:
    """`amount` in the currency's digits (trailing zeros dropped or added: 40000.00 IDR is
    40000), or None when it is not a whole number of the smallest unit (40000.5 IDR)."""
    unit = smallest_unit(currency)
    fitted = amount.quantize(unit)
    return fitted if fitted == amount else None


def wire(amount: Decimal, currency: str) -> str:
    """The decimal string TikTok is sent: exactly the currency's digits, never an exponent
    ("40000" for IDR, "12.50" for MYR). `amount` must already be `exact`."""
    return f"{amount.quantize(smallest_unit(currency)):f}"


def describe_digits(currency: str | None) -> str:
    """What the digits rule says, for an error message."""
    places = digits(currency)
    name = currency.upper() if currency else "this currency"
    if places == 0:
        return f"amounts in {name} are whole numbers (it has no minor unit)"
    return f"amounts in {name} have at most {places} decimal place{'s' if places > 1 else ''}"
