"""The outbox dispatcher: the calls queued in `tiktok_call` made, retried, or given up
(docs/tiktok-sync.md).

One run claims the due calls under a lease (aftersales/store/calls.py: one replica per call,
SKIP LOCKED on PostgreSQL), commits the claim, then makes each call outside any transaction.
A dispatcher killed mid-call leaves the call leased; once the lease runs out, the next run
makes it again with the same idempotency key, so TikTok applies a decision once.

What happens to a call:
- TikTok accepts it: SYNCED (a decision) or DONE (a fetch, its return applied).
- 429, 5xx, a transient code, a timeout: tried again after 1 s doubling to 60 s, with jitter,
  then every TIKTOK_RETRY_MAX_SECONDS, until 24 hours have passed: then FAILED.
- 105002 (token expired): the token is refreshed and the call made again at once (Link.call).
- The shop is disconnected (before or while making it): the call waits, PENDING, and is made
  once the shop is reconnected (aftersales/store/connections.py pauses its 24-hour budget).
- Anything unexpected while making it (an answer we cannot store, a bug): that call's failure
  only, retried like a transient one and FAILED after 24 hours; the batch goes on.
- Any other answer: FAILED with TikTok's code and message, and for a decision the return is
  fetched at once. An approved cancellation answered 25001045 (the order has already shipped)
  ends so too, and no longer shows `mustNotShip`: TikTok did not cancel the order. No silent
  revert: the after-sale keeps showing the seller's decision, FAILED, with TikTok's status
  beside it (`platformStatus`) and `syncError` saying why, until the
  seller retries or decides again, or TikTok reports a newer status (aftersales/commands/
  reports.py).
Retries the client makes inside one call count in `syncAttempts` and show in `syncError`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Literal

from aftersales.domain.connection import DISCONNECTED_ERROR
from aftersales.domain.sync import (
    ALREADY_SHIPPED,
    APPROVE_CANCELLATION,
    CANCELLATION_DECISIONS,
    FETCH_CANCELLATION,
    CallKind,
    gives_up,
    retry_delay,
)
from aftersales.store.calls import CallRecord
from aftersales.store.credentials import CredentialsError, ShopCredentials
from aftersales.store.uow import uow
from aftersales.tiktok import imports
from aftersales.tiktok.client import TikTokError
from aftersales.tiktok.link import Link

log = logging.getLogger("aftersales.tiktok")

BATCH = 20
AT_ONCE = 5


@dataclass
class DispatchRun:
    synced: int = 0  # decisions TikTok accepted, and fetches applied
    retrying: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.synced + self.retrying + self.failed


async def dispatch(link: Link, *, limit: int = BATCH) -> DispatchRun:
    """Make the calls due now (at most `limit`)."""
    now = link.clock()
    async with uow() as tx:
        due = await tx.calls.claim(now=now, lease_until=now + link.lease, limit=limit)
    run = DispatchRun()
    # The calls of a batch are made side by side (a few at a time): a slow answer holds its own
    # call until the client's deadline, not the calls behind it. The claim takes at most one
    # decision per after-sale, so each after-sale's decisions still reach TikTok in order.
    slots = asyncio.Semaphore(AT_ONCE)

    async def make(call: CallRecord) -> None:
        async with slots:
            try:
                await _make(link, call, run)
            except Exception:
                # Even recording its failure failed (the database went away?): the call keeps
                # its lease and is made again when the lease ends; the others are still made.
                log.exception(
                    "TikTok call %s for return %s could not be recorded", call.id, call.return_id
                )

    await asyncio.gather(*(make(call) for call in due))
    return run


async def _make(link: Link, call: CallRecord, run: DispatchRun) -> None:
    try:
        await _send(link, call, run)
    except Exception as exc:
        log.exception(
            "TikTok call %s for return %s met an unexpected error", call.id, call.return_id
        )
        unexpected = TikTokError(f"unexpected {type(exc).__name__}: {exc}", retryable=True)
        await _refused(link, call, unexpected, run)


async def _send(link: Link, call: CallRecord, run: DispatchRun) -> None:
    try:
        creds = await link.shop(call.shop_pk)
    except CredentialsError as exc:
        await _failed(link, call, str(exc), run)
        return
    if creds is None:
        if await _waits_for_reconnect(link, call, run):
            return
        error = "the shop does not sync any more: no TikTok access token or no shop cipher"
        await _failed(link, call, error, run)
        return
    # Retries inside this one call (the client's quick ones) are counted and shown while they
    # last: a seller looking during a long backoff sees the attempts and the last reason.
    tries = _InCallRetries(call)
    try:
        if call.kind is CallKind.DECISION:
            verb: Literal["approve", "reject"] = "reject" if call.verb == "reject" else "approve"
            assert call.idempotency_key is not None
            key, body = call.idempotency_key, call.body or {}
            cancellation = call.decision in CANCELLATION_DECISIONS
            await link.call(
                creds,
                lambda c: link.client.decide(
                    c,
                    call.return_id,
                    verb,
                    body,
                    key,
                    on_retry=tries.record,
                    cancellation=cancellation,
                ),
            )
        else:
            await _fetch(link, creds, call)
    except TikTokError as exc:
        await _refused(link, tries.call, exc, run)
        return
    call = tries.call
    async with uow() as tx:
        await tx.calls.succeeded(call, now=link.clock())
        if call.decision == APPROVE_CANCELLATION and call.after_sale_id is not None:
            # A retried approval TikTok took after all: the order is cancelled.
            await tx.calls.must_not_ship(call.after_sale_id, True)
    run.synced += 1
    log.info(
        "TikTok %s %s for return %s: done",
        call.kind.value.lower(),
        call.decision or "",
        call.return_id,
    )


class _InCallRetries:
    """Records each retry the client makes inside one call on the call and its after-sale
    (`syncAttempts` + 1, `syncError` the reason); `call` is the call with its attempts so far."""

    def __init__(self, call: CallRecord) -> None:
        self.call = call

    async def record(self, error: TikTokError) -> None:
        self.call = replace(self.call, attempts=self.call.attempts + 1)
        async with uow() as tx:
            await tx.calls.retrying_in_call(self.call, error.describe())


async def _refused(link: Link, call: CallRecord, exc: TikTokError, run: DispatchRun) -> None:
    if await _waits_for_reconnect(link, call, run):
        return
    now = link.clock()
    error = exc.describe()
    if exc.retryable and not gives_up(call.created_at, now):
        at = now + retry_delay(call.attempts, ceiling=link.retry_ceiling)
        async with uow() as tx:
            await tx.calls.retry_later(call, error, at=at)
        run.retrying += 1
        log.info(
            "TikTok call %s for return %s retried at %s: %s", call.id, call.return_id, at, error
        )
        return
    if exc.retryable:
        error = f"gave up after 24 hours of retries; last: {error}"
    if exc.code == ALREADY_SHIPPED and call.decision == APPROVE_CANCELLATION:
        error = f"TikTok did not cancel the order: it has already shipped ({error})"
        await _failed(link, call, error, run, shipped=True)
    else:
        await _failed(link, call, error, run)
    if call.kind is CallKind.DECISION:
        await _correct(link, call)


async def _waits_for_reconnect(link: Link, call: CallRecord, run: DispatchRun) -> bool:
    """A call whose shop was disconnected meanwhile (webhook type 6, or a refresh refused
    while making it) is not failed: it waits, PENDING, until the shop is reconnected (the
    claim skips it until then)."""
    if not await link.disconnected(call.shop_pk):
        return False
    async with uow() as tx:
        await tx.calls.retry_later(call, DISCONNECTED_ERROR, at=link.clock())
    run.retrying += 1
    log.info("TikTok call %s waits for its shop to be reconnected", call.id)
    return True


async def _failed(
    link: Link, call: CallRecord, error: str, run: DispatchRun, *, shipped: bool = False
) -> None:
    """The call FAILED; with `shipped` (an approved cancellation whose order had shipped), its
    after-sale no longer shows `mustNotShip`, in the same transaction."""
    async with uow() as tx:
        await tx.calls.failed(call, error, now=link.clock())
        if shipped and call.after_sale_id is not None:
            await tx.calls.must_not_ship(call.after_sale_id, False)
    run.failed += 1
    log.warning("TikTok call %s for return %s failed: %s", call.id, call.return_id, error)


async def _correct(link: Link, call: CallRecord) -> None:
    """TikTok refused our decision (or never took it): fetch its state of the return now, to
    show beside the seller's decision (it replaces the status only if newer than the decision);
    if the fetch fails too, it is queued and retried like any call."""
    cancellation = call.decision in CANCELLATION_DECISIONS
    try:
        creds = await link.shop(call.shop_pk)
        if creds is not None:
            if cancellation:
                await imports.fetch_cancellation(link, creds, call.return_id)
            else:
                await imports.fetch(link, creds, call.return_id)
            return
    except Exception as exc:  # anything: the fetch is queued and retried like any call
        log.warning("fetching return %s after a refused decision failed: %s", call.return_id, exc)
    async with uow() as tx:
        await tx.calls.fetch(
            shop_pk=call.shop_pk,
            return_id=call.return_id,
            now=link.clock(),
            cancellation=cancellation,
        )


async def _fetch(link: Link, creds: ShopCredentials, call: CallRecord) -> None:
    """A FETCH call: the return, or the cancellation (Search Cancellations by id)."""
    if call.decision == FETCH_CANCELLATION:
        await imports.fetch_cancellation(link, creds, call.return_id)
    else:
        await imports.fetch(link, creds, call.return_id)
