"""Deliveries kept for a shop (it was not registered yet, or applying failed), applied again:
`aftersales shops add` runs it for the new shop (never webhook types 6 and 7: they concern an
authorization held before). Oldest event first, each through the delivery
log's one path (aftersales.inbox.log), so a delivery is applied once whoever replays it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.model import DisputeWindows
from aftersales.domain.outcome import WAITING, Result
from aftersales.inbox import jsonfields as f
from aftersales.inbox import payloads
from aftersales.inbox.apply import apply_fetched, apply_parcel, apply_tiktok
from aftersales.inbox.log import Apply, Kept, claim_apply_record
from aftersales.store.deliveries import TIKTOK, TIKTOK_API, Stored
from aftersales.store.uow import Tx, reading, uow


@dataclass(frozen=True)
class _Waiting:
    stored: Stored
    at: datetime | None  # when its event happened, as the sender says
    apply: Apply | None  # None: it no longer parses (left as it is)


def _waiting(stored: Stored, now: datetime, windows: DisputeWindows) -> _Waiting:
    body = stored.body.encode("utf-8")
    try:
        if stored.source == TIKTOK:
            note = payloads.parse_tiktok(body)
            if note.type in payloads.AUTHORIZATION_TYPES:
                # About an authorization the shop held before it was registered here: never
                # replayed (a later registration with new credentials must not be revoked).
                return _Waiting(stored, None, None)

            async def apply_note(tx: Tx) -> Result:
                return await apply_tiktok(tx, note, now=now, windows=windows)

            return _Waiting(stored, note.event_time, apply_note)
        if stored.source == TIKTOK_API and stored.shop_id is not None:
            shop_id = stored.shop_id
            report = payloads.parse_return_object(f.loads_object(body))

            async def apply_report(tx: Tx) -> Result:
                return await apply_fetched(tx, shop_id, report, now=now, windows=windows)

            return _Waiting(stored, report.update_time, apply_report)
        event = payloads.parse_parcel_event(body)

        async def apply_event(tx: Tx) -> Result:
            return await apply_parcel(tx, event, now=now)

        return _Waiting(stored, event.occurred_at, apply_event)
    except payloads.Malformed:
        return _Waiting(stored, None, None)


async def replay_waiting(shop_id: str, *, now: datetime, windows: DisputeWindows) -> list[Result]:
    """Apply the deliveries kept for `shop_id` (unknown shop, or failed), oldest event first."""
    async with reading() as r:
        stored = await r.deliveries.waiting(shop_id, WAITING)
    found = [_waiting(s, now, windows) for s in stored]
    found.sort(key=lambda w: (w.at is None, w.at or now, w.stored.id))
    results = []
    for waiting in found:
        if waiting.apply is None:
            continue
        claim = Kept(waiting.stored.id, waiting.stored.outcome, at=now)
        result = await claim_apply_record(uow, claim, waiting.apply, now=now)
        if result is not None:
            results.append(result)
    return results
