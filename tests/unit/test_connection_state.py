"""A shop's connection state, derived from what is stored (aftersales/domain/connection.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aftersales.domain.connection import ConnectionFacts, ShopConnection, connection

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
SYNCING = ConnectionFacts(
    shop_pk=1,
    shop_id="7494049642642441621",
    has_access_token=True,
    has_shop_cipher=True,
    refresh_token_expires_at=NOW + timedelta(days=90),
    disconnected_at=None,
    expiry_announced=None,
    sync_error=None,
)
C = ShopConnection

TABLE = [
    ("syncing", {}, True, C.CONNECTED, "syncs with TikTok"),
    ("sync not configured", {}, False, C.LOCAL_ONLY, "TIKTOK_API_BASE_URL"),
    ("no token", {"has_access_token": False}, True, C.LOCAL_ONLY, "no TikTok credentials"),
    ("no cipher", {"has_shop_cipher": False}, True, C.LOCAL_ONLY, "no shop cipher"),
    ("revoked", {"disconnected_at": NOW}, True, C.DISCONNECTED, "revoked"),
    ("refresh refused", {"disconnected_at": NOW, "sync_error": "token refresh refused: X"}, True,
     C.DISCONNECTED, "token refresh refused: X"),
    ("type 7", {"expiry_announced": NOW + timedelta(days=60)}, True, C.EXPIRING, "type 7"),
    ("refresh token ends in 30 days", {"refresh_token_expires_at": NOW + timedelta(days=30)},
     True, C.EXPIRING, "within 30 days"),
    ("refresh token ends in 31 days", {"refresh_token_expires_at": NOW + timedelta(days=31)},
     True, C.CONNECTED, "syncs"),
    ("revoked and no cipher", {"disconnected_at": NOW, "has_shop_cipher": False}, True,
     C.LOCAL_ONLY, "no shop cipher"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "configured", "state", "why"), [row[1:] for row in TABLE], ids=[r[0] for r in TABLE]
)
def test_the_state_follows_the_stored_facts(
    changes: dict[str, object], configured: bool, state: ShopConnection, why: str
) -> None:
    found = connection(replace(SYNCING, **changes), sync_configured=configured, now=NOW)  # type: ignore[arg-type]

    assert found.state is state
    assert why in found.why


def test_the_end_tiktok_announced_wins_over_the_refresh_tokens() -> None:
    announced = NOW + timedelta(days=20)

    with_notice = connection(
        replace(SYNCING, expiry_announced=announced), sync_configured=True, now=NOW
    )
    without = connection(SYNCING, sync_configured=True, now=NOW)

    assert with_notice.authorization_expires_at == announced
    assert without.authorization_expires_at == SYNCING.refresh_token_expires_at
