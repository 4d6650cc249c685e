"""The delivery log's vocabulary: where a delivery came from and what became of it, shared by the
inbox (aftersales.inbox) and the parcel events it applies late (aftersales.backlog)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from aftersales.domain import DomainError

TIKTOK = "tiktok"
LOGISTICS = "logistics"


class Outcome(enum.Enum):
    APPLIED = "applied"
    CREATED = "created"
    DUPLICATE = "duplicate"
    STALE = "stale"
    UNMAPPED = "unmapped"  # a status we do not map: recorded, platformStatus kept
    UNMATCHED = "unmatched"  # a parcel event for no known after-sale yet: applied when it appears
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_SHOP = "unknown_shop"  # waits for the shop to be registered
    RECORDED = "recorded"  # a known type we do not act on yet (cancellations)
    REJECTED = "rejected"  # signed, but not a valid envelope
    FAILED = "failed"  # applying raised: kept with the error, replayable
    PROCESSING = "processing"  # never committed: the row is finished in the same transaction


@dataclass(frozen=True)
class Receipt:
    delivery_id: int
    outcome: Outcome
    after_sale_id: int | None = None
    reason: str | None = None


def describe(exc: Exception) -> str:
    """An error as the delivery log keeps it."""
    if isinstance(exc, DomainError):
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"[:2000]
