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
from collections.abc import Mapping
from datetime import datetime

from aftersales.domain.model import DisputeWindows
from aftersales.domain.outcome import Outcome, Result
from aftersales.domain.parcels import ParcelEvent
from aftersales.inbox.apply import apply_parcel, apply_tiktok
from aftersales.inbox.log import Apply, Arrived, claim_apply_record
from aftersales.inbox.payloads import TikTokNotification
from aftersales.store.deliveries import LOGISTICS, TIKTOK, Incoming
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
        return await apply_tiktok(tx, note, now=now, windows=windows)

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
