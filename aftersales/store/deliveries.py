"""The webhook delivery log: every delivery kept with its outcome, the claims that make a
kept delivery apply once, and the lookups of deliveries waiting for their shop or after-sale."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from aftersales.domain.outcome import Outcome
from aftersales.store import sql
from aftersales.store.models import WebhookDelivery
from aftersales.store.sql import Connection, Savepoint, insert_or_none

# Where a delivery came from (the `source` column).
TIKTOK = "tiktok"
LOGISTICS = "logistics"
TIKTOK_API = "tiktok_api"  # return objects fetched from TikTok's API (aftersales/tiktok)


@dataclass(frozen=True)
class Incoming:
    """A delivery as received, before anything is done with it."""

    source: str
    dedupe_key: str
    event_type: str | None
    shop_id: str | None
    received_at: datetime
    headers: Mapping[str, str]
    body: str
    # A logistics event's keys (docs/webhooks.md), kept in columns so that `matching` finds it.
    match_return_id: str | None = None
    match_tracking_number: str | None = None


@dataclass(frozen=True)
class Stored:
    id: int
    source: str
    shop_id: str | None
    body: str
    outcome: Outcome


class KeyTaken(Exception):
    """A delivery with the same key is logged already (`Deliveries.record`). On PostgreSQL the
    transaction is unusable after it: let it roll back."""


class DeliveryReads:
    """The delivery log on the read handle (`reading()` in aftersales/store/uow.py)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def waiting(self, shop_id: str, outcomes: Sequence[Outcome]) -> list[Stored]:
        """Deliveries kept for `shop_id` under one of `outcomes`, in arrival order."""
        found = (
            await WebhookDelivery.filter(shop_id=shop_id, outcome__in=[o.value for o in outcomes])
            .using_db(self._conn)
            .order_by("id")
        )
        return [_stored(r) for r in found]


class Deliveries:
    """The delivery log in a unit of work."""

    def __init__(self, conn: Connection, savepoint: Savepoint) -> None:
        self._conn = conn
        self._savepoint = savepoint

    async def record(
        self,
        incoming: Incoming,
        outcome: Outcome,
        *,
        reason: str | None,
        after_sale_id: int | None,
        at: datetime,
    ) -> int:
        """Log the delivery once, with what became of it, in the transaction of its effect: the
        unique key makes a concurrent copy's insert wait for this transaction, then fail. Raises
        `KeyTaken` when a delivery with this key is logged already (no savepoint: the caller
        rolls back everything, as the copy must change nothing)."""
        row = _row(incoming, incoming.dedupe_key, outcome, reason)
        row.update(after_sale_id=after_sale_id, processed_at=at)
        statement, params = sql.insert(WebhookDelivery, [row], tail=' RETURNING "id"')
        try:
            inserted = await sql.returning(self._conn, statement, params)
        except IntegrityError as exc:
            raise KeyTaken(f"{incoming.source}:{incoming.dedupe_key}") from exc
        return int(inserted[0]["id"])

    async def insert(
        self, incoming: Incoming, outcome: Outcome, reason: str | None = None
    ) -> int | None:
        """Log the delivery (with a reason: already processed); None when one with the same
        key is logged already."""

        async def create(conn: Connection) -> WebhookDelivery:
            return await _create(conn, incoming, incoming.dedupe_key, outcome, reason)

        row = await insert_or_none(self._savepoint, create)
        return None if row is None else int(row.id)

    async def insert_repeat(self, incoming: Incoming, outcome: Outcome, reason: str) -> int:
        """Log a repeated delivery too, under a key of its own, so the log shows every attempt."""
        key = f"{incoming.dedupe_key[:100]}~{uuid.uuid4().hex[:16]}"
        row = await _create(self._conn, incoming, key, outcome, reason)
        return int(row.id)

    async def first_id(self, source: str, dedupe_key: str) -> int | None:
        query = WebhookDelivery.filter(source=source, dedupe_key=dedupe_key).using_db(self._conn)
        row = await query.only("id").first()
        return None if row is None else int(row.id)

    async def finish(
        self,
        delivery_id: int,
        outcome: Outcome,
        *,
        reason: str | None,
        after_sale_id: int | None,
        at: datetime,
        expected: Outcome | None = None,
    ) -> bool:
        """Record what became of a delivery; with `expected`, only if its outcome is still that
        (a claim: of two writers, one wins). False when nothing was written."""
        query = WebhookDelivery.filter(id=delivery_id).using_db(self._conn)
        if expected is not None:
            query = query.filter(outcome=expected.value)
        updated = await query.update(
            outcome=outcome.value, reason=reason, after_sale_id=after_sale_id, processed_at=at
        )
        return bool(updated == 1)

    async def matching(
        self,
        source: str,
        shop_id: str,
        outcome: Outcome,
        *,
        return_id: str | None,
        tracking_number: str | None,
    ) -> list[Stored]:
        """Deliveries of `shop_id` still at `outcome` that carry this return_id or tracking
        number (the keys a parcel event is matched by)."""
        keys = [Q(match_return_id=return_id)] if return_id else []
        if tracking_number:
            keys.append(Q(match_tracking_number=tracking_number))
        if not keys:
            return []
        found = await WebhookDelivery.filter(
            Q(*keys, join_type=Q.OR), source=source, shop_id=shop_id, outcome=outcome.value
        ).using_db(self._conn)
        return [_stored(r) for r in found]

    async def prune_batch(
        self,
        received_before: datetime,
        limit: int,
        *,
        waiting_received_before: datetime | None = None,
    ) -> int:
        """Delete at most `limit` of the deliveries received before `received_before` that no
        longer wait for anything; how many (fewer than `limit`: none are left)."""
        return await _prune_batch(self._conn, received_before, limit, waiting_received_before)


def _row(incoming: Incoming, key: str, outcome: Outcome, reason: str | None) -> dict[str, object]:
    return {
        "source": incoming.source,
        "dedupe_key": key,
        "event_type": incoming.event_type,
        "shop_id": incoming.shop_id,
        "received_at": incoming.received_at,
        "headers": dict(incoming.headers) or None,
        "body": incoming.body,
        "outcome": outcome.value,
        "reason": reason,
        "processed_at": incoming.received_at if reason is not None else None,
        "match_return_id": incoming.match_return_id,
        "match_tracking_number": incoming.match_tracking_number,
    }


async def _create(
    conn: Connection, incoming: Incoming, key: str, outcome: Outcome, reason: str | None
) -> WebhookDelivery:
    return await WebhookDelivery.create(using_db=conn, **_row(incoming, key, outcome, reason))


def _stored(row: WebhookDelivery) -> Stored:
    return Stored(row.id, row.source, row.shop_id, row.body, Outcome(row.outcome))


# Deliveries the log keeps whatever their age: they still wait to be applied (their shop, their
# after-sale, a replay), and `processing` is never committed but is never deleted either.
KEPT_BY_PRUNE = (Outcome.UNKNOWN_SHOP, Outcome.UNMATCHED, Outcome.FAILED, Outcome.PROCESSING)
# Of those, the ones an operator may give up on after a (longer) age of their own: a shop that
# never registers, a parcel whose return never shows up, a failure nobody replays.
WAITING = (Outcome.UNKNOWN_SHOP, Outcome.UNMATCHED, Outcome.FAILED)
PRUNE_BATCH = 5000


async def _prune_batch(
    conn: Connection,
    received_before: datetime,
    limit: int,
    waiting_received_before: datetime | None,
) -> int:
    """Delete at most `limit` of the deliveries received before `received_before` that no
    longer wait for anything, and, given `waiting_received_before`, of the waiting ones received
    before that; how many were deleted (fewer than `limit`: none left)."""
    kept = [o.value for o in KEPT_BY_PRUNE]
    done = Q(received_at__lt=received_before) & ~Q(outcome__in=kept)
    if waiting_received_before is not None:
        done |= Q(received_at__lt=waiting_received_before) & Q(
            outcome__in=[o.value for o in WAITING]
        )
    ids = await (
        WebhookDelivery.filter(done)
        .order_by("id")
        .limit(limit)
        .using_db(conn)
        .values_list("id", flat=True)
    )
    if ids:
        await WebhookDelivery.filter(id__in=list(ids)).using_db(conn).delete()
    return len(ids)
