"""The webhook inbox: every delivery is logged with its outcome, and applied through the same
services as every other way in.

A delivery is recorded and applied in one transaction, so a delivery answered 200 is in the
database together with its effect, and a crash before the commit loses nothing TikTok will not
send again. If applying fails, the transaction is rolled back and the delivery is recorded on its
own with the outcome `failed` and the error, so it is never lost (and can be replayed).
Deliveries for a shop not registered yet wait with the outcome `unknown_shop` until
`replay_waiting` runs for that shop (`aftersales shops add` does it). Parcel events for an
after-sale we do not know yet wait as `unmatched` until a TikTok report creates it or gives it
their tracking number, and are then applied in the same transaction (aftersales.backlog).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from aftersales import backlog, logistics, payloads, services
from aftersales.domain import DisputeWindows, Invalid
from aftersales.parcels import ParcelEvent
from aftersales.payloads import TikTokNotification
from aftersales.receipts import LOGISTICS as LOGISTICS
from aftersales.receipts import TIKTOK as TIKTOK
from aftersales.receipts import Outcome as Outcome
from aftersales.receipts import Receipt as Receipt
from aftersales.receipts import describe
from aftersales.settling import Result, settle
from aftersales.store import deliveries as store
from aftersales.store import repository as repo
from aftersales.store.deliveries import Incoming

log = logging.getLogger(__name__)


WAITING = (Outcome.UNKNOWN_SHOP.value, Outcome.FAILED.value)
_REPORTED = (
    services.ReportOutcome.CREATED,
    services.ReportOutcome.APPLIED,
    services.ReportOutcome.UNMAPPED,
)


_Apply = Callable[[], Awaitable[Result]]


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
) -> Receipt:
    incoming = Incoming(
        source=TIKTOK,
        dedupe_key=note.notification_id or body_key(body),
        event_type=str(note.type),
        shop_id=note.shop_id,
        received_at=now,
        headers=headers,
        body=_text(body),
    )
    return await _receive(incoming, lambda: _apply_tiktok(note, now, windows))


async def receive_parcel_event(
    body: bytes, headers: Mapping[str, str], event: ParcelEvent, *, now: datetime
) -> Receipt:
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
    return await _receive(incoming, lambda: _apply_parcel(event, now))


async def reject(
    source: str, body: bytes, headers: Mapping[str, str], reason: str, *, now: datetime
) -> Receipt:
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
    async with repo.transaction() as conn:
        delivery_id = await store.insert(
            conn, incoming, outcome=Outcome.REJECTED.value, reason=reason
        )
        if delivery_id is None:
            delivery_id = await store.insert_repeat(
                conn, incoming, outcome=Outcome.REJECTED.value, reason=reason
            )
    return Receipt(delivery_id, Outcome.REJECTED, reason=reason)


async def _apply_tiktok(note: TikTokNotification, now: datetime, windows: DisputeWindows) -> Result:
    if note.report is not None and note.shop_id is not None:
        try:
            result = await services.apply_return_report(
                note.shop_id, note.report, now=now, windows=windows
            )
        except Invalid as exc:  # e.g. a new return of a return_type we do not know
            return Result(Outcome.UNMAPPED, reason=exc.message)
        late: list[Receipt] = []
        if result.after_sale_id is not None and result.outcome in _REPORTED:
            # The return exists now, perhaps with its tracking number: apply the parcel events
            # that arrived before it (and any that raced with an earlier report).
            late = await backlog.apply_matching(
                note.shop_id,
                return_id=note.report.return_id,
                tracking_number=note.report.tracking_number,
                now=now,
            )
        return Result(Outcome(result.outcome.value), result.after_sale_id, backlog.summary(late))
    if note.type == payloads.CANCELLATION_STATUS_CHANGE:
        return Result(Outcome.RECORDED, reason="cancellation status changes are only recorded")
    return Result(Outcome.UNKNOWN_TYPE, reason=f"type {note.type} is not handled")


async def _apply_parcel(event: ParcelEvent, now: datetime) -> Result:
    result = await logistics.apply_parcel_event(event, now=now)
    late: list[Receipt] = []
    if result.gained_tracking:  # e.g. an abnormal return created: events of its parcel now match
        late = await backlog.apply_matching(
            event.shop_id, return_id=None, tracking_number=result.gained_tracking, now=now
        )
    reason = result.reason or backlog.summary(late)
    return Result(Outcome(result.outcome.value), result.after_sale_id, reason)


async def _receive(incoming: Incoming, apply: _Apply) -> Receipt:
    now = incoming.received_at
    try:
        async with repo.transaction() as conn:
            delivery_id = await store.insert(conn, incoming, outcome=Outcome.PROCESSING.value)
            if delivery_id is None:
                return await _repeat(conn, incoming)
            result = await apply()
            await store.finish(
                conn,
                delivery_id,
                outcome=result.outcome.value,
                reason=result.reason,
                after_sale_id=result.after_sale_id,
                at=now,
            )
            return Receipt(delivery_id, result.outcome, result.after_sale_id, result.reason)
    except Exception as exc:  # applying failed: keep the delivery, with the error
        reason = describe(exc)
        log.warning("webhook delivery %s could not be applied: %s", incoming.dedupe_key, reason)
    async with repo.transaction() as conn:
        delivery_id = await store.insert(
            conn, incoming, outcome=Outcome.FAILED.value, reason=reason
        )
        if delivery_id is None:  # a concurrent copy was recorded in the meantime
            return await _repeat(conn, incoming)
    return Receipt(delivery_id, Outcome.FAILED, reason=reason)


async def _repeat(conn: repo.Connection, incoming: Incoming) -> Receipt:
    first = await store.first_id(conn, incoming.source, incoming.dedupe_key)
    reason = f"duplicate of delivery {first}"
    delivery_id = await store.insert_repeat(
        conn, incoming, outcome=Outcome.DUPLICATE.value, reason=reason
    )
    return Receipt(delivery_id, Outcome.DUPLICATE, reason=reason)


@dataclass(frozen=True)
class _Waiting:
    stored: store.Stored
    at: datetime | None
    apply: _Apply | None


def _waiting(stored: store.Stored, now: datetime, windows: DisputeWindows) -> _Waiting:
    body = stored.body.encode("utf-8")
    try:
        if stored.source == TIKTOK:
            note = payloads.parse_tiktok(body)
            return _Waiting(stored, note.event_time, lambda: _apply_tiktok(note, now, windows))
        event = payloads.parse_parcel_event(body)
        return _Waiting(stored, event.occurred_at, lambda: _apply_parcel(event, now))
    except payloads.Malformed:
        return _Waiting(stored, None, None)


async def replay_waiting(shop_id: str, *, now: datetime, windows: DisputeWindows) -> list[Receipt]:
    """Apply the deliveries kept for `shop_id` (unknown shop, or failed), oldest event first."""
    found = [_waiting(s, now, windows) for s in await store.waiting(shop_id, WAITING)]
    found.sort(key=lambda w: (w.at is None, w.at or now, w.stored.id))
    receipts = []
    for waiting in found:
        receipt = await _replay(waiting, now)
        if receipt is not None:
            receipts.append(receipt)
    return receipts


async def _replay(waiting: _Waiting, now: datetime) -> Receipt | None:
    if waiting.apply is None:
        return None
    kept_as = Outcome(waiting.stored.outcome)
    return await settle(waiting.stored.id, kept_as=kept_as, apply=waiting.apply, now=now)
