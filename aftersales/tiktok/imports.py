"""TikTok's truth brought in: returns fetched by id, and every return updated since a moment,
page after page (the poll, `aftersales sync`, `syncShop`).

Each return object goes through the inbox like a webhook (aftersales.inbox.receive_fetched):
logged with source `tiktok_api`, applied by the same rules, recorded in history with source
TIKTOK_API. As TikTok's current state it also corrects a status of ours that TikTok never took
(docs/tiktok-sync.md, "Platform wins").
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aftersales.domain.outcome import Outcome
from aftersales.inbox.receive import receive_fetched
from aftersales.store.credentials import CredentialsError, ShopCredentials
from aftersales.store.uow import reading, uow
from aftersales.tiktok.client import TikTokError
from aftersales.tiktok.link import Link

log = logging.getLogger("aftersales.tiktok")

# The poll looks this far behind its mark: a return updated just before the last poll, but
# indexed by TikTok a little later, is still found.
OVERLAP = timedelta(minutes=10)
# A shop polled for the first time looks this far back (`aftersales sync --since` for more).
FIRST_LOOK_BACK = timedelta(days=1)
MAX_PAGES = 10_000  # 500,000 returns: a guard against a paging loop, not a limit met in practice


@dataclass
class ImportRun:
    """What an import did: pages read, returns seen, and their outcomes."""

    pages: int = 0
    returns: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(self.outcomes.items()))
        return f"{self.returns} returns in {self.pages} pages" + (f" ({parts})" if parts else "")


async def fetch(link: Link, creds: ShopCredentials, return_id: str) -> ImportRun:
    """Fetch one return by id and apply it."""
    page = await link.call(
        creds, lambda c: link.client.search_returns(c, return_ids=[return_id], page_size=10)
    )
    run = ImportRun(pages=1)
    for obj in page.returns:
        await _apply(link, creds, obj, run)
    return run


async def import_updated(
    link: Link, creds: ShopCredentials, *, since: datetime, until: datetime | None = None
) -> ImportRun:
    """Every return of the shop updated at or after `since` (and before `until`), oldest first,
    following TikTok's page tokens to the end."""
    run = ImportRun()
    ge = int(since.timestamp())
    lt = int(until.timestamp()) if until is not None else None
    token: str | None = None
    seen_tokens: set[str] = set()
    while run.pages < MAX_PAGES:
        page = await link.call(
            creds,
            lambda c, token=token: link.client.search_returns(  # type: ignore[misc]
                c, update_time_ge=ge, update_time_lt=lt, page_token=token, page_size=50
            ),
        )
        run.pages += 1
        for obj in page.returns:
            await _apply(link, creds, obj, run)
        token = page.next_page_token or None
        if token is None or token in seen_tokens:
            break
        seen_tokens.add(token)
    return run


async def _apply(
    link: Link, creds: ShopCredentials, obj: dict[str, object], run: ImportRun
) -> None:
    result = await receive_fetched(creds.shop_id, obj, now=link.clock(), windows=link.windows)
    run.returns += 1
    run.outcomes[result.outcome.value] += 1
    if result.outcome is Outcome.REJECTED:
        log.warning("a return object from TikTok was refused: %s", result.reason)


@dataclass
class PollRun:
    shops: int = 0  # polled by this replica
    returns: int = 0
    failed: int = 0


async def poll(link: Link) -> PollRun:
    """The poll job: each syncing shop whose last poll is an interval old, one replica at a time
    per shop (its poll lease), from its mark minus the overlap. The mark moves to the moment
    this poll started only when the import went through to the end."""
    run = PollRun()
    started = link.clock()
    try:
        async with reading() as r:
            shops = await r.credentials.syncing_shops(link.vault)
    except CredentialsError as exc:
        log.error("cannot poll TikTok: %s", exc)
        return run
    for creds in shops:
        async with uow() as tx:
            claim = await tx.polls.claim_poll(
                creds.shop_pk, now=started, lease_until=started + link.poll_interval
            )
        if claim is None:
            continue
        mark = None
        try:
            if claim.synced_until is not None and started - claim.synced_until < (
                link.poll_interval * 0.9
            ):
                continue  # another replica polled it within this interval
            since = (
                claim.synced_until or claim.connected_at or started - FIRST_LOOK_BACK
            ) - OVERLAP
            imported = await import_updated(link, creds, since=since)
            run.shops += 1
            run.returns += imported.returns
            mark = started
        except TikTokError as exc:
            run.failed += 1
            log.warning("polling TikTok for shop %s failed: %s", creds.shop_id, exc)
        finally:
            async with uow() as tx:
                await tx.polls.polled(creds.shop_pk, synced_until=mark)
    return run


async def sync_shop(link: Link, creds: ShopCredentials, *, since: datetime | None) -> ImportRun:
    """On demand (`aftersales sync`, `syncShop`): import from `since`, else from the shop's
    poll mark minus the overlap (or a day back). Moves the poll mark forward, never back."""
    started = link.clock()
    async with uow() as tx:
        claim_since = await tx.polls.poll_mark(creds.shop_pk)
    if since is None:
        since = (claim_since or started - FIRST_LOOK_BACK) - OVERLAP
    run = await import_updated(link, creds, since=since.astimezone(UTC))
    if claim_since is None or started > claim_since:
        async with uow() as tx:
            await tx.polls.move_poll_mark(creds.shop_pk, started)
    return run
