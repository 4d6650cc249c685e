"""The argparse types the subcommands share: each turns a string into a checked value or raises
`ArgumentTypeError`, which argparse prints as one usage error."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from aftersales.commands import accounts
from aftersales.domain.errors import Invalid


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: a port is 1 to 65535")
    return port


MAX_WORKERS = 64


def worker_count(text: str) -> int:
    """An argparse type: how many processes serve, 1 to MAX_WORKERS."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= count <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{count} is out of range: 1 to {MAX_WORKERS} workers")
    return count


def batch_size(text: str) -> int:
    """An argparse type: rows per batch, 1 to 100,000."""
    try:
        size = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= size <= 100_000:
        raise argparse.ArgumentTypeError(f"{size} is out of range: 1 to 100000")
    return size


def duration(text: str) -> timedelta:
    """An argparse type: `30d`, `12h`, `90m`, `3600s`, `2w`."""
    try:
        return accounts.parse_duration(text)
    except Invalid as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def since_date(text: str) -> datetime:
    """`--since`: an ISO date (midnight UTC) or date and time (UTC unless it says otherwise)."""
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date such as 2026-11-01 or 2026-11-01T08:00:00+07:00"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def expiry(text: str) -> datetime:
    """An argparse type: an ISO 8601 instant (UTC when it has no offset) or Unix seconds."""
    raw = text.strip()
    try:
        at = datetime.fromtimestamp(int(raw), UTC) if raw.isdigit() else datetime.fromisoformat(raw)
    except (ValueError, OverflowError, OSError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time: give ISO 8601 (2026-12-01T09:00:00Z) or Unix seconds"
        ) from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
