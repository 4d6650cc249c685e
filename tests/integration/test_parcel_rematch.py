"""The parcel rematch: `unmatched` parcel events whose after-sale exists by now are applied from
the current state, once, through the live path's rules (docs/webhooks.md, "Nothing is lost").

The race that leaves such an event behind is simulated by creating the after-sale through the
report service directly, which (unlike the webhook inbox) never looks for waiting events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aftersales.domain.outcome import Result
from aftersales.inbox import payloads
from aftersales.inbox import receive as inbox
from aftersales.inbox.rematch import SETTLE, rematch_unmatched
from aftersales.store.models import AfterSale, HistoryEntry, WebhookDelivery
from tests.support.builders import Seller, make_sale, make_seller
from tests.support.clock import T0
from tests.support.webhooks import parcel_body

RETURN_ID = "576486316948490001"
LATER = T0 + timedelta(minutes=1)


async def receive_parcel(shop_id: str, event_id: str, **fields: Any) -> Result:
    body = parcel_body(shop_id=shop_id, event_id=event_id, **fields)
    event = payloads.parse_parcel_event(body)
    return await inbox.receive_parcel_event(body, {}, event, now=T0)


async def returned_in_the_race(seller: Seller, **fields: Any) -> tuple[Result, int]:
    """A DELIVERED event logged `unmatched`, then its return created without matching it."""
    delivered = await receive_parcel(
        seller.shop_id,
        "e-delivered",
        status="DELIVERED",
        occurred_at="2026-11-20T09:00:00Z",
        **fields,
    )
    assert delivered.outcome is inbox.Outcome.UNMATCHED
    sale_id = await make_sale(
        seller, status="BUYER_SHIPPED_ITEM", return_id=RETURN_ID, tracking_number="JX0001"
    )
    return delivered, sale_id


async def outcome(delivery_id: int) -> tuple[str, int | None]:
    row = await WebhookDelivery.get(id=delivery_id)
    return row.outcome, row.after_sale_id


async def test_an_event_left_unmatched_by_the_race_is_applied_and_the_parcel_ends_returned(
    database: str,
) -> None:
    seller = await make_seller()
    delivered, sale_id = await returned_in_the_race(seller)

    applied = await rematch_unmatched(LATER)

    assert applied == 1
    sale = await AfterSale.get(id=sale_id)
    assert (sale.return_status.value, sale.returned_at) == ("RETURNED", T0 - timedelta(hours=1))
    assert await outcome(delivered.delivery_id) == ("applied", sale_id)
    actions = [h.action for h in await HistoryEntry.filter(after_sale_id=sale_id)]
    assert actions.count("PARCEL_DELIVERED") == 1


async def test_an_event_matched_only_by_its_tracking_number_is_applied(database: str) -> None:
    seller = await make_seller()
    delivered, sale_id = await returned_in_the_race(seller, return_id=None)

    assert await rematch_unmatched(LATER) == 1

    assert await outcome(delivered.delivery_id) == ("applied", sale_id)
    assert (await AfterSale.get(id=sale_id)).return_status.value == "RETURNED"


async def test_the_waiting_events_of_one_parcel_are_applied_together_oldest_first(
    database: str,
) -> None:
    seller = await make_seller()
    in_transit = await receive_parcel(
        seller.shop_id, "e-transit", status="IN_TRANSIT", occurred_at="2026-11-20T06:00:00Z"
    )
    delivered, sale_id = await returned_in_the_race(seller)

    assert await rematch_unmatched(LATER) == 2

    history = await HistoryEntry.filter(after_sale_id=sale_id).order_by("id")
    parcel = [h.action for h in history if h.action.startswith("PARCEL_")]
    assert parcel == ["PARCEL_IN_TRANSIT", "PARCEL_DELIVERED"]
    assert await outcome(in_transit.delivery_id) == ("applied", sale_id)
    assert await outcome(delivered.delivery_id) == ("applied", sale_id)


async def test_a_second_run_applies_nothing(database: str) -> None:
    seller = await make_seller()
    delivered, sale_id = await returned_in_the_race(seller)
    await rematch_unmatched(LATER)
    before = await WebhookDelivery.get(id=delivered.delivery_id)
    history = await HistoryEntry.filter(after_sale_id=sale_id).count()

    again = await rematch_unmatched(LATER + timedelta(minutes=1))

    assert again == 0
    after = await WebhookDelivery.get(id=delivered.delivery_id)
    assert (after.outcome, after.processed_at) == (before.outcome, before.processed_at)
    assert await HistoryEntry.filter(after_sale_id=sale_id).count() == history


async def test_unrelated_unmatched_events_stay_unmatched(database: str) -> None:
    seller = await make_seller()
    other = await make_seller()
    another_parcel = await receive_parcel(
        seller.shop_id, "another-parcel", return_id="999", tracking_number="JX0404"
    )
    another_shop = await receive_parcel(other.shop_id, "another-shop")  # same keys, other shop
    delivered, _ = await returned_in_the_race(seller)

    assert await rematch_unmatched(LATER) == 1

    for waiting in (another_parcel, another_shop):
        assert await outcome(waiting.delivery_id) == ("unmatched", None)
    assert (await outcome(delivered.delivery_id))[0] == "applied"


async def test_an_event_younger_than_the_settle_time_is_left_for_the_next_run(
    database: str,
) -> None:
    seller = await make_seller()
    delivered, sale_id = await returned_in_the_race(seller)

    assert await rematch_unmatched(T0 + SETTLE - timedelta(seconds=1)) == 0
    assert await outcome(delivered.delivery_id) == ("unmatched", None)

    assert await rematch_unmatched(T0 + SETTLE) == 1
    assert await outcome(delivered.delivery_id) == ("applied", sale_id)


async def test_a_run_looks_at_most_at_its_limit_oldest_first(database: str) -> None:
    seller = await make_seller()
    waiting = []
    for n in range(3):
        return_id = f"57648631694849100{n}"
        waiting.append(
            await receive_parcel(
                seller.shop_id, f"e{n}", return_id=return_id, tracking_number=f"JX10{n}"
            )
        )
        await make_sale(seller, status="BUYER_SHIPPED_ITEM", return_id=return_id)

    assert await rematch_unmatched(LATER, limit=2) == 2
    outcomes = [(await outcome(w.delivery_id))[0] for w in waiting]
    assert outcomes == ["applied", "applied", "unmatched"]

    assert await rematch_unmatched(LATER, limit=2) == 1
    assert (await outcome(waiting[2].delivery_id))[0] == "applied"
