"""Deliveries as they arrive: each one logged with its outcome and applied in one unit of work.

A delivery answered 200 is in the database together with its effect; a crash before the commit
loses nothing the sender will not send again. If applying fails, that is rolled back and the
delivery is logged on its own as `failed`, with the error, to be replayed (aftersales.inbox.log).
Deliveries for a shop not registered yet wait as `unknown_shop` until `replay_waiting` runs for
it (aftersales.inbox.replay). Parcel events for an after-sale we do not know yet wait as
`unmatched` until a TikTok report creates it or gives it their tracking number
(aftersales.inbox.late).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from aftersales.domain.model import DisputeWindows
from aftersales.domain.outcome import Outcome, Result
from aftersales.domain.parcels import ParcelEvent
from aftersales.inbox import payloads
from aftersales.inbox.apply import apply_fetched, apply_parcel, apply_tiktok
from aftersales.inbox.jsonfields import loads_object
from aftersales.inbox.log import Apply, Arrived, claim_apply_record
from aftersales.inbox.payloads import Malformed, TikTokNotification
from aftersales.store.deliveries import LOGISTICS, TIKTOK, TIKTOK_API, Incoming
from aftersales.store.uow import Tx, uow


def body_key(body: bytes) -> str:
    """The dedupe key of a delivery that carries no id of its own."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _text(body: bytes) -> str:
    # Valid envelopes are UTF-8 JSON; a rejected body is kept readable (PostgreSQL text has no NUL).
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


async def receive_tiktok(
    body: bytes,
    headers: Mapping[str, str],
    note: TikTokNotification,
    *,
    now: datetime,
    windows: DisputeWindows,
    fetch_details: bool = False,
) -> Result:
    incoming = Incoming(
        source=TIKTOK,
        dedupe_key=note.notification_id or body_key(body),
        event_type=str(note.type),
        shop_id=note.shop_id,
        received_at=now,
        headers=headers,
        body=_text(body),
    )

    async def apply(tx: Tx) -> Result:
        return await apply_tiktok(tx, note, now=now, windows=windows, fetch_details=fetch_details)

    return await _receive(incoming, apply)


async def receive_parcel_event(
    body: bytes, headers: Mapping[str, str], event: ParcelEvent, *, now: datetime
) -> Result:
    incoming = Incoming(
        source=LOGISTICS,
        dedupe_key=event.event_id,
        event_type=event.status,
        shop_id=event.shop_id,
        received_at=now,
        headers=headers,
        body=_text(body),
        match_return_id=event.return_id,
        match_tracking_number=event.tracking_number,
    )

    async def apply(tx: Tx) -> Result:
        return await apply_parcel(tx, event, now=now)

    return await _receive(incoming, apply)


async def _receive(incoming: Incoming, apply: Apply) -> Result:
    result = await claim_apply_record(uow, Arrived(incoming), apply, now=incoming.received_at)
    assert result is not None, "a delivery as it arrives is always answered"
    return result


async def reject(
    source: str, body: bytes, headers: Mapping[str, str], reason: str, *, now: datetime
) -> Result:
    """Log a signed delivery that is not a valid envelope (answered 400)."""
    incoming = Incoming(
        source=source,
        dedupe_key="rejected:" + body_key(body),
        event_type=None,
        shop_id=None,
        received_at=now,
        headers=headers,
        body=_text(body),
    )
    async with uow() as tx:
        delivery_id = await tx.deliveries.insert(incoming, Outcome.REJECTED, reason)
        if delivery_id is None:
            delivery_id = await tx.deliveries.insert_repeat(incoming, Outcome.REJECTED, reason)
    return Result(Outcome.REJECTED, reason=reason, delivery_id=delivery_id)


async def receive_fetched(
    shop_id: str,
    obj: Mapping[str, Any],
    *,
    now: datetime,
    windows: DisputeWindows,
    backfill: bool = False,
) -> Result:
    """A return object fetched from TikTok's API (Search Returns): logged like a delivery, with
    source `tiktok_api`, and applied as TikTok's current state (history source TIKTOK_API).

    Each fetch is applied, even when the same object was fetched before: as the current state,
    it may correct us now where it could not then (a decision of ours was still on its way)."""
    body = orjson.dumps(obj)
    key = f"api:{uuid.uuid4()}"
    try:
        report = payloads.parse_return_object(loads_object(body))
    except Malformed as exc:
        return await reject(TIKTOK_API, body, {}, exc.reason, now=now)
    incoming = Incoming(
        source=TIKTOK_API,
        dedupe_key=key,
        event_type=report.return_status[:32],
        shop_id=shop_id,
        received_at=now,
        headers={},
        body=_text(body),
    )

    async def apply(tx: Tx) -> Result:
        return await apply_fetched(tx, shop_id, report, now=now, windows=windows, backfill=backfill)

    return await _receive(incoming, apply)
