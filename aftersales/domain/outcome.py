"""What became of a report, a parcel event or a webhook delivery: one vocabulary for the
commands that apply them and the delivery log that records them (its `outcome` column)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.Enum):
    # What applying a report or a parcel event did.
    CREATED = "created"
    APPLIED = "applied"
    STALE = "stale"  # equal to or older than what was already applied
    UNMAPPED = "unmapped"  # a status we do not map: recorded, platformStatus kept
    UNMATCHED = "unmatched"  # a parcel event for no known after-sale yet: applied when it appears
    UNKNOWN_SHOP = "unknown_shop"  # waits for the shop to be registered
    # What the delivery log adds.
    DUPLICATE = "duplicate"
    UNKNOWN_TYPE = "unknown_type"
    RECORDED = "recorded"  # a known type we do not act on yet (cancellations)
    REJECTED = "rejected"  # signed, but not a valid envelope
    FAILED = "failed"  # applying raised: kept with the error, replayable
    PROCESSING = "processing"  # never committed: the row is finished in the same transaction


# Deliveries kept to be applied later: when their shop is registered, or replayed after a failure.
WAITING = (Outcome.UNKNOWN_SHOP, Outcome.FAILED)


@dataclass(frozen=True)
class Result:
    """What applying something did, and to which after-sale.

    `gained_tracking`: a tracking number the after-sale did not have before (it was created with
    it, or the event set it), so parcel events that waited for it can now be matched.
    `delivery_id`: set once the result is recorded in the delivery log."""

    outcome: Outcome
    after_sale_id: int | None = None
    reason: str | None = None
    gained_tracking: str | None = None
    delivery_id: int | None = None
