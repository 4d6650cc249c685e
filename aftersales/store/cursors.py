"""Page cursors: each order's key, opaque to clients; and the times a query may be given."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from aftersales.domain.errors import Invalid
from aftersales.store.records import SaleRecord

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns
# Times given to a query must fall in these years (UTC): both databases store them, alike.
FIRST_YEAR, LAST_YEAR = 1970, 9999


def encode_cursor(record: SaleRecord, *, urgent: bool = False) -> str:
    if urgent:
        # "d|<deadline, empty when none>|id": the order's own key, so a cursor of one order is
        # refused by the other.
        due = record.seller_response_deadline
        raw = f"d|{'' if due is None else due.isoformat()}|{record.id}"
    else:
        raw = f"{record.created_at.isoformat()}|{record.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_deadline_cursor(cursor: str) -> tuple[datetime | None, int]:
    """The (deadline or None, id) of an urgent-queue cursor; `Invalid` for anything else."""
    bad = Invalid("the cursor is not one this API returned for this order", field="after")
    try:
        mark, due, sale_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        number = int(sale_id)
        at = datetime.fromisoformat(due) if due else None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if mark != "d" or not 0 < number <= MAX_ID:
        raise bad
    if at is None:
        return None, number
    utc = in_range(at) if at.tzinfo is not None else None
    if utc is None:
        raise bad
    return utc, number


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        created, _, sale_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        if created == "d":
            raise ValueError("an urgent-queue cursor")
        at, number = datetime.fromisoformat(created), int(sale_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        at, number = None, 0
    # A naive time, a time out of range or an id beyond the integer column would fail in the
    # database, not here.
    utc = in_range(at) if at is not None and at.tzinfo is not None else None
    if utc is None or not 0 < number <= MAX_ID:
        raise Invalid("the cursor is not one this API returned", field="after")
    return utc, number


def as_utc(value: datetime) -> datetime:
    """A time as UTC; a time without an offset is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def in_range(value: datetime) -> datetime | None:
    """The time as UTC if it falls in the years FIRST_YEAR to LAST_YEAR there, else None."""
    try:
        utc = as_utc(value)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is in year 0 in UTC
        return None
    return utc if FIRST_YEAR <= utc.year <= LAST_YEAR else None
