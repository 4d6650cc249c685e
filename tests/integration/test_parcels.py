"""The parcel rules (pure) and the logistics command against a real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aftersales.domain import parcels
from aftersales.domain.model import AfterSaleStatus, Parcel, ReturnStatus
from aftersales.domain.outcome import Outcome
from aftersales.domain.parcels import ParcelEvent, ParcelItem
from aftersales.store.models import AfterSale, HistoryEntry
from tests.support.builders import apply_parcel, make_sale, make_seller
from tests.support.clock import T0


def event(status: str, hours: float = 0, **fields: object) -> ParcelEvent:
    values: dict[str, object] = {
        "event_id": f"e-{status}-{hours}",
        "occurred_at": T0 + timedelta(hours=hours),
        "shop_id": "1",
        "status": status,
        "tracking_number": "JX1",
    }
    return ParcelEvent(**(values | fields))  # type: ignore[arg-type]


def parcel(return_status: ReturnStatus, at_hours: float | None = None) -> Parcel:
    at = None if at_hours is None else T0 + timedelta(hours=at_hours)
    return Parcel(AfterSaleStatus.SHIPPED_BY_BUYER, return_status, "JX1", "J&T", at, None)


@pytest.mark.parametrize(
    ("status", "before", "after"),
    [
        ("IN_TRANSIT", ReturnStatus.TO_RETURN, ReturnStatus.RETURNING),
        ("DELIVERED", ReturnStatus.RETURNING, ReturnStatus.RETURNED),
        ("DELIVERED", ReturnStatus.OTHER, ReturnStatus.RETURNED),
        ("RETURN_TO_SENDER", ReturnStatus.TO_RETURN, ReturnStatus.RETURNING),
    ],
)
def test_a_fresh_event_moves_the_parcel_forward(
    status: str, before: ReturnStatus, after: ReturnStatus
) -> None:
    change = parcels.interpret(parcel(before), event(status))

    assert change is not None and change.fields["return_status"] is after
    assert change.from_status is change.to_status is AfterSaleStatus.SHIPPED_BY_BUYER


def test_an_older_in_transit_after_delivery_changes_nothing() -> None:
    assert parcels.interpret(parcel(ReturnStatus.RETURNED, 5), event("IN_TRANSIT", 1)) is None


def test_an_older_delivery_scan_still_counts_as_the_arrival() -> None:
    change = parcels.interpret(parcel(ReturnStatus.RETURNING, 5), event("DELIVERED", 1))

    assert change is not None
    assert change.fields == {
        "return_status": ReturnStatus.RETURNED,
        "returned_at": T0 + timedelta(hours=1),
    }


def test_a_newer_scan_that_repeats_what_the_parcel_shows_is_not_recorded() -> None:
    change = parcels.interpret(parcel(ReturnStatus.RETURNING, 1), event("IN_TRANSIT", 5))

    assert change is not None and not change.recorded
    assert change.fields == {"parcel_event_at": T0 + timedelta(hours=5)}


def test_the_first_scan_of_a_parcel_is_recorded_even_when_it_moves_nothing() -> None:
    change = parcels.interpret(parcel(ReturnStatus.RETURNING), event("IN_TRANSIT", 5))

    assert change is not None and change.recorded


def test_a_newer_scan_with_another_carrier_is_recorded() -> None:
    change = parcels.interpret(
        parcel(ReturnStatus.RETURNING, 1), event("IN_TRANSIT", 5, carrier="Ninja Van")
    )

    assert change is not None and change.recorded
    assert change.fields["carrier"] == "Ninja Van"


def test_an_unmatched_return_to_sender_needs_a_known_abnormal_reason() -> None:
    plain = event("RETURN_TO_SENDER", order_id="9")

    assert parcels.why_not_abnormal(plain) is not None
    assert (
        parcels.why_not_abnormal(
            event("RETURN_TO_SENDER", order_id="9", abnormal_reason="PLATFORM_RECALL")
        )
        is None
    )
    assert (
        parcels.why_not_abnormal(
            event("IN_TRANSIT", order_id="9", abnormal_reason="PLATFORM_RECALL")
        )
        is not None
    )


async def test_an_abnormal_return_is_created_once_per_order_and_tracking_number(
    database: str,
) -> None:
    seller = await make_seller()
    rts = event(
        "RETURN_TO_SENDER",
        shop_id=seller.shop_id,
        order_id="77",
        abnormal_reason="LOGISTICS_ISSUE",
        items=(ParcelItem("A", 2),),
    )

    first = await apply_parcel(rts, now=T0)
    second = await apply_parcel(rts, now=T0)

    assert (first.outcome, second.outcome) == (Outcome.CREATED, Outcome.STALE)
    row = await AfterSale.get(id=first.after_sale_id)
    assert (row.parcel_key, row.status, row.return_status) == (
        "77/JX1",
        None,
        ReturnStatus.RETURNING,
    )
    assert await HistoryEntry.filter(after_sale_id=row.id).count() == 1


async def test_a_delivery_event_is_saved_with_a_version_check_and_history(database: str) -> None:
    seller = await make_seller()
    sale_id = await make_sale(
        seller, status="BUYER_SHIPPED_ITEM", return_id="5001", tracking_number="JX1"
    )
    version = (await AfterSale.get(id=sale_id)).version

    result = await apply_parcel(
        event("DELIVERED", 2, shop_id=seller.shop_id, return_id="5001"), now=T0
    )

    row = await AfterSale.get(id=sale_id)
    assert result.outcome is Outcome.APPLIED
    assert (row.return_status, row.returned_at, row.version) == (
        ReturnStatus.RETURNED,
        T0 + timedelta(hours=2),
        version + 1,
    )
    last = await HistoryEntry.filter(after_sale_id=sale_id).order_by("-id").first()
    assert last is not None and (last.action, last.actor.value) == ("PARCEL_DELIVERED", "LOGISTICS")


async def test_an_event_for_an_unknown_shop_is_reported_as_such(database: str) -> None:
    result = await apply_parcel(event("IN_TRANSIT", shop_id="404"), now=T0)

    assert result.outcome is Outcome.UNKNOWN_SHOP


@pytest.mark.parametrize("at_once", [False, True], ids=["one-by-one", "all-at-once"])
async def test_repeated_return_to_sender_scans_add_no_history(database: str, at_once: bool) -> None:
    seller = await make_seller()
    scans = [
        event(
            "RETURN_TO_SENDER",
            hours,
            event_id=f"scan-{hours}",
            shop_id=seller.shop_id,
            order_id="77",
            abnormal_reason="REFUSED_BY_BUYER",
        )
        for hours in range(20)
    ]

    if at_once:
        results = await asyncio.gather(*(apply_parcel(scan, now=T0) for scan in scans))
    else:
        results = [await apply_parcel(scan, now=T0) for scan in scans]

    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == ["created"] + ["stale"] * 19
    (sale_id,) = {r.after_sale_id for r in results}
    assert await HistoryEntry.filter(after_sale_id=sale_id).count() == 1
