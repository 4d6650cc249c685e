"""What every sync task needs: the API client, the credential vault, the clock; and one shop
call made with the shop's token, refreshed once if TikTok says it expired (105002).

`Link` is built once per process from the settings (scheduler/tiktok.py) and shared by the
dispatcher, the poller, the token refresher and the GraphQL resolvers that talk to TikTok.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from aftersales.domain import locales
from aftersales.domain.model import DisputeWindows
from aftersales.store.credentials import ShopCredentials, Unreadable, Vault
from aftersales.store.uow import reading, uow
from aftersales.tiktok.client import Credentials, TikTokClient, TikTokError
from aftersales.tiktok.queue import SyncQueue

log = logging.getLogger("aftersales.tiktok")

T = TypeVar("T")

# A token is refreshed when it expires within this (TikTok's last about 7 days).
REFRESH_AHEAD = timedelta(days=1)


@dataclass
class Link:
    client: TikTokClient
    vault: Vault
    windows: DisputeWindows
    clock: Callable[[], datetime]
    retry_ceiling: timedelta = timedelta(seconds=600)  # TIKTOK_RETRY_MAX_SECONDS
    poll_interval: timedelta = timedelta(seconds=300)  # TIKTOK_POLL_INTERVAL_SECONDS
    lease: timedelta = timedelta(seconds=120)  # how long a dispatcher holds a call it makes
    reasons_ttl: timedelta = timedelta(hours=1)
    syncs: SyncQueue = field(default_factory=SyncQueue)  # on-demand imports (syncShop)
    _reasons: dict[tuple[int, str, str, str], tuple[datetime, list[tuple[str, str]]]] = field(
        default_factory=dict
    )

    async def aclose(self) -> None:
        await self.syncs.aclose()
        await self.client.aclose()

    async def shop(self, shop_pk: int) -> ShopCredentials | None:
        """The shop's credentials; None when it has none (it does not sync)."""
        async with reading() as r:
            return await r.credentials.for_shop(self.vault, shop_pk)

    async def call(self, creds: ShopCredentials, make: Callable[[Credentials], Awaitable[T]]) -> T:
        """`make` with the shop's token; if TikTok answers that it expired (105002) or is
        invalid (36009004 naming the token), refresh it and call once more."""
        try:
            return await make(Credentials(creds.access_token, creds.shop_cipher))
        except TikTokError as exc:
            if not (exc.token_expired or exc.token_invalid):
                raise
        fresh = await self.refresh(creds)
        return await make(Credentials(fresh.access_token, fresh.shop_cipher))

    async def refresh(self, creds: ShopCredentials) -> ShopCredentials:
        """New tokens for the shop, kept encrypted. If another replica refreshed them since
        `creds` was read, theirs are used."""
        async with reading() as r:
            stored = await r.credentials.for_shop(self.vault, creds.shop_pk)
        if stored is not None and stored.access_token != creds.access_token:
            return stored
        if not creds.refresh_token:
            raise TikTokError(
                "the access token expired and the shop has no refresh token: set new ones with"
                " `aftersales shops credentials`",
                code=105002,
            )
        try:
            grant = await self.client.refresh_token(creds.refresh_token)
        except TikTokError as exc:
            await _refresh_refused(self, creds, exc)
            raise
        async with uow() as tx:
            await tx.credentials.store_grant(
                self.vault,
                creds.shop_pk,
                access_token=grant.access_token,
                access_token_expires_at=grant.access_token_expires_at,
                refresh_token=grant.refresh_token,
                refresh_token_expires_at=grant.refresh_token_expires_at,
                now=self.clock(),
            )
        log.info("refreshed the TikTok access token of shop %s", creds.shop_id)
        return replace(
            creds,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            access_token_expires_at=grant.access_token_expires_at,
            refresh_token_expires_at=grant.refresh_token_expires_at,
        )

    async def disconnected(self, shop_pk: int) -> bool:
        """Whether TikTok revoked the shop's authorization (nothing is sent until reconnected)."""
        async with reading() as r:
            return await r.authorizations.is_disconnected(shop_pk)

    async def reject_reasons(
        self, creds: ShopCredentials, return_id: str, status: str
    ) -> list[tuple[str, str]]:
        """TikTok's reasons to reject this return, `(code, text)`, in the shop's locale
        (its `--locale`, else its region's), cached an hour per return and status: they differ
        by stage (a request, a returned package)."""
        locale = locales.of_shop(creds.locale, creds.region)
        key = (creds.shop_pk, return_id, status, locale)
        now = self.clock()
        cached = self._reasons.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        reasons = await self.call(
            creds, lambda c: self.client.reject_reasons(c, return_id, locale=locale)
        )
        if len(self._reasons) > 10_000:  # a bound, not an eviction policy: start over
            self._reasons.clear()
        self._reasons[key] = (now + self.reasons_ttl, reasons)
        return reasons


async def _refresh_refused(link: Link, creds: ShopCredentials, exc: TikTokError) -> None:
    """TikTok refused the refresh for good (it answered with a code, not a transient one): the
    authorization is gone, so the shop is disconnected until new credentials are set."""
    if exc.code is None or exc.retryable:
        return
    reason = f"token refresh refused: {exc.describe()}"
    async with uow() as tx:
        changed = await tx.authorizations.disconnect(creds.shop_pk, reason, at=link.clock())
    if changed:
        log.warning(
            "shop %s is disconnected from TikTok (%s): set new credentials to reconnect it",
            creds.shop_id,
            reason,
        )


async def refresh_due(link: Link) -> int:
    """Refresh the tokens that expire within a day (the token job); how many were refreshed.
    Each shop under its poll lease, so two replicas never refresh the same shop at once; each
    on its own: a shop whose credentials cannot be read, or whose refresh fails, is logged and
    recorded on the shop, and the next one is refreshed."""
    now = link.clock()
    refreshed = 0
    async with reading() as r:
        due = await r.credentials.due_for_refresh(link.vault, before=now + REFRESH_AHEAD)
    for creds in due:
        try:
            refreshed += await _refresh_one(link, creds, now)
        except Exception:
            log.exception("TikTok token refresh of shop %s failed", creds.shop_id)
    return refreshed


async def _refresh_one(link: Link, creds: ShopCredentials | Unreadable, now: datetime) -> int:
    if isinstance(creds, Unreadable):
        log.error("cannot refresh the TikTok tokens of shop %s: %s", creds.shop_id, creds.reason)
        await _record(creds.shop_pk, creds.reason)
        return 0
    async with uow() as tx:
        claim = await tx.polls.claim_poll(creds.shop_pk, now=now, lease_until=now + link.lease)
    if claim is None:
        return 0
    try:
        await link.refresh(creds)
        return 1
    except TikTokError as exc:
        log.warning("TikTok token refresh of shop %s failed: %s", creds.shop_id, exc)
        await _record(creds.shop_pk, f"token refresh: {exc.describe()}")
        return 0
    finally:
        async with uow() as tx:
            await tx.polls.polled(creds.shop_pk, synced_until=None)


async def _record(shop_pk: int, error: str) -> None:
    async with uow() as tx:
        await tx.polls.shop_failed(shop_pk, error)
