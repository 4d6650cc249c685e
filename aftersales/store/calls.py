"""The TikTok outbox: calls to TikTok's API waiting to be made (docs/tiktok-sync.md).

A seller decision on a syncing shop writes its call here in the transaction of the decision
itself, so the two commit or roll back together. Dispatchers (aftersales/tiktok/dispatch.py)
claim due calls under a lease: `claim` marks them taken until the lease ends, in one statement
that skips rows another replica is claiming at the same moment (PostgreSQL `FOR UPDATE SKIP
LOCKED`; SQLite has one writer at a time). A dispatcher that dies mid-call leaves its calls
leased; when the lease runs out another one takes them again, with the same idempotency key,
so TikTok applies the decision once.

A decision waits for the earlier decisions of its after-sale: they reach TikTok in the order
the seller made them. The calls of a disconnected shop wait until it is reconnected
(aftersales/store/connections.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from tortoise.expressions import Q

from aftersales.domain.connection import DISCONNECTED_ERROR
from aftersales.domain.model import AfterSaleStatus, AfterSaleType
from aftersales.domain.sync import (
    FETCH_CANCELLATION,
    CallKind,
    CallStatus,
    DecisionCall,
    SyncStatus,
    next_attempt_key,
    readable,
)
from aftersales.store import rows
from aftersales.store.models import AfterSale, Shop, TikTokCall
from aftersales.store.sql import Connection, dialect, numbered


@dataclass(frozen=True)
class CallRecord:
    id: int
    shop_pk: int
    shop_id: str  # TikTok's id of the shop
    after_sale_id: int | None
    kind: CallKind
    return_id: str
    verb: str | None
    decision: str | None
    body: dict[str, Any] | None
    idempotency_key: str | None
    attempts: int  # tries made, this one included
    created_at: datetime


_DUE = """
    SELECT c.id FROM tiktok_call AS c
    WHERE c.status = 'PENDING' AND c.next_attempt_at <= ?
      AND (c.lease_until IS NULL OR c.lease_until < ?)
      AND NOT EXISTS (
          SELECT 1 FROM shop AS s WHERE s.id = c.shop_id AND s.disconnected_at IS NOT NULL)
      AND NOT (c.kind = 'DECISION' AND EXISTS (
          SELECT 1 FROM tiktok_call AS e
          WHERE e.after_sale_id = c.after_sale_id AND e.kind = 'DECISION'
            AND e.status = 'PENDING' AND e.id < c.id))
    ORDER BY c.next_attempt_at, c.id
    LIMIT ?
"""
_CLAIM = """
    UPDATE tiktok_call SET lease_until = ?, attempts = attempts + 1
    WHERE id IN ({due})
    RETURNING id, shop_id, after_sale_id, kind, return_id, verb, decision, body,
              idempotency_key, attempts, created_at
"""


class Calls:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def shop_syncs(self, shop_pk: int) -> bool:
        """Whether the shop has TikTok credentials: an access token and a shop cipher (a cheap
        check: nothing is decrypted). A disconnected shop still syncs: its calls wait."""
        return bool(
            await Shop.filter(id=shop_pk, access_token__isnull=False, shop_cipher__isnull=False)
            .using_db(self._conn)
            .exists()
        )

    async def push_decision(
        self,
        *,
        shop_pk: int,
        sale_id: int,
        return_id: str,
        call: DecisionCall,
        idempotency_key: str,
        now: datetime,
    ) -> None:
        """Queue a decision, and show it as PENDING on its after-sale."""
        await TikTokCall.create(
            using_db=self._conn,
            shop_id=shop_pk,
            after_sale_id=sale_id,
            kind=CallKind.DECISION.value,
            return_id=return_id,
            verb=call.verb,
            decision=call.decision,
            body=call.body,
            idempotency_key=idempotency_key,
            status=CallStatus.PENDING.value,
            next_attempt_at=now,
            created_at=now,
        )
        # A disconnected shop's decision waits, and says why (aftersales/store/connections.py).
        disconnected = await (
            Shop.filter(id=shop_pk, disconnected_at__isnull=False).using_db(self._conn).exists()
        )
        error = DISCONNECTED_ERROR if disconnected else None
        await (
            AfterSale.filter(id=sale_id)
            .using_db(self._conn)
            .update(sync_status=SyncStatus.PENDING.value, sync_error=error, sync_attempts=0)
        )

    async def fetch(
        self, *, shop_pk: int, return_id: str, now: datetime, cancellation: bool = False
    ) -> bool:
        """Queue a fetch of the return (with `cancellation`, of the cancellation: its
        `decision` column says so) unless one is queued already; whether one was queued."""
        waiting = (
            await TikTokCall.filter(
                shop_id=shop_pk,
                return_id=return_id,
                kind=CallKind.FETCH.value,
                status=CallStatus.PENDING.value,
            )
            .using_db(self._conn)
            .exists()
        )
        if waiting:
            return False
        await TikTokCall.create(
            using_db=self._conn,
            shop_id=shop_pk,
            kind=CallKind.FETCH.value,
            return_id=return_id,
            decision=FETCH_CANCELLATION if cancellation else None,
            status=CallStatus.PENDING.value,
            next_attempt_at=now,
            created_at=now,
        )
        return True

    async def must_not_ship(self, sale_id: int, value: bool) -> None:
        """What TikTok answered an approved cancellation says of the order: cancelled (True,
        while the cancellation is still REFUNDED here) or already shipped (False)."""
        query = AfterSale.filter(id=sale_id).using_db(self._conn)
        if value:
            query = query.filter(type=AfterSaleType.CANCELLATION, status=AfterSaleStatus.REFUNDED)
        await query.update(must_not_ship=value)

    async def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> list[CallRecord]:
        """Take up to `limit` due calls until `lease_until` (each try counted in `attempts`)."""
        due = _DUE
        if dialect(self._conn) == "postgres":
            due += " FOR UPDATE OF c SKIP LOCKED"
        sql = _CLAIM.format(due=due)
        # SQLite compares the stored UTC text: the instants must be UTC too.
        now, lease_until = now.astimezone(UTC), lease_until.astimezone(UTC)
        params: list[Any] = [lease_until, now, now, limit]
        if dialect(self._conn) == "postgres":
            sql = numbered(sql)
        # execute_query_dict: Tortoise's execute_query drops the rows of an UPDATE on asyncpg.
        found = await self._conn.execute_query_dict(sql, params)
        if not found:
            return []
        shops = {
            row.id: row.shop_id
            for row in await Shop.filter(id__in={r["shop_id"] for r in found})
            .using_db(self._conn)
            .only("id", "shop_id")
        }
        calls = [_record(row, shops) for row in found]
        return sorted(calls, key=lambda c: c.id)

    async def succeeded(self, call: CallRecord, *, now: datetime) -> None:
        status = CallStatus.SYNCED if call.kind is CallKind.DECISION else CallStatus.DONE
        await self._finish(call, status, None, now=now)
        if call.kind is CallKind.DECISION:
            await self._show(call, SyncStatus.SYNCED, None)

    async def failed(self, call: CallRecord, error: str, *, now: datetime) -> None:
        """Given up: TikTok refused it, or retries ran out. The error is kept readable and at
        most 1,000 characters, as for `retry_later`."""
        error = readable(error)
        await self._finish(call, CallStatus.FAILED, error, now=now)
        if call.kind is CallKind.DECISION:
            await self._show(call, SyncStatus.FAILED, error)

    async def retry_later(self, call: CallRecord, error: str, *, at: datetime) -> None:
        error = readable(error)
        await (
            TikTokCall.filter(id=call.id)
            .using_db(self._conn)
            .update(next_attempt_at=at, lease_until=None, last_error=error)
        )
        if call.kind is CallKind.DECISION:
            await self._show(call, SyncStatus.PENDING, error)

    async def retrying_in_call(self, call: CallRecord, error: str) -> None:
        """The client retries the call at once (inside one attempt, same key): `call.attempts`
        counts the try about to be made; the after-sale shows it, PENDING with the reason."""
        error = readable(error)
        await (
            TikTokCall.filter(id=call.id)
            .using_db(self._conn)
            .update(attempts=call.attempts, last_error=error)
        )
        if call.kind is CallKind.DECISION:
            await self._show(call, SyncStatus.PENDING, error)

    async def requeue_failed(self, sale_id: int, *, now: datetime) -> bool:
        """Queue the after-sale's last decision again if it FAILED (`retrySync`): a new attempt
        with the next idempotency key (TikTok may keep its answer to the old one); attempts and
        the 24-hour retry budget start over. False when its last decision did not fail."""
        last = (
            await TikTokCall.filter(after_sale_id=sale_id, kind=CallKind.DECISION.value)
            .using_db(self._conn)
            .order_by("-id")
            .first()
        )
        if last is None or last.status != CallStatus.FAILED.value:
            return False
        await (
            TikTokCall.filter(id=last.id, status=CallStatus.FAILED.value)
            .using_db(self._conn)
            .update(
                status=CallStatus.PENDING.value,
                idempotency_key=None
                if last.idempotency_key is None
                else next_attempt_key(last.idempotency_key),
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                lease_until=None,
                finished_at=None,
            )
        )
        await (
            AfterSale.filter(id=sale_id)
            .using_db(self._conn)
            .update(sync_status=SyncStatus.PENDING.value, sync_attempts=0)
        )
        return True

    async def decisions_waiting(self, sale_id: int) -> bool:
        """Whether a decision of the after-sale is still on its way to TikTok."""
        return bool(
            await TikTokCall.filter(
                after_sale_id=sale_id,
                kind=CallKind.DECISION.value,
                status=CallStatus.PENDING.value,
            )
            .using_db(self._conn)
            .exists()
        )

    async def cancel_decisions(self, sale_id: int, reason: str, *, now: datetime) -> int:
        """Never send the after-sale's queued decisions (its request was superseded,
        aftersales/domain/edits.py): each becomes CANCELLED with `reason`, and the after-sale
        shows that nothing was sent (LOCAL_ONLY, `reason` as its sync error). A call a
        dispatcher is making right now (leased) is not taken back. How many were cancelled."""
        cancelled = (
            await TikTokCall.filter(
                Q(lease_until__isnull=True) | Q(lease_until__lt=now),
                after_sale_id=sale_id,
                kind=CallKind.DECISION.value,
                status=CallStatus.PENDING.value,
            )
            .using_db(self._conn)
            .update(
                status=CallStatus.CANCELLED.value,
                finished_at=now,
                last_error=readable(reason),
            )
        )
        if cancelled:
            await (
                AfterSale.filter(id=sale_id)
                .using_db(self._conn)
                .update(sync_status=SyncStatus.LOCAL_ONLY.value, sync_error=readable(reason))
            )
        return int(cancelled)

    async def _finish(
        self, call: CallRecord, status: CallStatus, error: str | None, *, now: datetime
    ) -> None:
        await (
            TikTokCall.filter(id=call.id)
            .using_db(self._conn)
            .update(status=status.value, lease_until=None, finished_at=now, last_error=error)
        )

    async def _show(self, call: CallRecord, status: SyncStatus, error: str | None) -> None:
        """Mirror the call's state on its after-sale, unless a newer decision was queued since
        (the after-sale shows where its last decision stands). Not a versioned change: the
        seller's next decision must not lose a race to the dispatcher's bookkeeping."""
        if call.after_sale_id is None:
            return
        newer = (
            await TikTokCall.filter(
                after_sale_id=call.after_sale_id, kind=CallKind.DECISION.value, id__gt=call.id
            )
            .using_db(self._conn)
            .exists()
        )
        if newer:
            return
        await (
            AfterSale.filter(id=call.after_sale_id)
            .using_db(self._conn)
            .update(sync_status=status.value, sync_error=error, sync_attempts=call.attempts)
        )


def _record(row: Any, shops: dict[int, str]) -> CallRecord:
    body = row["body"]
    if isinstance(body, str | bytes):
        body = orjson.loads(body)
    created = rows.when(row["created_at"])
    return CallRecord(
        id=int(row["id"]),
        shop_pk=int(row["shop_id"]),
        shop_id=shops[int(row["shop_id"])],
        after_sale_id=row["after_sale_id"],
        kind=CallKind(row["kind"]),
        return_id=row["return_id"],
        verb=row["verb"],
        decision=row["decision"],
        body=body,
        idempotency_key=row["idempotency_key"],
        attempts=int(row["attempts"]),
        created_at=created,
    )


@dataclass(frozen=True)
class PollClaim:
    """A shop this replica polls now (until the lease ends); `synced_until`: the mark to start
    from (None: never polled)."""

    shop_pk: int
    synced_until: datetime | None
    connected_at: datetime | None  # when its credentials were last set


class Polls:
    """The shops' poll leases and marks, in a unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def claim_poll(
        self, shop_pk: int, *, now: datetime, lease_until: datetime
    ) -> PollClaim | None:
        """Take the shop's poll lease; None when another replica holds it."""
        taken = await (
            Shop.filter(id=shop_pk)
            .using_db(self._conn)
            .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
            .update(poll_lease_until=lease_until)
        )
        if not taken:
            return None
        row = (
            await Shop.filter(id=shop_pk)
            .using_db(self._conn)
            .only("id", "synced_until", "credentials_updated_at")
            .get()
        )
        return PollClaim(shop_pk, row.synced_until, row.credentials_updated_at)

    async def poll_leased(self, shop_pk: int, *, now: datetime) -> bool:
        """Whether an import of the shop (a poll, an on-demand sync) holds its lease now."""
        query = Shop.filter(id=shop_pk, poll_lease_until__gte=now).using_db(self._conn)
        return bool(await query.exists())

    async def polled(self, shop_pk: int, *, synced_until: datetime | None) -> None:
        """Release the poll lease; with `synced_until`, everything updated before it is imported."""
        if synced_until is None:
            await Shop.filter(id=shop_pk).using_db(self._conn).update(poll_lease_until=None)
        else:
            await (
                Shop.filter(id=shop_pk)
                .using_db(self._conn)
                .update(poll_lease_until=None, synced_until=synced_until)
            )

    async def shop_failed(self, shop_pk: int, error: str | None) -> None:
        """Record why the shop's last poll, sync or credential read failed (None: it went
        through), readable and at most 1,000 characters."""
        await (
            Shop.filter(id=shop_pk)
            .using_db(self._conn)
            .update(sync_error=None if error is None else readable(error))
        )

    async def poll_mark(self, shop_pk: int) -> datetime | None:
        row = await Shop.filter(id=shop_pk).using_db(self._conn).only("id", "synced_until").get()
        return row.synced_until

    async def move_poll_mark(self, shop_pk: int, until: datetime) -> None:
        """Everything updated before `until` is imported (an on-demand sync): only forward."""
        await (
            Shop.filter(id=shop_pk)
            .using_db(self._conn)
            .filter(Q(synced_until__isnull=True) | Q(synced_until__lt=until))
            .update(synced_until=until)
        )
