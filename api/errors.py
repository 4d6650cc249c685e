"""Domain errors as the API reports them: one table, used by every resolver and route.

An expected failure of a seller action is a `userErrors` entry of its payload; an expected
failure of a query (a bad cursor, an unknown warehouse) is a top-level GraphQL error whose
`extensions.code` is the same code; an HTTP route (the label download) answers the status.
"""

from __future__ import annotations

import enum

import strawberry
from graphql import GraphQLError

from aftersales.domain import errors


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
    TIKTOK_ERROR = "TIKTOK_ERROR"  # a call to TikTok's API failed; the message says why
    ALREADY_RUNNING = "ALREADY_RUNNING"  # an import of this shop is queued or running
    RATE_LIMITED = "RATE_LIMITED"  # too many requests of this kind for now; try later
    # Not a DomainError: an unexpected failure of one id of a bulk call (logged; not applied).
    INTERNAL_ERROR = "INTERNAL_ERROR"


C = AfterSaleErrorCode

# domain error -> (code, HTTP status); subclasses map as their nearest listed base
ERRORS: dict[type[errors.DomainError], tuple[AfterSaleErrorCode, int]] = {
    errors.NotFound: (C.NOT_FOUND, 404),
    errors.InvalidTransition: (C.INVALID_TRANSITION, 409),
    errors.ActionNotAllowedForType: (C.ACTION_NOT_ALLOWED_FOR_TYPE, 409),
    errors.RegionNotSupported: (C.REGION_NOT_SUPPORTED, 422),
    errors.InvalidAmount: (C.INVALID_AMOUNT, 422),
    errors.InvalidQuantity: (C.INVALID_QUANTITY, 422),
    errors.NotReturnedYet: (C.NOT_RETURNED_YET, 409),
    errors.Conflict: (C.CONFLICT, 409),
    errors.Invalid: (C.VALIDATION, 400),
    errors.TikTokRefused: (C.TIKTOK_ERROR, 502),
    errors.AlreadyRunning: (C.ALREADY_RUNNING, 409),
    errors.RateLimited: (C.RATE_LIMITED, 429),
}


def _mapped(exc: errors.DomainError) -> tuple[AfterSaleErrorCode, int]:
    """The entry of the most specific class in the table that `exc` is an instance of: its own
    class, else the nearest base (a subclass of NotFound is NOT_FOUND); VALIDATION for a
    DomainError the table does not name."""
    for cls in type(exc).__mro__:
        found = ERRORS.get(cls)
        if found is not None:
            return found
    return (C.VALIDATION, 400)


def code_of(exc: errors.DomainError) -> AfterSaleErrorCode:
    return _mapped(exc)[0]


def http_status_of(exc: errors.DomainError) -> int:
    return _mapped(exc)[1]


@strawberry.type
class UserError:
    code: AfterSaleErrorCode
    field: list[str] | None
    message: str


def user_error(exc: errors.DomainError, *, prefix: str = "input") -> UserError:
    # A dotted field names a path into the input: "lines.2.quantity" -> [input, lines, 2, quantity].
    field = [prefix, *exc.field.split(".")] if exc.field else None
    return UserError(code=code_of(exc), field=field, message=exc.message)


def graphql_error(exc: errors.DomainError) -> GraphQLError:
    """A top-level error for a query, carrying the same code as a `userErrors` entry would."""
    return GraphQLError(exc.message, extensions={"code": code_of(exc).value})
