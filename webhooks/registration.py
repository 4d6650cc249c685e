"""Deliveries that waited for a shop, applied once `aftersales shops add` registers it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from aftersales.inbox.replay import replay_waiting
from aftersales.settings import Settings


async def apply_waiting_deliveries(shop_id: str, settings: Settings) -> str:
    """Replay the deliveries kept for `shop_id`; a line for the terminal, or "" if none."""
    results = await replay_waiting(shop_id, now=datetime.now(UTC), windows=settings.dispute_windows)
    if not results:
        return ""
    counts = Counter(r.outcome.value for r in results)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return f"applied {len(results)} webhook deliveries that were waiting for this shop ({summary})"
