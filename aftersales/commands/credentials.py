"""A shop's TikTok credentials, set, rotated or removed by an operator, and which ones each shop
has (never their values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftersales.domain.errors import NotFound
from aftersales.store.credentials import CredentialStatus, Vault
from aftersales.store.uow import reading, uow


@dataclass(frozen=True)
class CredentialsGiven:
    """What to set; None keeps the stored value. An expiry alone updates the stored token's."""

    access_token: str | None = None
    refresh_token: str | None = None
    shop_cipher: str | None = None
    access_token_expires_at: datetime | None = None
    refresh_token_expires_at: datetime | None = None


def _no_shop(shop_id: str) -> NotFound:
    return NotFound(
        f"no shop {shop_id!r}: register it first with `aftersales shops add`", field="shop_id"
    )


async def set_shop_credentials(
    vault: Vault | None, shop_id: str, given: CredentialsGiven, *, now: datetime
) -> CredentialStatus:
    """Store what is given (tokens encrypted with `vault`, which may be None when no token is
    given); which credentials the shop has now."""
    async with uow() as tx:
        found = await tx.credentials.set_credentials(
            vault,
            shop_id,
            access_token=given.access_token,
            refresh_token=given.refresh_token,
            shop_cipher=given.shop_cipher,
            access_token_expires_at=given.access_token_expires_at,
            refresh_token_expires_at=given.refresh_token_expires_at,
            now=now,
        )
        status = await tx.credentials.status_of(shop_id)
    if not found or status is None:
        raise _no_shop(shop_id)
    return status


async def clear_shop_credentials(shop_id: str) -> None:
    """Forget the shop's tokens, expiries and shop cipher: it is local-only from now on."""
    async with uow() as tx:
        cleared = await tx.credentials.clear_credentials(shop_id)
    if not cleared:
        raise _no_shop(shop_id)


async def credential_statuses() -> dict[int, CredentialStatus]:
    """Which credentials every shop has, by the shop's primary key."""
    async with reading() as r:
        return await r.credentials.statuses()


async def any_shop_has_credentials() -> bool:
    """Whether a key is needed to read what is stored (production refuses to serve without)."""
    async with reading() as r:
        return await r.credentials.any_with_credentials()


async def credential_status(shop_id: str) -> CredentialStatus | None:
    """Which credentials the shop has; None when there is no such shop."""
    async with reading() as r:
        return await r.credentials.status_of(shop_id)
