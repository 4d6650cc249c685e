"""OAuth states on both databases: used at most once even by callbacks racing each other, only
until they expire, and pruned once they can no longer be used."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aftersales.commands import authorize
from aftersales.store.models import OAuthState
from aftersales.store.uow import uow
from tests.support.clock import T0
from tests.support.door import write

states = write("oauth")
APP = authorize.App(service_id="7310000000000000001")


async def _started(name: str = "acme", *, state: str = "s" * 43) -> str:
    await authorize.authorization_url(APP, now=T0, seller_name=name, new_state=lambda: state)
    return authorize.hash_state(state)


async def test_two_callbacks_racing_for_one_state_cannot_both_use_it(database: str) -> None:
    hashed = await _started()
    # On PostgreSQL both transactions are open before either updates; SQLite has one writer
    # (its lock would hold the second transaction before the barrier).
    barrier = asyncio.Barrier(2 if database.startswith("postgres") else 1)

    async def use() -> object:
        async with uow() as tx:
            await barrier.wait()
            return await tx.oauth.use(hashed, now=T0 + timedelta(minutes=1))

    results = await asyncio.gather(use(), use(), return_exceptions=True)

    won = [r for r in results if r is not None and not isinstance(r, BaseException)]
    assert len(won) == 1, results
    assert won[0].seller == "acme"  # type: ignore[attr-defined]


async def test_a_state_works_until_thirty_minutes_after_it_was_made(database: str) -> None:
    hashed = await _started()

    late = await states.use(hashed, now=T0 + timedelta(minutes=30))
    in_time = await states.use(hashed, now=T0 + timedelta(minutes=29, seconds=59))

    assert late is None and in_time is not None


async def test_states_that_can_no_longer_be_used_are_pruned(database: str) -> None:
    used = await _started(state="u" * 43)
    await _started(state="o" * 43)
    await states.use(used, now=T0)

    pruned_now = await authorize.prune_states(now=T0 + timedelta(minutes=1))
    pruned_later = await authorize.prune_states(now=T0 + timedelta(minutes=30))

    assert (pruned_now, pruned_later) == (1, 1)
    assert await OAuthState.all().count() == 0


async def test_connect_creates_the_seller_when_new(database: str) -> None:
    first = await authorize.authorization_url(APP, now=T0, seller_name=" acme ")
    second = await authorize.authorization_url(APP, now=T0, seller_name="acme")

    assert first.seller_created and not second.seller_created
    assert first.seller_id == second.seller_id
