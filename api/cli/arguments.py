"""The argparse types the subcommands share: each turns a string into a checked value or raises
`ArgumentTypeError`, which argparse prints as one usage error. One type for bounded whole numbers,
one for instants, one for durations: every option of the same kind reads and fails alike."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aftersales.commands import accounts
from aftersales.domain.errors import Invalid

# Instants the database and TikTok both accept, in UTC (as the GraphQL API bounds them).
FIRST_YEAR, LAST_YEAR = 1970, 9999


def whole_number(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high`; `what` names it in the message
    ("a port is 1 to 65535")."""

    def parse(text: str) -> int:
        try:
            number = int(text)  # a string of more than 4300 digits is a ValueError too
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is out of range: {what} is {low} to {high}")
        return number

    return parse


MAX_WORKERS = 64
port_number = whole_number(1, 65535, "a port")
worker_count = whole_number(1, MAX_WORKERS, "the number of workers")
batch_size = whole_number(1, 100_000, "a batch")


def duration(text: str) -> timedelta:
    """An argparse type: `30d`, `12h`, `90m`, `3600s`, `2w`."""
    try:
        return accounts.parse_duration(text)
    except Invalid as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def instant(text: str) -> datetime:
    """An argparse type: an ISO 8601 date (midnight) or date and time, in UTC when it has no
    offset, or Unix seconds; always returned in UTC, in the years 1970 to 9999."""
    raw = text.strip()
    try:
        at = datetime.fromtimestamp(int(raw), UTC) if raw.isdigit() else datetime.fromisoformat(raw)
        # An offset can carry a year-1 or year-9999 instant out of datetime's range.
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time: give ISO 8601 (2026-12-01 or"
            " 2026-12-01T09:00:00+07:00; UTC without an offset) or Unix seconds"
        ) from None
    if not FIRST_YEAR <= at.year <= LAST_YEAR:
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range: from {FIRST_YEAR} to {LAST_YEAR} (UTC)"
        )
    return at
