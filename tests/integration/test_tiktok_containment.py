"""A TikTok answer we did not expect stays with what it concerns (issue 16: H2, M1, M2, L6),
against a hostile API over real loopback HTTP, on both databases: one call's failure never
stops the other calls of its batch, one shop's never stops the poll of the others, and what is
kept of TikTok's text is readable and at most 1,000 characters."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.model import SellerAction
from aftersales.store import credentials
from aftersales.store.credentials import ShopCredentials, Vault
from aftersales.store.models import AfterSale, Shop, TikTokCall
from aftersales.store.uow import uow
from aftersales.tiktok import dispatch, imports
from aftersales.tiktok.client import TikTokClient
from aftersales.tiktok.link import Link, refresh_due
from tests.support.builders import WINDOWS, Seller, make_seller, seller_id_of, unique_id
from tests.support.clock import Clock
from tests.support.hostile_tiktok import Hostile, return_object
from tests.support.sandbox import serving


@dataclass
class Side:
    seller: Seller
    seller_id: int
    shop_pk: int
    cipher: str


@dataclass
class World:
    hostile: Hostile
    link: Link
    clock: Clock
    a: Side
    b: Side

    async def creds(self, side: Side) -> ShopCredentials:
        found = await self.link.shop(side.shop_pk)
        assert found is not None
        return found

    def put(self, side: Side, return_id: str | None = None) -> str:
        return_id = return_id or unique_id()
        self.hostile.returns.setdefault(side.cipher, []).append(return_object(return_id))
        return return_id

    async def decided(self, side: Side, return_id: str | None = None) -> str:
        """A return imported and accepted by the seller: its decision is queued."""
        return_id = self.put(side, return_id)
        await imports.fetch(self.link, await self.creds(side), return_id)
        sale = await AfterSale.get(return_id=return_id)
        await seller_commands.decide(
            side.seller_id,
            sale.id,
            Decision(SellerAction.ACCEPT_REFUND),
            now=self.clock.now(),
            windows=WINDOWS,
            push=True,
        )
        return return_id


async def _side(vault: Vault, clock: Clock, cipher: str) -> Side:
    seller = await make_seller(region="ID")
    await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token=f"TTP_{cipher}",
        refresh_token=f"TTP_{cipher}_refresh",
        shop_cipher=cipher,
        now=clock.now(),
    )
    shop = await Shop.get(shop_id=seller.shop_id)
    return Side(seller, await seller_id_of(seller), shop.id, cipher)


@pytest.fixture
async def world(database: str, clock: Clock) -> AsyncIterator[World]:
    vault = Vault([Fernet.generate_key().decode()])
    a = await _side(vault, clock, "ciphA")
    b = await _side(vault, clock, "ciphB")
    hostile = Hostile()
    async with serving(hostile.app) as base_url:
        client = TikTokClient(
            base_url=base_url,
            auth_base_url=base_url,
            app_key="k",
            app_secret="s",
            timeout=1.0,
            deadline=2.0,
            max_body=1024 * 1024,
            max_retries=0,
        )
        link = Link(client=client, vault=vault, windows=WINDOWS, clock=clock.now)
        try:
            yield World(hostile, link, clock, a, b)
        finally:
            await link.aclose()


async def _sale(return_id: str) -> AfterSale:
    return await AfterSale.get(return_id=return_id)


def _readable(text: str | None) -> bool:
    assert text is not None
    text.encode("utf-8")  # no lone surrogate
    return "\x00" not in text and 0 < len(text) <= 1000


async def test_a_refusal_we_cannot_store_fails_only_its_own_call(world: World) -> None:
    poisons = ["nul_message", "surrogate_message", "big_message", "deep_json"]
    poisoned = {}
    for behaviour in poisons:
        return_id = await world.decided(world.a)
        world.hostile.rules[f"/{return_id}/approve"] = behaviour
        poisoned[behaviour] = return_id
    fine = [await world.decided(world.a), await world.decided(world.b)]

    run = await dispatch.dispatch(world.link)

    assert (run.synced, run.failed) == (2, 4)
    for return_id in fine:
        assert (await _sale(return_id)).sync_status == "SYNCED"
    for behaviour, return_id in poisoned.items():
        sale = await _sale(return_id)
        assert sale.sync_status == "FAILED", behaviour
        assert _readable(sale.sync_error), behaviour
    assert "with a NUL" in ((await _sale(poisoned["nul_message"])).sync_error or "")
    assert "malformed" in ((await _sale(poisoned["deep_json"])).sync_error or "")
    failed = await TikTokCall.filter(status="FAILED")
    assert len(failed) == 4 and all(_readable(call.last_error) for call in failed)
    # The seller can send it again, and this time it goes through.
    world.hostile.rules.clear()
    sale = await _sale(poisoned["nul_message"])
    await seller_commands.retry_sync(world.a.seller_id, sale.id, now=world.clock.now())
    await dispatch.dispatch(world.link)
    assert (await _sale(poisoned["nul_message"])).sync_status == "SYNCED"


async def test_a_return_id_the_client_cannot_send_fails_at_once_and_can_be_retried(
    world: World,
) -> None:
    dotted = await world.decided(world.a, "R.77:1")
    fine = await world.decided(world.b)

    run = await dispatch.dispatch(world.link)

    assert run.synced == 1
    assert (await _sale(fine)).sync_status == "SYNCED"
    sale = await _sale(dotted)
    assert sale.sync_status == "FAILED"
    assert "return id cannot be sent" in (sale.sync_error or "")
    await seller_commands.retry_sync(world.a.seller_id, sale.id, now=world.clock.now())
    assert (await _sale(dotted)).sync_status == "PENDING"


async def test_an_unexpected_error_in_a_call_is_retried_and_given_up_after_24_hours(
    world: World,
) -> None:
    return_id = world.put(world.a)
    world.hostile.rules[return_id] = "bigint_field"  # orjson cannot keep a 100-bit integer
    async with uow() as tx:
        await tx.calls.fetch(shop_pk=world.a.shop_pk, return_id=return_id, now=world.clock.now())
    fine = await world.decided(world.b)

    first = await dispatch.dispatch(world.link)

    assert (first.synced, first.retrying) == (1, 1)
    assert (await _sale(fine)).sync_status == "SYNCED"
    [fetch] = await TikTokCall.filter(kind="FETCH", return_id=return_id)
    assert fetch.status == "PENDING" and "unexpected TypeError" in (fetch.last_error or "")
    world.clock.advance(hours=25)
    last = await dispatch.dispatch(world.link)
    assert last.failed == 1
    await fetch.refresh_from_db()
    assert fetch.status == "FAILED" and (fetch.last_error or "").startswith("gave up after 24")


async def test_one_unreadable_return_object_or_shop_never_stops_the_poll(world: World) -> None:
    bad = world.put(world.a)
    good = world.put(world.a)
    other = world.put(world.b)
    world.hostile.rules["ciphA"] = "surrogate_field"  # the first object of A's page

    first = await imports.poll(world.link)

    assert (first.shops, first.failed) == (2, 0)
    assert not await AfterSale.filter(return_id=bad).exists()
    assert await AfterSale.filter(return_id__in=[good, other]).count() == 2

    world.hostile.rules["ciphA"] = "deep_json"
    later = world.put(world.b)
    world.clock.advance(seconds=world.link.poll_interval.total_seconds())
    second = await imports.poll(world.link)

    assert (second.shops, second.failed) == (1, 1)
    assert await AfterSale.filter(return_id=later).exists()
    shop_a = await Shop.get(id=world.a.shop_pk)
    shop_b = await Shop.get(id=world.b.shop_pk)
    assert "malformed" in (shop_a.sync_error or "") and shop_b.sync_error is None
    assert shop_b.synced_until == world.clock.now() != shop_a.synced_until


async def test_a_slow_or_endless_answer_is_cut_off_and_the_batch_goes_on(world: World) -> None:
    slow = await world.decided(world.a)
    huge = await world.decided(world.a)
    fine = await world.decided(world.b)
    world.hostile.rules[f"/{slow}/approve"] = "drip"
    world.hostile.rules[f"/{huge}/approve"] = "huge"

    began = time.monotonic()
    run = await dispatch.dispatch(world.link)

    assert time.monotonic() - began < 8
    assert (run.synced, run.retrying, run.failed) == (1, 1, 1)
    assert (await _sale(fine)).sync_status == "SYNCED"
    waiting = await _sale(slow)
    assert waiting.sync_status == "PENDING" and "no answer within 2s" in (waiting.sync_error or "")
    dropped = await _sale(huge)
    assert dropped.sync_status == "FAILED" and "larger than" in (dropped.sync_error or "")


async def test_one_shops_unreadable_credentials_stop_only_that_shop(world: World) -> None:
    other_key = Vault([Fernet.generate_key().decode()])
    await credentials.set_credentials(
        other_key,
        world.a.seller.shop_id,
        access_token="TTP_other",
        refresh_token="TTP_other_refresh",
        shop_cipher=None,
        now=world.clock.now(),
    )
    returned = world.put(world.b)
    soon = world.clock.now() + timedelta(hours=1)
    for side in (world.a, world.b):
        await credentials.set_credentials(
            None,
            side.seller.shop_id,
            access_token=None,
            refresh_token=None,
            shop_cipher=None,
            access_token_expires_at=soon,
            now=world.clock.now(),
        )

    polled = await imports.poll(world.link)
    refreshed = await refresh_due(world.link)

    assert (polled.shops, polled.failed) == (1, 1)
    assert await AfterSale.filter(return_id=returned).exists()
    assert refreshed == 1
    b = await world.creds(world.b)
    assert b.access_token == "TTP_new"
    shop_a = await Shop.get(id=world.a.shop_pk)
    assert "cannot be decrypted" in (shop_a.sync_error or "")
    assert (await Shop.get(id=world.b.shop_pk)).sync_error is None
