"""Our ids in the API: positive 32-bit integers, sent as strings."""

from __future__ import annotations

import strawberry

from aftersales.store.queries import MAX_ID


def parse_id(value: strawberry.ID | str) -> int | None:
    """The id, or None: anything that is not one of our ids simply finds nothing."""
    text = str(value).strip()
    # Ids are 32-bit integer columns: a larger number would fail in PostgreSQL, not find nothing.
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
