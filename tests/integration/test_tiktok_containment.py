"""A TikTok answer we did not expect stays with what it concerns (issue 16: H2, M1, M2, L6),
against a hostile API over real loopback HTTP, on both databases: one call's failure never
stops the other calls of its batch, one shop's never stops the poll of the others, and what is
kept of TikTok's text is readable and at most 1,000 characters."""

from __future__ import annotations

import time
from datetime import timedelta

from cryptography.fernet import Fernet

from aftersales.commands import seller as seller_commands
from aftersales.store.credentials import Vault
from aftersales.store.models import AfterSale, Shop, TikTokCall
from aftersales.store.uow import uow
from aftersales.tiktok import dispatch, imports
from aftersales.tiktok.link import refresh_due
from tests.support.door import write
from tests.support.hostile_world import World

credentials = write("credentials")  # each call in a unit of work of its own


async def _sale(return_id: str) -> AfterSale:
    return await AfterSale.get(return_id=return_id)


def _readable(text: str | None) -> bool:
    assert text is not None
    text.encode("utf-8")  # no lone surrogate
    return "\x00" not in text and 0 < len(text) <= 1000


async def test_a_refusal_we_cannot_store_fails_only_its_own_call(hostile: World) -> None:
    poisons = ["nul_message", "surrogate_message", "big_message", "deep_json"]
    poisoned = {}
    for behaviour in poisons:
        return_id = await hostile.decided(hostile.a)
        hostile.api.rules[f"/{return_id}/approve"] = behaviour
        poisoned[behaviour] = return_id
    fine = [await hostile.decided(hostile.a), await hostile.decided(hostile.b)]

    run = await dispatch.dispatch(hostile.link)

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
    hostile.api.rules.clear()
    sale = await _sale(poisoned["nul_message"])
    await seller_commands.retry_sync(hostile.a.seller_id, sale.id, now=hostile.clock.now())
    await dispatch.dispatch(hostile.link)
    assert (await _sale(poisoned["nul_message"])).sync_status == "SYNCED"


async def test_a_return_id_the_client_cannot_send_fails_at_once_and_can_be_retried(
    hostile: World,
) -> None:
    dotted = await hostile.decided(hostile.a, "R.77:1")
    fine = await hostile.decided(hostile.b)

    run = await dispatch.dispatch(hostile.link)

    assert run.synced == 1
    assert (await _sale(fine)).sync_status == "SYNCED"
    sale = await _sale(dotted)
    assert sale.sync_status == "FAILED"
    assert "return id cannot be sent" in (sale.sync_error or "")
    await seller_commands.retry_sync(hostile.a.seller_id, sale.id, now=hostile.clock.now())
    assert (await _sale(dotted)).sync_status == "PENDING"


async def test_an_unexpected_error_in_a_call_is_retried_and_given_up_after_24_hours(
    hostile: World,
) -> None:
    return_id = hostile.put(hostile.a)
    hostile.api.rules[return_id] = "bigint_field"  # orjson cannot keep a 100-bit integer
    async with uow() as tx:
        await tx.calls.fetch(
            shop_pk=hostile.a.shop_pk, return_id=return_id, now=hostile.clock.now()
        )
    fine = await hostile.decided(hostile.b)

    first = await dispatch.dispatch(hostile.link)

    assert (first.synced, first.retrying) == (1, 1)
    assert (await _sale(fine)).sync_status == "SYNCED"
    [fetch] = await TikTokCall.filter(kind="FETCH", return_id=return_id)
    assert fetch.status == "PENDING" and "unexpected TypeError" in (fetch.last_error or "")
    hostile.clock.advance(hours=25)
    last = await dispatch.dispatch(hostile.link)
    assert last.failed == 1
    await fetch.refresh_from_db()
    assert fetch.status == "FAILED" and (fetch.last_error or "").startswith("gave up after 24")


async def test_one_unreadable_return_object_or_shop_never_stops_the_poll(hostile: World) -> None:
    bad = hostile.put(hostile.a)
    good = hostile.put(hostile.a)
    other = hostile.put(hostile.b)
    hostile.api.rules["ciphA"] = "surrogate_field"  # the first object of A's page

    first = await imports.poll(hostile.link)

    assert (first.shops, first.failed) == (2, 0)
    assert not await AfterSale.filter(return_id=bad).exists()
    assert await AfterSale.filter(return_id__in=[good, other]).count() == 2

    hostile.api.rules["ciphA"] = "deep_json"
    later = hostile.put(hostile.b)
    hostile.clock.advance(seconds=hostile.link.poll_interval.total_seconds())
    second = await imports.poll(hostile.link)

    assert (second.shops, second.failed) == (1, 1)
    assert await AfterSale.filter(return_id=later).exists()
    shop_a = await Shop.get(id=hostile.a.shop_pk)
    shop_b = await Shop.get(id=hostile.b.shop_pk)
    assert "malformed" in (shop_a.sync_error or "") and shop_b.sync_error is None
    assert shop_b.synced_until == hostile.clock.now() != shop_a.synced_until


async def test_a_slow_or_endless_answer_is_cut_off_and_the_batch_goes_on(hostile: World) -> None:
    slow = [await hostile.decided(hostile.a), await hostile.decided(hostile.a)]
    huge = await hostile.decided(hostile.a)
    fine = await hostile.decided(hostile.b)
    for return_id in slow:
        hostile.api.rules[f"/{return_id}/approve"] = "drip"
    hostile.api.rules[f"/{huge}/approve"] = "huge"

    began = time.monotonic()
    run = await dispatch.dispatch(hostile.link)

    # Side by side: two answers that never end cost one deadline (2 s), not two.
    assert time.monotonic() - began < 3.5
    assert (run.synced, run.retrying, run.failed) == (1, 2, 1)
    assert (await _sale(fine)).sync_status == "SYNCED"
    for return_id in slow:
        waiting = await _sale(return_id)
        assert waiting.sync_status == "PENDING"
        assert "no answer within 2s" in (waiting.sync_error or "")
    dropped = await _sale(huge)
    assert dropped.sync_status == "FAILED" and "larger than" in (dropped.sync_error or "")


async def test_one_shops_unreadable_credentials_stop_only_that_shop(hostile: World) -> None:
    other_key = Vault([Fernet.generate_key().decode()])
    await credentials.set_credentials(
        other_key,
        hostile.a.seller.shop_id,
        access_token="TTP_other",
        refresh_token="TTP_other_refresh",
        shop_cipher=None,
        now=hostile.clock.now(),
    )
    returned = hostile.put(hostile.b)
    soon = hostile.clock.now() + timedelta(hours=1)
    for side in (hostile.a, hostile.b):
        await credentials.set_credentials(
            None,
            side.seller.shop_id,
            access_token=None,
            refresh_token=None,
            shop_cipher=None,
            access_token_expires_at=soon,
            now=hostile.clock.now(),
        )

    polled = await imports.poll(hostile.link)
    refreshed = await refresh_due(hostile.link)

    assert (polled.shops, polled.failed) == (1, 1)
    assert await AfterSale.filter(return_id=returned).exists()
    assert refreshed == 1
    b = await hostile.creds(hostile.b)
    assert b.access_token == "TTP_new"
    shop_a = await Shop.get(id=hostile.a.shop_pk)
    assert "cannot be decrypted" in (shop_a.sync_error or "")
    assert (await Shop.get(id=hostile.b.shop_pk)).sync_error is None
