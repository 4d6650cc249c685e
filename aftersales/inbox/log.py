"""The delivery log's one path for every delivery: claim it, apply it, record what became of it.

A live delivery is logged once, with its outcome, in the transaction of its effect: its key is
unique, so a repeat that arrives meanwhile waits for that transaction (PostgreSQL) and then finds
the key taken: what it applied is rolled back and it is logged as a duplicate. A kept delivery
(waiting for its shop, failed, or a parcel event waiting for its after-sale) is claimed by a
conditional update from the outcome it was kept under, so two writers (a replica's job, a TikTok
report) never apply it twice. Either way the claim, what applying writes and the outcome commit
together; if applying raises, all of that rolls back and the failure is recorded on its own, so
a delivery is never lost and can be replayed.

`scope` says where this happens: `uow` (a transaction of its own) or a caller's
`tx.savepoint` (the parcel events a TikTok report lets match commit with that report).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime

from aftersales.domain.errors import DomainError
from aftersales.domain.outcome import Outcome, Result
from aftersales.store.deliveries import Incoming, KeyTaken
from aftersales.store.uow import Tx

log = logging.getLogger(__name__)

Apply = Callable[[Tx], Awaitable[Result]]
Scope = Callable[[], AbstractAsyncContextManager[Tx]]


def describe(exc: Exception) -> str:
    """An error as the delivery log keeps it."""
    if isinstance(exc, DomainError):
        return f"{type(exc).__name__}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"[:2000]


class Claim(abc.ABC):
    """How a writer makes a delivery its own, and what it records when that fails."""

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The delivery, for a log line."""

    @abc.abstractmethod
    async def take(self, tx: Tx) -> bool:
        """Whether this writer may apply the delivery (False: another writer holds it)."""

    @abc.abstractmethod
    async def record(self, tx: Tx, result: Result, *, at: datetime) -> int:
        """Record what became of the delivery; its id. Raises `KeyTaken` when a repeat finds
        its key logged already (everything in `tx` must roll back then)."""

    @abc.abstractmethod
    async def lost(self, tx: Tx) -> Result | None:
        """What to answer when another writer holds it."""

    @abc.abstractmethod
    async def failed(self, tx: Tx, reason: str) -> Result | None:
        """Record that applying raised `reason` (rolled back); None if another writer has
        recorded something since."""


@dataclass(frozen=True)
class Arrived(Claim):
    """A delivery as it comes in: logged once with its outcome, its key unique; its key logged
    already: a duplicate."""

    incoming: Incoming

    @property
    def name(self) -> str:
        return f"{self.incoming.source}:{self.incoming.dedupe_key}"

    async def take(self, tx: Tx) -> bool:
        return True  # the unique key, inserted with the outcome (`record`), decides

    async def record(self, tx: Tx, result: Result, *, at: datetime) -> int:
        return await tx.deliveries.record(
            self.incoming,
            result.outcome,
            reason=result.reason,
            after_sale_id=result.after_sale_id,
            at=at,
        )

    async def lost(self, tx: Tx) -> Result:
        first = await tx.deliveries.first_id(self.incoming.source, self.incoming.dedupe_key)
        reason = f"duplicate of delivery {first}"
        delivery_id = await tx.deliveries.insert_repeat(self.incoming, Outcome.DUPLICATE, reason)
        return Result(Outcome.DUPLICATE, reason=reason, delivery_id=delivery_id)

    async def failed(self, tx: Tx, reason: str) -> Result:
        delivery_id = await tx.deliveries.insert(self.incoming, Outcome.FAILED, reason)
        if delivery_id is None:  # a concurrent copy was recorded in the meantime
            return await self.lost(tx)
        return Result(Outcome.FAILED, reason=reason, delivery_id=delivery_id)


@dataclass(frozen=True)
class Kept(Claim):
    """A delivery kept in the log as `kept_as`: claimed by a conditional update from it."""

    delivery_id: int
    kept_as: Outcome
    at: datetime

    @property
    def name(self) -> str:
        return str(self.delivery_id)

    async def take(self, tx: Tx) -> bool:
        return await tx.deliveries.finish(
            self.delivery_id,
            Outcome.PROCESSING,
            reason=None,
            after_sale_id=None,
            at=self.at,
            expected=self.kept_as,
        )

    async def record(self, tx: Tx, result: Result, *, at: datetime) -> int:
        await tx.deliveries.finish(
            self.delivery_id,
            result.outcome,
            reason=result.reason,
            after_sale_id=result.after_sale_id,
            at=at,
        )
        return self.delivery_id

    async def lost(self, tx: Tx) -> None:
        return None

    async def failed(self, tx: Tx, reason: str) -> Result | None:
        recorded = await tx.deliveries.finish(
            self.delivery_id,
            Outcome.FAILED,
            reason=reason,
            after_sale_id=None,
            at=self.at,
            expected=self.kept_as,
        )
        return (
            Result(Outcome.FAILED, reason=reason, delivery_id=self.delivery_id)
            if recorded
            else None
        )


async def claim_apply_record(
    scope: Scope, claim: Claim, apply: Apply, *, now: datetime
) -> Result | None:
    """Claim, apply and record in one `scope`; the recorded result (with its `delivery_id`),
    or what `claim` answers when another writer holds the delivery."""
    try:
        async with scope() as tx:
            if not await claim.take(tx):
                return await claim.lost(tx)
            result = await apply(tx)
            delivery_id = await claim.record(tx, result, at=now)
            return replace(result, delivery_id=delivery_id)
    except KeyTaken:  # a repeat: what it applied is rolled back
        async with scope() as tx:
            return await claim.lost(tx)
    except Exception as exc:  # applying failed: keep the delivery, with the error
        reason = describe(exc)
        log.warning("webhook delivery %s could not be applied: %s", claim.name, reason)
    async with scope() as tx:
        return await claim.failed(tx, reason)
