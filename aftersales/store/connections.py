"""The shops' connection to TikTok: revoked (webhook type 6, a refused token refresh), an end
announced (webhook type 7), and what the connection state is derived from
(aftersales/domain/connection.py). Reconnecting is the credential writes' job
(aftersales/store/credentials.py, `reconnected`): every way new credentials arrive clears it.

While a shop is disconnected its queued decisions wait and their 24-hour retry budget is paused:
on reconnect, each waiting call's `created_at` (where the budget counts from) moves forward by
the time it spent waiting while disconnected, and it is due at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tortoise.expressions import Q

from aftersales.domain.connection import DISCONNECTED_ERROR, ConnectionFacts
from aftersales.domain.sync import CallKind, CallStatus, SyncStatus, readable
from aftersales.store import rows
from aftersales.store.models import AfterSale, Shop, TikTokCall
from aftersales.store.sql import Connection

_FACTS = (
    "id",
    "shop_id",
    "access_token",
    "shop_cipher",
    "refresh_token_expires_at",
    "disconnected_at",
    "announced_expiration_at",
    "sync_error",
    "credentials_updated_at",
)


def _facts(row: Shop) -> ConnectionFacts:
    return ConnectionFacts(
        shop_pk=row.id,
        shop_id=row.shop_id,
        has_access_token=row.access_token is not None,
        has_shop_cipher=row.shop_cipher is not None,
        refresh_token_expires_at=row.refresh_token_expires_at,
        disconnected_at=row.disconnected_at,
        expiry_announced=row.announced_expiration_at,
        sync_error=row.sync_error,
        credentials_set_at=row.credentials_updated_at,
    )


class ConnectionReads:
    """What each shop's connection state is derived from, on the read handle."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def facts(self, shop_pks: Sequence[int] | None = None) -> dict[int, ConnectionFacts]:
        """By shop primary key: the given shops, or every shop."""
        query = Shop.all().using_db(self._conn)
        if shop_pks is not None:
            query = query.filter(id__in=list(shop_pks))
        return {row.id: _facts(row) for row in await query.only(*_FACTS)}

    async def facts_by_shop(self, shop_pks: Sequence[int]) -> dict[int, list[ConnectionFacts]]:
        """The same, grouped as the dataloaders want them."""
        return {pk: [found] for pk, found in (await self.facts(shop_pks)).items()}

    async def is_disconnected(self, shop_pk: int) -> bool:
        query = Shop.filter(id=shop_pk, disconnected_at__isnull=False).using_db(self._conn)
        return bool(await query.exists())

    async def facts_of(self, shop_id: str) -> ConnectionFacts | None:
        row = await Shop.filter(shop_id=shop_id).using_db(self._conn).only(*_FACTS).first()
        return _facts(row) if row is not None else None


class Connections(ConnectionReads):
    """The connection's writes, in a unit of work."""

    async def disconnect(self, shop_pk: int, reason: str, *, at: datetime) -> bool:
        """TikTok revoked the shop's authorization: nothing is sent for it until it is
        reconnected. Its waiting decisions show why. False when it was disconnected already
        (the first time and reason are kept)."""
        changed = await (
            Shop.filter(id=shop_pk, disconnected_at__isnull=True)
            .using_db(self._conn)
            .update(disconnected_at=at, sync_error=readable(reason))
        )
        if changed:
            await self._show_waiting(shop_pk)
        return bool(changed)

    async def announce_expiration(self, shop_pk: int, expires_at: datetime) -> None:
        """TikTok says the shop's authorization ends at `expires_at` (webhook type 7)."""
        await (
            Shop.filter(id=shop_pk).using_db(self._conn).update(announced_expiration_at=expires_at)
        )

    async def _show_waiting(self, shop_pk: int) -> None:
        """The shop's waiting decisions say why they wait (still PENDING)."""
        waiting = TikTokCall.filter(
            shop_id=shop_pk, kind=CallKind.DECISION.value, status=CallStatus.PENDING.value
        ).using_db(self._conn)
        sale_ids = await waiting.values_list("after_sale_id", flat=True)
        if sale_ids:
            await (
                AfterSale.filter(id__in=[s for s in sale_ids if s is not None])
                .using_db(self._conn)
                .filter(sync_status=SyncStatus.PENDING.value)
                .update(sync_error=DISCONNECTED_ERROR)
            )


async def reconnected(
    conn: Connection, shop_filter: Q, *, now: datetime, authorized_until: datetime | None = None
) -> None:
    """New credentials for the shop(s) matched: no longer disconnected, and the waiting calls'
    retry budget resumes where it was paused (they are due now). A new authorization (new
    tokens set by hand or by OAuth) also ends an announced expiration; a refresh
    (`authorized_until`: its refresh token's end) only one that the new refresh token outlives.
    Called by every credential write (aftersales/store/credentials.py)."""
    shops = await Shop.filter(shop_filter).using_db(conn).only("id", "disconnected_at")
    for shop in shops:
        if shop.disconnected_at is not None:
            await _resume(conn, shop.id, rows.when(shop.disconnected_at), now)
    ids = [s.id for s in shops]
    if not ids:
        return
    await (
        Shop.filter(id__in=ids, disconnected_at__isnull=False)
        .using_db(conn)
        .update(disconnected_at=None, sync_error=None)
    )
    announced = Shop.filter(id__in=ids, announced_expiration_at__isnull=False).using_db(conn)
    if authorized_until is not None:
        announced = announced.filter(announced_expiration_at__lt=authorized_until)
    await announced.update(announced_expiration_at=None)


async def _resume(conn: Connection, shop_pk: int, since: datetime, now: datetime) -> None:
    waiting = await (
        TikTokCall.filter(shop_id=shop_pk, status=CallStatus.PENDING.value)
        .using_db(conn)
        .values_list("id", "created_at", "after_sale_id")
    )
    for call_id, created_at, _ in waiting:
        created = rows.when(created_at)
        paused = now - max(created, since)
        if paused.total_seconds() > 0:
            await (
                TikTokCall.filter(id=call_id)
                .using_db(conn)
                .update(created_at=created + paused, next_attempt_at=now, lease_until=None)
            )
    sale_ids = [sale_id for _, _, sale_id in waiting if sale_id is not None]
    if sale_ids:
        await (
            AfterSale.filter(id__in=sale_ids, sync_error=DISCONNECTED_ERROR)
            .using_db(conn)
            .update(sync_error=None)
        )
