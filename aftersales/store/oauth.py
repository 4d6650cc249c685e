"""The states of OAuth authorizations a seller started: only their SHA-256 is kept, and each is
used at most once, by a conditional update (two callbacks with one state cannot both win it, on
PostgreSQL as on SQLite)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from aftersales.store.models import OAuthState, Seller
from aftersales.store.sql import Connection


@dataclass(frozen=True)
class StartedAuthorization:
    """What a used state was bound to."""

    seller_id: int
    seller: str
    region: str | None


class OAuthStates:
    """OAuth states in a unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def seller_named(self, name: str) -> tuple[int, bool]:
        """The seller's id, creating the seller when new: (id, created)."""
        seller, created = await Seller.get_or_create(name=name, using_db=self._conn)
        return seller.id, created

    async def add(
        self,
        seller_id: int,
        state_hash: str,
        *,
        region: str | None,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        await OAuthState.create(
            using_db=self._conn,
            seller_id=seller_id,
            state_hash=state_hash,
            region=region,
            created_at=created_at,
            expires_at=expires_at,
        )

    async def use(self, state_hash: str, *, now: datetime) -> StartedAuthorization | None:
        """Mark the state used, if it is unused and unexpired at `now`: what it was bound to;
        None when it is unknown, used already or expired (nothing changes then)."""
        won = (
            await OAuthState.filter(state_hash=state_hash, used_at=None, expires_at__gt=now)
            .using_db(self._conn)
            .update(used_at=now)
        )
        if not won:
            return None
        row = (
            await OAuthState.filter(state_hash=state_hash)
            .using_db(self._conn)
            .select_related("seller")
            .first()
        )
        assert row is not None  # just updated, in this transaction
        return StartedAuthorization(row.seller.id, row.seller.name, row.region)

    async def prune(self, *, now: datetime) -> int:
        """Delete the states that can no longer be used (used, or expired at `now`)."""
        return int(
            await OAuthState.filter(Q(used_at__isnull=False) | Q(expires_at__lte=now))
            .using_db(self._conn)
            .delete()
        )
