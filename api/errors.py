"""Domain exceptions -> GraphQL `userErrors`, in one place."""

from __future__ import annotations

import enum

import strawberry

from aftersales import domain


@strawberry.enum
class AfterSaleErrorCode(enum.Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    ACTION_NOT_ALLOWED_FOR_TYPE = "ACTION_NOT_ALLOWED_FOR_TYPE"
    REGION_NOT_SUPPORTED = "REGION_NOT_SUPPORTED"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    NOT_RETURNED_YET = "NOT_RETURNED_YET"
    CONFLICT = "CONFLICT"
    VALIDATION = "VALIDATION"


CODES: dict[type[domain.DomainError], AfterSaleErrorCode] = {
    domain.NotFound: AfterSaleErrorCode.NOT_FOUND,
    domain.InvalidTransition: AfterSaleErrorCode.INVALID_TRANSITION,
    domain.ActionNotAllowedForType: AfterSaleErrorCode.ACTION_NOT_ALLOWED_FOR_TYPE,
    domain.RegionNotSupported: AfterSaleErrorCode.REGION_NOT_SUPPORTED,
    domain.InvalidAmount: AfterSaleErrorCode.INVALID_AMOUNT,
    domain.InvalidQuantity: AfterSaleErrorCode.INVALID_QUANTITY,
    domain.NotReturnedYet: AfterSaleErrorCode.NOT_RETURNED_YET,
    domain.Conflict: AfterSaleErrorCode.CONFLICT,
    domain.Invalid: AfterSaleErrorCode.VALIDATION,
}


@strawberry.type
class UserError:
    code: AfterSaleErrorCode
    field: list[str] | None
    message: str


def user_error(exc: domain.DomainError, *, prefix: str = "input") -> UserError:
    code = CODES.get(type(exc), AfterSaleErrorCode.VALIDATION)
    # A dotted field names a path into the input: "lines.2.quantity" -> [input, lines, 2, quantity].
    field = [prefix, *exc.field.split(".")] if exc.field else None
    return UserError(code=code, field=field, message=exc.message)
