"""The `aftersales shops add` hook: deliveries that waited for a shop are applied once it exists."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from aftersales import inbox
from aftersales.settings import Settings


async def apply_waiting_deliveries(shop_id: str, settings: Settings) -> str:
    """Replay the deliveries kept for `shop_id`; a line for the terminal, or "" if none."""
    receipts = await inbox.replay_waiting(
        shop_id, now=datetime.now(UTC), windows=settings.dispute_windows
    )
    if not receipts:
        return ""
    counts = Counter(r.outcome.value for r in receipts)
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return f"applied {len(receipts)} webhook deliveries that were waiting for this shop ({summary})"
