"""TikTok's word on a shop's authorization (webhook types 6 and 7), applied to its connection
state (aftersales/domain/connection.py), in the delivery's own unit of work.

- Type 6, the seller revoked the app: the shop is DISCONNECTED; nothing is sent for it until
  new credentials are set, and a warning naming the shop is logged.
- Type 7, the authorization ends soon: the shop is EXPIRING, with TikTok's `expiration_time`.

Recorded and nothing changed: for a shop not registered (never replayed when it is: the notice
is about an authorization we never held), for a shop that does not sync (LOCAL_ONLY), and for a
notice sent before the shop's credentials were last set (stale: the seller connected it again).
"""

from __future__ import annotations

import logging
from datetime import datetime

from aftersales.domain.connection import Connection, ShopConnection, connection
from aftersales.domain.outcome import Outcome, Result
from aftersales.store.uow import Tx, reading

log = logging.getLogger("aftersales.tiktok")

DEAUTHORIZED = "TikTok: the seller revoked the app's authorization (webhook type 6)"


async def authorization_notice(
    tx: Tx,
    shop_id: str,
    *,
    revoked: bool,
    expires_at: datetime | None,
    sent_at: datetime | None,
    sync_configured: bool,
    now: datetime,
) -> Result:
    """Apply a type 6 (`revoked`) or type 7 (`expires_at`) notice about `shop_id`."""
    what = "deauthorization" if revoked else "authorization expiry notice"
    facts = await tx.authorizations.facts_of(shop_id)
    if facts is None:
        return Result(
            Outcome.RECORDED,
            reason=f"{what} for a shop not registered: recorded, never replayed",
        )
    state = connection(facts, sync_configured=sync_configured, now=now)
    if state.state is ShopConnection.LOCAL_ONLY:
        return Result(Outcome.RECORDED, reason=f"{what} for a local-only shop: nothing changed")
    set_at = facts.credentials_set_at
    if sent_at is not None and set_at is not None and sent_at < set_at.replace(microsecond=0):
        return Result(
            Outcome.STALE,
            reason=f"{what} sent before the shop's credentials were last set: nothing changed",
        )
    if revoked:
        if await tx.authorizations.disconnect(facts.shop_pk, DEAUTHORIZED, at=now):
            log.warning(
                "shop %s is disconnected: the seller revoked the app on TikTok (webhook type 6);"
                " its decisions wait until it is reconnected",
                shop_id,
            )
            return Result(Outcome.APPLIED, reason="shop disconnected")
        return Result(Outcome.APPLIED, reason="shop already disconnected")
    assert expires_at is not None
    await tx.authorizations.announce_expiration(facts.shop_pk, expires_at)
    log.info("shop %s: TikTok says its authorization ends at %s", shop_id, expires_at.isoformat())
    return Result(Outcome.APPLIED, reason=f"authorization ends at {expires_at.isoformat()}")


async def connection_states(sync_configured: bool, *, now: datetime) -> dict[int, Connection]:
    """Every shop's connection state, by the shop's primary key."""
    async with reading() as r:
        facts = await r.authorizations.facts()
    return {pk: connection(f, sync_configured=sync_configured, now=now) for pk, f in facts.items()}


async def shops_by_connection(sync_configured: bool, *, now: datetime) -> dict[str, int]:
    """How many shops are in each connection state, every state present (GET /metrics)."""
    counts = {state.value: 0 for state in ShopConnection}
    for found in (await connection_states(sync_configured, now=now)).values():
        counts[found.state.value] += 1
    return counts
