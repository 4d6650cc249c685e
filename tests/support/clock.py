"""Time in tests: a fixed start and a clock that moves only when told to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@dataclass
class Clock:
    current: datetime = T0

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current += timedelta(**kwargs)
        return self.current
