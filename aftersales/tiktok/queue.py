"""On-demand imports queued in this process (`syncShop`): at most `limit` run at once, one per
shop, and each seller may start only so many within a window. The request that starts one
answers at once; what the import did is recorded on the shop (`shop.sync_error`) and logged.

A queue belongs to one process (its Link): across replicas, the shop's poll lease keeps two
imports of one shop apart (aftersales/tiktok/imports.py, `sync_shop`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

log = logging.getLogger("aftersales.tiktok")

RUNNING_AT_ONCE = 2
STARTS_PER_SELLER = 10
STARTS_WINDOW = timedelta(minutes=10)


class Busy(Exception):
    """An import of this shop is queued or running here."""


class TooMany(Exception):
    """The seller started STARTS_PER_SELLER imports within STARTS_WINDOW."""


class SyncQueue:
    def __init__(
        self,
        *,
        limit: int = RUNNING_AT_ONCE,
        per_seller: int = STARTS_PER_SELLER,
        window: timedelta = STARTS_WINDOW,
    ) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._per_seller = per_seller
        self._window = window
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._starts: dict[int, deque[datetime]] = {}

    def busy(self, shop_pk: int) -> bool:
        return shop_pk in self._tasks

    def start(
        self,
        shop_pk: int,
        seller_id: int,
        job: Callable[[], Awaitable[object]],
        *,
        now: datetime,
    ) -> None:
        """Queue `job` for the shop; `Busy` or `TooMany` when it cannot be."""
        if shop_pk in self._tasks:
            raise Busy
        starts = self._starts.setdefault(seller_id, deque())
        while starts and now - starts[0] >= self._window:
            starts.popleft()
        if len(starts) >= self._per_seller:
            raise TooMany
        starts.append(now)
        task = asyncio.create_task(self._run(job))
        self._tasks[shop_pk] = task
        task.add_done_callback(lambda _: self._tasks.pop(shop_pk, None))

    async def _run(self, job: Callable[[], Awaitable[object]]) -> None:
        async with self._slots:
            try:
                await job()
            except Exception:  # the job records its own outcome; this is a last resort
                log.exception("an on-demand TikTok import failed")

    async def idle(self) -> None:
        """Wait until every queued import has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
