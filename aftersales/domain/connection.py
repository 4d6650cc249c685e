"""A shop's connection to TikTok, derived from what is stored about it (docs/tiktok-sync.md,
"Connection states"). Pure: the caller gives the facts and the time.

- LOCAL_ONLY: the shop does not sync. The sync is not configured (no TIKTOK_API_BASE_URL), or
  the shop has no access token, or no shop cipher (TikTok refuses every shop call without one).
- DISCONNECTED: the seller revoked the app (webhook type 6), or TikTok refused a token refresh.
  Nothing is sent for the shop until new credentials are set.
- EXPIRING: TikTok announced that the authorization ends (webhook type 7), or the refresh token
  ends within 30 days.
- CONNECTED: otherwise.

`authorization_expires_at`: type 7's `expiration_time` when one arrived since the credentials
were last set (TikTok's own word on the authorization, so it wins), else the refresh token's end.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

EXPIRING_WITHIN = timedelta(days=30)
DISCONNECTED_ERROR = "shop disconnected: reconnect it"


class ShopConnection(enum.Enum):
    LOCAL_ONLY = "LOCAL_ONLY"
    CONNECTED = "CONNECTED"
    EXPIRING = "EXPIRING"
    DISCONNECTED = "DISCONNECTED"


@dataclass(frozen=True)
class ConnectionFacts:
    """What is stored about a shop's link to TikTok (never a token)."""

    shop_pk: int
    shop_id: str
    has_access_token: bool
    has_shop_cipher: bool
    refresh_token_expires_at: datetime | None
    disconnected_at: datetime | None  # type 6 or a refused refresh; None: not disconnected
    expiry_announced: datetime | None  # type 7's expiration_time; None: none since connected
    sync_error: str | None
    credentials_set_at: datetime | None = None  # when its credentials were last written


@dataclass(frozen=True)
class Connection:
    state: ShopConnection
    authorization_expires_at: datetime | None
    why: str  # one line for operators (`shops list`, `shops check`)


def connection(facts: ConnectionFacts, *, sync_configured: bool, now: datetime) -> Connection:
    """The shop's connection state, when it ends, and why."""
    expires = facts.expiry_announced or facts.refresh_token_expires_at
    if not facts.has_access_token:
        return Connection(
            ShopConnection.LOCAL_ONLY,
            None,
            "no TikTok credentials (no access token): connect it with `shops connect` or set"
            " them with `shops credentials`",
        )
    if not facts.has_shop_cipher:
        return Connection(
            ShopConnection.LOCAL_ONLY,
            expires,
            "no shop cipher: TikTok refuses every call without one (106013); set it again"
            " with `shops credentials --access-token T`, which looks it up",
        )
    if not sync_configured:
        return Connection(
            ShopConnection.LOCAL_ONLY,
            expires,
            "sync not configured: TIKTOK_API_BASE_URL is not set",
        )
    if facts.disconnected_at is not None:
        why = facts.sync_error or "TikTok revoked the authorization"
        return Connection(
            ShopConnection.DISCONNECTED, expires, f"{why}; reconnect it (`shops credentials`)"
        )
    if facts.expiry_announced is not None:
        return Connection(
            ShopConnection.EXPIRING,
            expires,
            "TikTok announced the authorization ends (webhook type 7): the seller must"
            " authorize the app again",
        )
    if expires is not None and expires - now <= EXPIRING_WITHIN:
        return Connection(
            ShopConnection.EXPIRING,
            expires,
            "the refresh token ends within 30 days: the seller must authorize the app again",
        )
    return Connection(ShopConnection.CONNECTED, expires, "syncs with TikTok")
