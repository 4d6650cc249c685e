"""Domain errors map to API codes and HTTP statuses by class (api/errors.py): the most specific
class in the table wins, so a new, narrower error keeps its family's code."""

from __future__ import annotations

import pytest

from aftersales.domain import errors
from api.errors import ERRORS, AfterSaleErrorCode, code_of, http_status_of


class ShopNotFound(errors.NotFound):
    pass


class ClosedShopNotFound(ShopNotFound):
    pass


class NewKindOfFailure(errors.DomainError):
    pass


@pytest.mark.parametrize(("error", "mapped"), list(ERRORS.items()))
def test_each_listed_error_has_its_own_code_and_status(
    error: type[errors.DomainError], mapped: tuple[AfterSaleErrorCode, int]
) -> None:
    exc = error("x")

    assert (code_of(exc), http_status_of(exc)) == mapped


@pytest.mark.parametrize("error", [ShopNotFound, ClosedShopNotFound])
def test_a_subclass_maps_as_its_nearest_listed_base(error: type[errors.DomainError]) -> None:
    exc = error("no such shop")

    assert (code_of(exc), http_status_of(exc)) == (AfterSaleErrorCode.NOT_FOUND, 404)


def test_an_error_the_table_does_not_name_is_a_validation_error() -> None:
    exc = NewKindOfFailure("x")

    assert (code_of(exc), http_status_of(exc)) == (AfterSaleErrorCode.VALIDATION, 400)
