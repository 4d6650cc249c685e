"""TikTok's truth brought in: returns and cancellations fetched by id, and every return and
cancellation updated since a moment, page after page (the poll, `aftersales sync`, `syncShop`).

Cancellations (Search Cancellations) are imported right after the returns, over the same
window, by the same import: the shop's one poll mark moves only when both went through to the
end, so neither search ever skips a moment the other covered.

A failure stays with what it concerns: a return object that cannot be applied is counted
`failed` and the page goes on; a shop whose import fails (TikTok refuses, its credentials cannot
be decrypted, anything unexpected) has the reason recorded on the shop (`shop.sync_error`) and
the poll goes on with the next shop.

Each return object goes through the inbox like a webhook (aftersales.inbox.receive_fetched):
logged with source `tiktok_api`, applied by the same rules, recorded in history with source
TIKTOK_API. As TikTok's current state it also corrects a status of ours that TikTok never took
(docs/tiktok-sync.md, "Platform wins").
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aftersales.domain.outcome import Outcome
from aftersales.domain.sync import readable
from aftersales.inbox.receive import receive_fetched
from aftersales.store.credentials import ShopCredentials, Unreadable
from aftersales.store.uow import reading, uow
from aftersales.tiktok.client import SearchPage, TikTokError
from aftersales.tiktok.link import Link

log = logging.getLogger("aftersales.tiktok")

# The poll looks this far behind its mark: a return updated just before the last poll, but
# indexed by TikTok a little later, is still found.
OVERLAP = timedelta(minutes=10)
# A shop polled for the first time looks this far back (`aftersales sync --since` for more).
FIRST_LOOK_BACK = timedelta(days=1)
MAX_PAGES = 10_000  # 500,000 returns: a guard against a paging loop, not a limit met in practice
# An on-demand import (syncShop, `aftersales sync`) stops after this long; run it again to go
# on (the import is idempotent). It holds the shop's poll lease a little longer.
SYNC_TIME_LIMIT = timedelta(minutes=10)
SYNC_LEASE = SYNC_TIME_LIMIT + timedelta(minutes=1)


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


async def fetch_cancellation(link: Link, creds: ShopCredentials, cancel_id: str) -> ImportRun:
    """Fetch one cancellation by id and apply it."""
    page = await link.call(
        creds,
        lambda c: link.client.search_cancellations(c, cancel_ids=[cancel_id], page_size=10),
    )
    run = ImportRun(pages=1)
    for obj in page.returns:
        await _apply(link, creds, obj, run)
    return run


async def import_updated(
    link: Link,
    creds: ShopCredentials,
    *,
    since: datetime,
    until: datetime | None = None,
    backfill: bool = False,
) -> ImportRun:
    """Every return of the shop updated at or after `since` (and before `until`), oldest first,
    following TikTok's page tokens to the end. A return object that cannot be applied is
    logged and counted `failed`; the others are still applied."""
    run = ImportRun()
    ge = int(since.timestamp())
    lt = int(until.timestamp()) if until is not None else None
    await _pages(link, creds, link.client.search_returns, ge, lt, run, backfill=backfill)
    await _pages(link, creds, link.client.search_cancellations, ge, lt, run, backfill=backfill)
    return run


async def _pages(
    link: Link,
    creds: ShopCredentials,
    search: Callable[..., Awaitable[SearchPage]],
    ge: int,
    lt: int | None,
    run: ImportRun,
    *,
    backfill: bool,
) -> None:
    """Every page of one search (Search Returns or Search Cancellations), applied; a backfill's
    new requests are not evaluated by the seller's rules."""
    token: str | None = None
    seen_tokens: set[str] = set()
    pages = 0
    while pages < MAX_PAGES:
        page = await link.call(
            creds,
            lambda c, token=token: search(  # type: ignore[misc]
                c, update_time_ge=ge, update_time_lt=lt, page_token=token, page_size=50
            ),
        )
        pages += 1
        run.pages += 1
        for obj in page.returns:
            try:
                await _apply(link, creds, obj, run, backfill=backfill)
            except Exception:
                run.returns += 1
                run.outcomes["failed"] += 1
                log.exception(
                    "a return object of shop %s could not be applied (return_id %r)",
                    creds.shop_id,
                    readable(repr(obj.get("return_id")), 80),
                )
        token = page.next_page_token or None
        if token is None or token in seen_tokens:
            break
        seen_tokens.add(token)


async def _apply(
    link: Link,
    creds: ShopCredentials,
    obj: dict[str, object],
    run: ImportRun,
    *,
    backfill: bool = False,
) -> None:
    result = await receive_fetched(
        creds.shop_id, obj, now=link.clock(), windows=link.windows, backfill=backfill
    )
    run.returns += 1
    run.outcomes[result.outcome.value] += 1
    if result.outcome is Outcome.REJECTED:
        log.warning("a return object from TikTok was refused: %s", result.reason)


def describe(exc: Exception) -> str:
    """What a failed import of one shop records: TikTok's code and message, or the unexpected
    exception's type and text."""
    if isinstance(exc, TikTokError):
        return exc.describe()
    return f"unexpected {type(exc).__name__}: {exc}"


@dataclass
class PollRun:
    shops: int = 0  # polled by this replica
    returns: int = 0
    failed: int = 0


async def poll(link: Link) -> PollRun:
    """The poll job: each syncing shop whose last poll is an interval old, one replica at a time
    per shop (its poll lease), from its mark minus the overlap. The mark moves to the moment
    this poll started only when the import went through to the end. Each shop on its own: one
    that fails is recorded and the next one is polled."""
    run = PollRun()
    started = link.clock()
    async with reading() as r:
        shops = await r.credentials.syncing_shops(link.vault)
    for creds in shops:
        try:
            await _poll_shop(link, creds, started, run)
        except Exception:  # even recording its failure failed: still the next shop
            run.failed += 1
            log.exception("polling TikTok for shop %s failed", creds.shop_id)
    return run


async def _poll_shop(
    link: Link, creds: ShopCredentials | Unreadable, started: datetime, run: PollRun
) -> None:
    if isinstance(creds, Unreadable):
        run.failed += 1
        log.error("cannot poll TikTok for shop %s: %s", creds.shop_id, creds.reason)
        await _record(creds.shop_pk, creds.reason)
        return
    async with uow() as tx:
        claim = await tx.polls.claim_poll(
            creds.shop_pk, now=started, lease_until=started + link.poll_interval
        )
    if claim is None:
        return
    mark = None
    error: str | None = None
    try:
        if claim.synced_until is not None and started - claim.synced_until < (
            link.poll_interval * 0.9
        ):
            return  # another replica polled it within this interval
        since = (claim.synced_until or claim.connected_at or started - FIRST_LOOK_BACK) - OVERLAP
        imported = await import_updated(link, creds, since=since)
        run.shops += 1
        run.returns += imported.returns
        mark = started
    except Exception as exc:
        run.failed += 1
        error = describe(exc)
        if isinstance(exc, TikTokError):
            log.warning("polling TikTok for shop %s failed: %s", creds.shop_id, error)
        else:
            log.exception("polling TikTok for shop %s failed", creds.shop_id)
    finally:
        async with uow() as tx:
            await tx.polls.polled(creds.shop_pk, synced_until=mark)
    await _record(creds.shop_pk, error)


async def _record(shop_pk: int, error: str | None) -> None:
    async with uow() as tx:
        await tx.polls.shop_failed(shop_pk, error)


class SyncBusy(Exception):
    """Another import of the shop (a poll, or an on-demand sync on another replica) holds its
    poll lease."""


async def sync_shop(link: Link, creds: ShopCredentials, *, since: datetime | None) -> ImportRun:
    """On demand (`aftersales sync`, `syncShop`), under the shop's poll lease (`SyncBusy` when
    another import holds it): import from `since`, else from the shop's poll mark minus the
    overlap (or a day back), for at most SYNC_TIME_LIMIT. The poll mark moves forward to the
    start of this import only when the import covered it (it began at or before the mark plus
    the overlap): a `since` after the mark leaves the gap to the poll. The outcome is recorded
    on the shop, as a poll's is."""
    started = link.clock()
    async with uow() as tx:
        claim = await tx.polls.claim_poll(
            creds.shop_pk, now=started, lease_until=started + SYNC_LEASE
        )
    if claim is None:
        raise SyncBusy(f"an import of shop {creds.shop_id} is running")
    polled_from = claim.synced_until or claim.connected_at or started - FIRST_LOOK_BACK
    start = since if since is not None else polled_from - OVERLAP
    error: str | None = None
    try:
        async with asyncio.timeout(SYNC_TIME_LIMIT.total_seconds()):
            run = await import_updated(link, creds, since=start, backfill=True)
    except TimeoutError:
        error = f"the import stopped after {SYNC_TIME_LIMIT}: run it again to go on"
        raise TikTokError(error) from None
    except Exception as exc:
        error = describe(exc)
        raise
    finally:
        async with uow() as tx:
            await tx.polls.polled(creds.shop_pk, synced_until=None)
            await tx.polls.shop_failed(creds.shop_pk, error)
    if start <= polled_from + OVERLAP:
        async with uow() as tx:
            await tx.polls.move_poll_mark(creds.shop_pk, started)
    return run
