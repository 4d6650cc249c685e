"""How the commands print: instants in UTC, and tables in aligned columns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def when(at: datetime | None, never: str = "-") -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at is not None else never


def print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*padded, row[-1]]))
