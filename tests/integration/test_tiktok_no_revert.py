"""Decisions reach TikTok or stay visibly failed, never silently reverted (docs/tiktok-sync.md):
TikTok's "try again" codes retried to SYNCED, retries shown while they last, a refused decision
kept as the seller's with TikTok's status beside it until a retry, a new decision or a newer
TikTok status; install-unique keys; TikTok's confirming report noted. On both databases,
against the stand-in TikTok over real HTTP, with real signed webhook bodies."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aftersales.commands import seller as seller_commands
from aftersales.domain.errors import ActionNotAllowedForType, InvalidTransition
from aftersales.domain.model import Actor, AfterSaleStatus, EventSource, SellerAction
from aftersales.store.models import Install, TikTokCall
from aftersales.store.uow import uow
from aftersales.tiktok import dispatch
from aftersales.tiktok.client import TikTokClient
from aftersales.tiktok.link import Link
from devtools.sandbox import Fault
from tests.integration import test_tiktok_sync as sync_tests
from tests.integration.test_tiktok_sync import REASON, World, _sale, graphql_app, queries
from tests.support.builders import WINDOWS
from tests.support.eventually import eventually_async
from tests.support.sandbox import APP_KEY, APP_SECRET
from tests.support.webhooks import envelope, post_tiktok, return_data

A = SellerAction
S = AfterSaleStatus
PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"
TRY_AGAIN = "Internal error. Please try again"
world = sync_tests.world  # the fixture: a syncing shop against the stand-in TikTok


def after_tiktok(world: World, seconds: float = 2.0) -> datetime:
    """Our clock set just after TikTok's (the stand-in's): a decision made now is newer than
    anything TikTok holds so far."""
    world.clock.current = datetime.fromtimestamp(world.time() + seconds, UTC)
    return world.clock.current


async def statuses_in_history(sale_id: int) -> list[tuple[S | None, Actor]]:
    history = await queries.history_by_sale([sale_id])
    return [(h.to_status, h.actor) for h in history[sale_id]]


async def refused_rejection(world: World) -> tuple[str, int]:
    """A return TikTok holds as pending, whose rejection here TikTok refused for good."""
    return_id = world.put(PENDING)
    sale_id = await world.imported(return_id)
    after_tiktok(world)
    await world.decide(sale_id, A.REJECT_RETURN, reason="Used", reason_code=REASON)
    world.sandbox.fail("/reject", Fault.code(25001016, "reverse reason not match action type"))
    assert (await dispatch.dispatch(world.link)).failed == 1
    return return_id, sale_id


async def test_try_again_twice_then_success_ends_synced_and_never_reverted(world: World) -> None:
    return_id = world.put(PENDING)
    sale_id = await world.imported(return_id)
    after_tiktok(world)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    world.sandbox.fail("/approve", Fault.code(25020008, TRY_AGAIN), Fault.code(25020008, TRY_AGAIN))

    seen = []
    for wait in (0, 1, 2):
        world.clock.advance(seconds=wait)
        await dispatch.dispatch(world.link)
        seen.append(await _sale(world, return_id))

    assert [(s.status, s.sync_status) for s in seen] == [
        (S.AWAITING_BUYER_SHIPMENT, "PENDING"),
        (S.AWAITING_BUYER_SHIPMENT, "PENDING"),
        (S.AWAITING_BUYER_SHIPMENT, "SYNCED"),
    ]
    assert seen[0].sync_error == f"TikTok 25020008: {TRY_AGAIN}"
    assert (seen[-1].sync_error, seen[-1].sync_attempts) == (None, 3)
    assert [c.code for c in world.decisions()] == [25020008, 25020008, 0]
    assert len({c.idempotency_key for c in world.decisions()}) == 1  # one attempt, one key
    assert await statuses_in_history(sale_id) == [
        (S.PENDING_REQUEST, Actor.BUYER),
        (S.AWAITING_BUYER_SHIPMENT, Actor.SELLER),
    ]
    assert await TikTokCall.filter(kind="FETCH").count() == 0  # nothing to correct


async def test_retries_inside_one_call_show_while_they_last(world: World) -> None:
    return_id = world.put(PENDING)
    sale_id = await world.imported(return_id)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    world.sandbox.fail("/approve", Fault.http(429, retry_after=1))
    patient = TikTokClient(
        base_url=world.base_url,
        auth_base_url=world.base_url,
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        max_retries=2,
        now=world.time,
    )
    link = Link(client=patient, vault=world.link.vault, windows=WINDOWS, clock=world.clock.now)

    try:
        running = asyncio.create_task(dispatch.dispatch(link))

        async def shown() -> Any:
            sale = await _sale(world, return_id)
            return sale if sale.sync_attempts == 2 else None

        during = await eventually_async(shown, what="the retry inside the call is shown")
        run = await running
    finally:
        await patient.aclose()

    assert (during.sync_status, during.sync_error) == ("PENDING", "HTTP 429 (rate limited)")
    assert run.synced == 1
    done = await _sale(world, return_id)
    assert (done.sync_status, done.sync_error, done.sync_attempts) == ("SYNCED", None, 2)


async def test_a_final_refusal_leaves_the_sellers_decision_visible_as_failed(
    world: World, database: str
) -> None:
    return_id = world.put(PENDING)
    sale_id = await world.imported(return_id)
    # The buyer cancels on TikTok; its webhook is lost. The seller accepts here, later.
    world.sandbox.set_status(return_id, "RETURN_OR_REFUND_REQUEST_CANCEL")
    cancelled_at = datetime.fromtimestamp(world.sandbox.returns[return_id]["update_time"], UTC)
    after_tiktok(world)
    await world.decide(sale_id, A.ACCEPT_RETURN)

    assert (await dispatch.dispatch(world.link)).failed == 1

    sale = await _sale(world, return_id)
    assert (sale.status, sale.sync_status) == (S.AWAITING_BUYER_SHIPMENT, "FAILED")
    assert (sale.sync_error or "").startswith("TikTok 25020009")
    assert sale.platform_status == "RETURN_OR_REFUND_REQUEST_CANCEL"  # TikTok's, beside ours
    assert sale.platform_updated_at == cancelled_at
    assert (await statuses_in_history(sale_id))[-1] == (S.AWAITING_BUYER_SHIPMENT, Actor.SELLER)
    async with graphql_app(world, database, syncing=True) as (app, _):
        token = world.seller.token
        shown = await app.gql(SHOWN, {"id": str(sale_id)}, token=token)
        counts = await app.gql(COUNTS, {}, token=token)
        failed = await app.gql(FAILED_LIST, {"sync": "FAILED"}, token=token)
        pending = await app.gql(FAILED_LIST, {"sync": "PENDING"}, token=token)
    assert shown["afterSale"] == {
        "status": "AWAITING_BUYER_SHIPMENT",
        "platformStatus": "RETURN_OR_REFUND_REQUEST_CANCEL",
        "syncStatus": "FAILED",
        # What TikTok's status (closed) allows, and the retry.
        "availableActions": ["ADD_NOTE", "RETRY_SYNC"],
    }
    tabs = {c["status"]: (c["count"], c["syncFailed"]) for c in counts["afterSaleCounts"]}
    assert tabs["AWAITING_BUYER_SHIPMENT"] == (1, 1) and tabs["PENDING_REQUEST"] == (0, 0)
    assert [e["node"]["id"] for e in failed["afterSales"]["edges"]] == [str(sale_id)]
    assert failed["afterSales"]["totalCount"] == 1
    assert pending["afterSales"]["totalCount"] == 0


SHOWN = """query($id: ID!) { afterSale(id: $id) {
  status platformStatus syncStatus availableActions } }"""
COUNTS = """{ afterSaleCounts(type: RETURN_AND_REFUND) { status count syncFailed } }"""
FAILED_LIST = """query($sync: SyncStatus) { afterSales(syncStatus: $sync, first: 10) {
  totalCount edges { node { id } } } }"""


async def test_a_retry_sync_is_a_new_attempt_with_a_new_key(world: World) -> None:
    return_id, sale_id = await refused_rejection(world)
    assert (await _sale(world, return_id)).status is S.REJECTED

    await seller_commands.retry_sync(world.seller_id, sale_id, now=world.clock.now())
    await dispatch.dispatch(world.link)

    sale = await _sale(world, return_id)
    assert (sale.status, sale.sync_status) == (S.REJECTED, "SYNCED")
    first, second = (c.idempotency_key or "" for c in world.decisions())
    assert first != second
    assert (first[-2:], second[-2:]) == ("-1", "-2") and first[:-2] == second[:-2]
    history = await queries.history_by_sale([sale_id])
    statuses = [h.to_status for h in history[sale_id]]
    assert statuses[:2] == [S.PENDING_REQUEST, S.REJECTED]
    assert set(statuses[2:]) <= {S.REJECTED}  # TikTok's fetch filled details, reverted nothing


async def test_deciding_again_while_failed_starts_from_tiktoks_status(world: World) -> None:
    return_id, sale_id = await refused_rejection(world)
    failed = await _sale(world, return_id)
    assert (failed.status, failed.platform_status) == (S.REJECTED, PENDING)

    with pytest.raises(InvalidTransition):  # TikTok's request is pending, not shipped
        await world.decide(sale_id, A.CONFIRM_RECEIPT)
    world.clock.advance(seconds=1)
    await world.decide(sale_id, A.ACCEPT_RETURN)  # allowed from TikTok's PENDING
    assert (await _sale(world, return_id)).sync_status == "PENDING"
    await dispatch.dispatch(world.link)

    sale = await _sale(world, return_id)
    assert (sale.status, sale.sync_status) == (S.AWAITING_BUYER_SHIPMENT, "SYNCED")
    assert failed.dispute_deadline is not None and sale.dispute_deadline is None  # never TikTok's
    history = (await queries.history_by_sale([sale_id]))[sale_id]
    assert (history[-1].from_status, history[-1].to_status) == (
        S.PENDING_REQUEST,
        S.AWAITING_BUYER_SHIPMENT,
    )


async def test_a_newer_tiktok_status_ends_the_failed_state(world: World) -> None:
    return_id, sale_id = await refused_rejection(world)
    # Later, TikTok auto-approves the request the seller meant to reject.
    world.time.advance(30)
    world.sandbox.set_status(return_id, "AWAITING_BUYER_SHIP", role="SYSTEM")

    await world.imported(return_id)

    sale = await _sale(world, return_id)
    assert (sale.status, sale.sync_status, sale.sync_error) == (
        S.AWAITING_BUYER_SHIPMENT,
        "SYNCED",
        None,
    )
    last = (await queries.history_by_sale([sale_id]))[sale_id][-1]
    assert (last.from_status, last.to_status, last.source) == (
        S.REJECTED,
        S.AWAITING_BUYER_SHIPMENT,
        EventSource.TIKTOK_API,
    )


async def test_keys_are_unique_to_the_install_and_survive_restarts(world: World) -> None:
    async with uow() as tx:
        first = await tx.install.install_id(now=world.clock.now())
        again = await tx.install.install_id(now=world.clock.now())
    await Install.all().delete()  # a fresh database: another install
    async with uow() as tx:
        other = await tx.install.install_id(now=world.clock.now())

    assert first == again and first != other
    assert re.fullmatch(r"[A-Za-z0-9_]{16}", other)
    return_id = world.put(PENDING)
    await world.decide(await world.imported(return_id), A.ACCEPT_RETURN)
    [call] = await TikTokCall.filter(kind="DECISION")
    assert call.idempotency_key == f"{other}-{return_id}-v2-accept_return-1"


async def test_tiktoks_confirming_report_in_the_same_second_sets_platform_status(
    world: World, database: str
) -> None:
    return_id = world.put(PENDING)
    sale_id = await world.imported(return_id)
    decided = after_tiktok(world, seconds=2.4)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    await dispatch.dispatch(world.link)
    assert (await _sale(world, return_id)).platform_status == PENDING
    entries = len((await queries.history_by_sale([sale_id]))[sale_id])
    second = decided.replace(microsecond=0)  # TikTok's update_time: our decision's second

    def report(status: str, at: datetime, n: int) -> bytes:
        data = return_data(status, at=at, return_id=return_id, role="SELLER")
        return envelope(world.seller.shop_id, data, notification_id=f"{return_id}{n}")

    async with graphql_app(world, database, syncing=True) as (app, _):
        confirming = await post_tiktok(app, report("AWAITING_BUYER_SHIP", second, 1))
        confirmed = await _sale(world, return_id)
        older = await post_tiktok(app, report("AWAITING_BUYER_SHIP", second - timedelta(3), 2))
        other = await post_tiktok(app, report("RETURN_OR_REFUND_REQUEST_CANCEL", second, 3))

    assert [r.status_code for r in (confirming, older, other)] == [200, 200, 200]
    assert (confirmed.status, confirmed.platform_status) == (
        S.AWAITING_BUYER_SHIPMENT,
        "AWAITING_BUYER_SHIP",
    )
    assert confirmed.platform_updated_at == second
    assert confirmed.last_event_at == decided  # our change stays the newest applied
    final = await _sale(world, return_id)
    assert (final.status, final.platform_status, final.platform_updated_at) == (
        S.AWAITING_BUYER_SHIPMENT,
        "AWAITING_BUYER_SHIP",  # a disagreeing stale report sets nothing
        second,  # an older one never lowers TikTok's time
    )
    assert len((await queries.history_by_sale([sale_id]))[sale_id]) == entries


async def test_a_wrong_type_answers_its_type_error_before_the_reason_code(world: World) -> None:
    sale_id = await world.imported(world.put(PENDING))  # a RETURN_AND_REFUND on a syncing shop

    with pytest.raises(ActionNotAllowedForType):
        await world.decide(sale_id, A.REJECT_REFUND, reason="Used")  # and no reasonCode


async def test_an_access_token_tiktok_calls_invalid_is_refreshed_once(world: World) -> None:
    return_id = world.put(PENDING)
    sale_id = await world.imported(return_id)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    # TikTok no longer knows our access token (36009004 naming it); the refresh token works.
    world.sandbox.shops[world.seller.shop_id].access_token = "TTP_issued-elsewhere"

    assert (await dispatch.dispatch(world.link)).synced == 1

    assert [c.code for c in world.decisions()] == [36009004, 0]
    creds = await world.link.shop(world.shop_pk)
    assert creds is not None
    assert creds.access_token == world.sandbox.shops[world.seller.shop_id].access_token


async def test_an_access_token_still_invalid_after_a_refresh_fails(world: World) -> None:
    return_id = world.put(PENDING)
    sale_id = await world.imported(return_id)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    invalid = "Invalid credentials. The x-tts-access-token header is invalid."
    world.sandbox.fail("/approve", Fault.code(36009004, invalid), Fault.code(36009004, invalid))

    assert (await dispatch.dispatch(world.link)).failed == 1

    assert [c.code for c in world.decisions()] == [36009004, 36009004]
    assert (await _sale(world, return_id)).sync_error == f"TikTok 36009004: {invalid}"


async def test_a_decision_from_a_clock_60_seconds_fast_goes_through(world: World) -> None:
    return_id = world.put(PENDING)
    sale_id = await world.imported(return_id)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    fast = TikTokClient(
        base_url=world.base_url,
        auth_base_url=world.base_url,
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        max_retries=0,
        now=lambda: world.time() + 60,
    )
    link = Link(client=fast, vault=world.link.vault, windows=WINDOWS, clock=world.clock.now)

    try:
        run = await dispatch.dispatch(link)
    finally:
        await fast.aclose()

    assert run.synced == 1
    assert [c.code for c in world.decisions()] == [36009004, 0]  # refused once, then corrected
    done = await _sale(world, return_id)
    assert (done.sync_status, done.sync_attempts) == ("SYNCED", 2)
