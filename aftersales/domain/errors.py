"""Expected failures. Each carries a message for people and, when one input is at fault, the
`field` that names it (a dotted path into the input: "lines.2.quantity").

    DomainError
    ├── NotFound                 no such after-sale, warehouse or seller (or not the caller's)
    ├── InvalidTransition        the action exists for this type, but not in this status
    ├── ActionNotAllowedForType  the action never applies to this type
    ├── RegionNotSupported       exchanges outside the regions that support them
    ├── InvalidAmount            a refund amount out of bounds or not whole cents
    ├── InvalidQuantity          a stock-in quantity out of bounds or beyond what came back
    ├── NotReturnedYet           stock-in before the parcel arrived
    ├── Conflict                 lost too many races, or a duplicate registration
    ├── AlreadyRunning           an import of this shop is queued or running
    ├── RateLimited              too many requests of this kind for now
    └── Invalid                  malformed whatever the state (empty reason, long text, ...)

The API maps each class to an error code and an HTTP status in one table (api/errors.py).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure."""

    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    pass


class InvalidTransition(DomainError):
    pass


class ActionNotAllowedForType(DomainError):
    pass


class RegionNotSupported(DomainError):
    pass


class InvalidAmount(DomainError):
    pass


class InvalidQuantity(DomainError):
    pass


class NotReturnedYet(DomainError):
    pass


class Conflict(DomainError):
    pass


class AlreadyRunning(DomainError):
    pass


class RateLimited(DomainError):
    pass


class Invalid(DomainError):
    """Input that is malformed regardless of state (empty reason, too many ids, ...)."""


class TikTokRefused(DomainError):
    """A call to TikTok's API made on the seller's behalf failed (its code and message)."""
