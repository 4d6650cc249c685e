"""The simulator's traffic: timelines that end when the simulation runs, never after."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from devtools import traffic

END = datetime(2026, 12, 7, 22, 30, 15, 500000, tzinfo=UTC)


def event_times(delivery: traffic.Delivery) -> list[int]:
    """Every time a delivery says something happened, in Unix seconds (deadlines are not
    events: a seller's deadline is meant to lie ahead)."""
    body = json.loads(delivery.body)
    if delivery.source == "logistics":
        return [int(datetime.fromisoformat(body["occurred_at"]).timestamp())]
    data = body["data"]
    return [body["timestamp"], *(data[k] for k in ("create_time", "update_time") if k in data)]


def planned(seed: int, count: int) -> list[traffic.Delivery]:
    shops = traffic.shops(3, seed)
    return traffic.plan_until(shops, seed, count, END, duplicate_rate=0.1, shuffle_rate=0.15)


def test_no_delivery_is_dated_after_the_moment_the_simulation_runs() -> None:
    times = [t for delivery in planned(seed=11, count=400) for t in event_times(delivery)]

    assert max(times) <= END.timestamp()


def test_the_last_event_happens_at_that_moment_after_a_history() -> None:
    times = [t for delivery in planned(seed=5, count=200) for t in event_times(delivery)]

    assert max(times) == int(END.timestamp())
    assert min(times) < (END - timedelta(days=1)).timestamp()  # a history, not a burst


def test_each_delivery_is_dated_by_the_latest_event_it_reports() -> None:
    deliveries = planned(seed=8, count=150)

    assert all(delivery.at == max(event_times(delivery)) for delivery in deliveries)


def test_the_same_seed_plans_the_same_deliveries() -> None:
    assert planned(seed=3, count=120) == planned(seed=3, count=120)


def test_the_traffic_has_buyer_cancellations_withdrawn_and_approved_by_tiktok() -> None:
    type_11 = [
        json.loads(d.body)["data"]
        for d in planned(seed=5, count=600)
        if d.source == "tiktok" and json.loads(d.body)["type"] == 11
    ]

    by_role = {(c["cancellations_role"], c["cancel_status"]) for c in type_11}

    assert {
        ("BUYER", "CANCELLATION_REQUEST_PENDING"),
        ("BUYER", "CANCELLATION_REQUEST_CANCELLED"),
        ("BUYER", "CANCELLATION_REQUEST_SUCCESS"),
        ("SELLER", "CANCELLATION_REQUEST_PENDING"),
    } <= by_role
    assert all("update_time" not in c for c in type_11)
