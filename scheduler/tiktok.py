"""The TikTok sync, wired from the settings: the `Link` every sync task shares, and the three
jobs that keep us and TikTok in step (docs/tiktok-sync.md):

- `tiktok-dispatch` every DISPATCH_INTERVAL: make the queued calls (decisions, fetches);
- `tiktok-poll` every TIKTOK_POLL_INTERVAL_SECONDS: import each syncing shop's updated returns;
- `tiktok-tokens` every TOKEN_INTERVAL: refresh the access tokens that expire within a day.

None of them exists unless TIKTOK_API_BASE_URL is set (local-only mode).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from aftersales.settings import Settings
from aftersales.store.credentials import Vault
from aftersales.tiktok import dispatch, imports
from aftersales.tiktok.client import TikTokClient
from aftersales.tiktok.link import Link, refresh_due
from scheduler.jobs import record

log = logging.getLogger("aftersales.scheduler")

DISPATCH_JOB = "tiktok-dispatch"
POLL_JOB = "tiktok-poll"
TOKENS_JOB = "tiktok-tokens"
DISPATCH_INTERVAL = timedelta(seconds=1)
TOKEN_INTERVAL = timedelta(minutes=10)


def build_link(settings: Settings, clock: Callable[[], datetime]) -> Link | None:
    """The TikTok link, or None in local-only mode (no TIKTOK_API_BASE_URL)."""
    if not settings.sync_enabled or settings.tiktok_api_base_url is None:
        return None
    if not settings.tiktok_app_key or not settings.tiktok_app_secret:
        log.warning("TIKTOK_API_BASE_URL is set but TIKTOK_APP_KEY or TIKTOK_APP_SECRET is not")
        return None
    if not settings.secret_keys:
        log.warning("TIKTOK_API_BASE_URL is set but AFTERSALES_SECRET_KEY is not: nothing syncs")
        return None
    client = TikTokClient(
        base_url=settings.tiktok_api_base_url,
        auth_base_url=settings.tiktok_auth_base_url,
        app_key=settings.tiktok_app_key,
        app_secret=settings.tiktok_app_secret,
    )
    return Link(
        client=client,
        vault=Vault(settings.secret_keys),
        windows=settings.dispute_windows,
        clock=clock,
        retry_ceiling=settings.tiktok_retry_max,
        poll_interval=settings.tiktok_poll_interval,
    )


async def run_dispatch(link: Link) -> dispatch.DispatchRun:
    """One recorded dispatcher run; failures logged and recorded, never raised. Runs that had
    nothing to do are not recorded: the job runs every second."""
    started = link.clock()
    try:
        run = await dispatch.dispatch(link)
    except Exception as exc:
        log.exception("TikTok dispatcher run failed")
        await record(DISPATCH_JOB, started, link.clock, 0, f"{type(exc).__name__}: {exc}")
        return dispatch.DispatchRun()
    if run.total:
        log.info(
            "TikTok dispatcher: %d done, %d to retry, %d failed",
            run.synced,
            run.retrying,
            run.failed,
        )
        await record(DISPATCH_JOB, started, link.clock, run.total, None)
    return run


async def run_poll(link: Link) -> imports.PollRun:
    run = await _recorded(POLL_JOB, link, imports.poll, imports.PollRun, lambda r: r.returns)
    log.info(
        "TikTok poll: %d shops, %d returns imported, %d failed", run.shops, run.returns, run.failed
    )
    return run


async def run_tokens(link: Link) -> int:
    return await _recorded(TOKENS_JOB, link, refresh_due, lambda: 0, lambda n: n)


R = TypeVar("R")


async def _recorded(
    job: str,
    link: Link,
    run_once: Callable[[Link], Awaitable[R]],
    nothing: Callable[[], R],
    count: Callable[[R], int],
) -> R:
    """One run of `job`, recorded for GET /health/jobs; a failure logged and recorded, never
    raised (it would only give APScheduler a second, less useful log line)."""
    started = link.clock()
    try:
        result = await run_once(link)
    except Exception as exc:
        log.exception("%s failed", job)
        await record(job, started, link.clock, 0, f"{type(exc).__name__}: {exc}")
        return nothing()
    await record(job, started, link.clock, count(result), None)
    return result
