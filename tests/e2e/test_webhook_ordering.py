"""Delivery is at-least-once and unordered: any permutation and duplication of a lifecycle's
deliveries ends in the state the in-order delivery reaches (update times distinct)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.builders import make_seller
from tests.support.clock import T0
from tests.support.http import AppClient
from tests.support.webhooks import envelope, parcel_body, post_parcel, post_tiktok, return_data

# What a relay that fetched the full return (Search Returns) adds differs from report to report
# (the first one often carries the most): a stale report still fills in what the after-sale
# lacks, so no arrival order loses any of it.
MONEY = {"refund_amount": {"currency": "MYR", "refund_total": "80.00"}}
ITEMS = {"return_line_items": [{"seller_sku": "MUG-1", "product_name": "Mug"}] * 2}
# Each lifecycle: (return_type, [(return_status, extra fields)]) in the order it happened.
LIFECYCLES: list[tuple[str, list[tuple[str, dict[str, Any]]]]] = [
    (
        "RETURN_AND_REFUND",
        [
            ("RETURN_OR_REFUND_REQUEST_PENDING", MONEY | ITEMS),
            ("AWAITING_BUYER_SHIP", MONEY),
            ("BUYER_SHIPPED_ITEM", MONEY | {"return_tracking_number": "JX1"}),
        ],
    ),
    (
        "RETURN_AND_REFUND",
        [
            ("RETURN_OR_REFUND_REQUEST_PENDING", MONEY),
            ("REFUND_OR_RETURN_REQUEST_REJECT", {"return_role": "SELLER"}),
        ],
    ),
    (
        "REFUND",
        [("RETURN_OR_REFUND_REQUEST_PENDING", MONEY), ("RETURN_OR_REFUND_REQUEST_SUCCESS", MONEY)],
    ),
    (
        "REFUND",
        [("RETURN_OR_REFUND_REQUEST_PENDING", MONEY), ("RETURN_OR_REFUND_REQUEST_CANCEL", {})],
    ),
    (
        "REPLACEMENT",
        [
            ("REPLACEMENT_REQUEST_PENDING", ITEMS),
            ("SOMETHING_TIKTOK_ADDS_LATER", {}),
            ("REPLACEMENT_REQUEST_COMPLETE", {}),
        ],
    ),
]

STATE = """
query One($search: String) { afterSales(first: 5, search: $search) { edges { node {
  type status returnStatus platformStatus refundRequested { amount } refundAmount { amount }
  partialRefundOffer { amount } items { sku quantity } trackingNumber disputeStatus
  disputeDeadline
} } } }
"""
_ids = itertools.count(1)


async def state(app: AppClient, token: str, return_id: str) -> dict[str, Any]:
    data = await app.gql(STATE, {"search": return_id}, token=token)
    [edge] = data["afterSales"]["edges"]
    return edge["node"]  # type: ignore[no-any-return]


def deliveries(shop_id: str, lifecycle: int, return_id: str) -> list[bytes]:
    return_type, steps = LIFECYCLES[lifecycle]
    return [
        envelope(
            shop_id,
            return_data(
                status,
                at=T0 + timedelta(hours=n),
                return_id=return_id,
                return_type=return_type,
                order_id=return_id,
                **extra,
            ),
            notification_id=f"{return_id}-{n}",
        )
        for n, (status, extra) in enumerate(steps)
    ]


@st.composite
def shuffled(draw: st.DrawFn) -> tuple[int, list[int]]:
    """A lifecycle and an arrival order: a permutation with some deliveries repeated."""
    lifecycle = draw(st.integers(0, len(LIFECYCLES) - 1))
    size = len(LIFECYCLES[lifecycle][1])
    order = draw(st.permutations(range(size)))
    repeats = draw(st.lists(st.integers(0, size - 1), max_size=3))
    arrival = list(order)
    for index in repeats:
        arrival.insert(draw(st.integers(0, len(arrival))), index)
    return lifecycle, arrival


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=shuffled())
async def test_any_arrival_order_ends_like_the_in_order_delivery(
    app: AppClient, case: tuple[int, list[int]]
) -> None:
    lifecycle, arrival = case
    seller = await make_seller()
    in_order, shuffled_id = f"57648631690{next(_ids):07d}1", f"57648631690{next(_ids):07d}2"
    for body in deliveries(seller.shop_id, lifecycle, in_order):
        assert (await post_tiktok(app, body)).status_code == 200
    bodies = deliveries(seller.shop_id, lifecycle, shuffled_id)

    for index in arrival:
        assert (await post_tiktok(app, bodies[index])).status_code == 200

    expected = await state(app, seller.token, in_order)
    assert await state(app, seller.token, shuffled_id) == expected


PARCEL_EVENTS = [
    ("IN_TRANSIT", "2026-11-21T10:00:00Z"),
    ("IN_TRANSIT", "2026-11-22T10:00:00Z"),
    ("DELIVERED", "2026-11-23T10:00:00Z"),
    ("DELIVERED", "2026-11-24T10:00:00Z"),
]
PARCEL = """
query One($search: String) { afterSales(first: 5, search: $search) { edges { node {
  returnStatus returnedAt carrier trackingNumber
} } } }
"""


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    order=st.permutations(range(len(PARCEL_EVENTS))),
    repeats=st.lists(st.integers(0, 3), max_size=3),
)
async def test_parcel_events_in_any_order_end_like_in_order(
    app: AppClient, order: list[int], repeats: list[int]
) -> None:
    seller = await make_seller()
    ids = {"in": f"57648631691{next(_ids):07d}1", "out": f"57648631691{next(_ids):07d}2"}
    for rid in ids.values():
        body = envelope(
            seller.shop_id,
            return_data("BUYER_SHIPPED_ITEM", return_id=rid, return_tracking_number=f"T{rid}"),
            notification_id=rid,
        )
        assert (await post_tiktok(app, body)).status_code == 200

    def event(rid: str, n: int) -> bytes:
        status, at = PARCEL_EVENTS[n]
        return parcel_body(
            shop_id=seller.shop_id,
            return_id=rid,
            tracking_number=f"T{rid}",
            event_id=f"{rid}-{n}",
            status=status,
            occurred_at=at,
            carrier=f"Carrier {n}",
        )

    for n in range(len(PARCEL_EVENTS)):
        await post_parcel(app, event(ids["in"], n))
    for n in [*order, *repeats]:
        assert (await post_parcel(app, event(ids["out"], n))).status_code == 200

    expected = (await app.gql(PARCEL, {"search": ids["in"]}, token=seller.token))["afterSales"]
    actual = (await app.gql(PARCEL, {"search": ids["out"]}, token=seller.token))["afterSales"]
    strip = [
        {k: v for k, v in e["node"].items() if k != "trackingNumber"} for e in expected["edges"]
    ]
    assert [
        {k: v for k, v in e["node"].items() if k != "trackingNumber"} for e in actual["edges"]
    ] == strip
    assert strip[0]["returnStatus"] == "RETURNED"
