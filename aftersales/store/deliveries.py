"""The webhook delivery log: every delivery kept with its outcome, and the lookups that
parcel events need."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from aftersales.store.models import AfterSale, Shop, WebhookDelivery
from aftersales.store.repository import Connection


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
    # A logistics event's keys (SPEC §3.2), kept in columns so that `matching` finds it.
    match_return_id: str | None = None
    match_tracking_number: str | None = None


@dataclass(frozen=True)
class Stored:
    id: int
    source: str
    shop_id: str | None
    body: str
    outcome: str


async def insert(
    conn: Connection, incoming: Incoming, *, outcome: str, reason: str | None = None
) -> int | None:
    """Insert the delivery (with a reason: already processed); None when one with the same
    key is already logged."""
    try:
        async with in_transaction("default") as savepoint:
            row = await _create(savepoint, incoming, incoming.dedupe_key, outcome, reason)
    except IntegrityError:
        return None
    return int(row.id)


async def insert_repeat(conn: Connection, incoming: Incoming, *, outcome: str, reason: str) -> int:
    """Log a repeated delivery too, under a key of its own, so the log shows every attempt."""
    key = f"{incoming.dedupe_key[:100]}~{uuid.uuid4().hex[:16]}"
    row = await _create(conn, incoming, key, outcome, reason)
    return int(row.id)


async def _create(
    conn: Connection, incoming: Incoming, key: str, outcome: str, reason: str | None
) -> WebhookDelivery:
    return await WebhookDelivery.create(
        using_db=conn,
        source=incoming.source,
        dedupe_key=key,
        event_type=incoming.event_type,
        shop_id=incoming.shop_id,
        received_at=incoming.received_at,
        headers=dict(incoming.headers) or None,
        body=incoming.body,
        outcome=outcome,
        reason=reason,
        processed_at=incoming.received_at if reason is not None else None,
        match_return_id=incoming.match_return_id,
        match_tracking_number=incoming.match_tracking_number,
    )


async def first_id(conn: Connection, source: str, dedupe_key: str) -> int | None:
    row = await WebhookDelivery.filter(source=source, dedupe_key=dedupe_key).using_db(conn).first()
    return row.id if row is not None else None


async def finish(
    conn: Connection,
    delivery_id: int,
    *,
    outcome: str,
    reason: str | None,
    after_sale_id: int | None,
    at: datetime,
    expected: str | None = None,
) -> bool:
    """Record what happened; with `expected`, only if the outcome is still that (a claim)."""
    query = WebhookDelivery.filter(id=delivery_id)
    if expected is not None:
        query = query.filter(outcome=expected)
    updated = await query.using_db(conn).update(
        outcome=outcome, reason=reason, after_sale_id=after_sale_id, processed_at=at
    )
    return updated == 1


async def waiting(shop_id: str, outcomes: Sequence[str]) -> list[Stored]:
    rows = await WebhookDelivery.filter(shop_id=shop_id, outcome__in=list(outcomes)).order_by("id")
    return [Stored(r.id, r.source, r.shop_id, r.body, r.outcome) for r in rows]


async def matching(
    source: str,
    shop_id: str,
    outcome: str,
    *,
    return_id: str | None,
    tracking_number: str | None,
) -> list[Stored]:
    """Deliveries of `shop_id` still at `outcome` that carry this return_id or tracking number."""
    keys = [Q(match_return_id=return_id)] if return_id else []
    if tracking_number:
        keys.append(Q(match_tracking_number=tracking_number))
    if not keys:
        return []
    rows = await WebhookDelivery.filter(
        Q(*keys, join_type=Q.OR), source=source, shop_id=shop_id, outcome=outcome
    )
    return [Stored(r.id, r.source, r.shop_id, r.body, r.outcome) for r in rows]


async def shop_by_tiktok_id(shop_id: str) -> Shop | None:
    return await Shop.filter(shop_id=shop_id).first()


async def load_by_tracking(
    conn: Connection, shop: Shop, tracking_number: str, order_id: str | None
) -> AfterSale | None:
    """The after-sale whose parcel has this tracking number (the order's own one first)."""
    query = AfterSale.filter(shop_id=shop.id, tracking_number=tracking_number).using_db(conn)
    if order_id:
        own = await query.filter(order_id=order_id).order_by("-id").first()
        if own is not None:
            return own
    return await query.order_by("-id").first()
