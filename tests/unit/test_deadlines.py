"""The pure timing rules of domain.py: SLAs, dispute windows, and the parcel's one-way moves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftersales.domain.model import (
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    DisputeWindows,
    ReturnStatus,
)
from aftersales.domain.rules import advance_return_status, dispute_expired, seller_response_deadline
from tests.support.clock import T0

S = AfterSaleStatus
PARCEL_ORDER = [
    ReturnStatus.OTHER,
    ReturnStatus.TO_RETURN,
    ReturnStatus.RETURNING,
    ReturnStatus.RETURNED,
]


@pytest.mark.parametrize(
    ("type_", "deadline"),
    [
        (AfterSaleType.RETURN_AND_REFUND, T0 + timedelta(hours=48)),
        (AfterSaleType.REFUND_ONLY, T0 + timedelta(hours=48)),
        (AfterSaleType.EXCHANGE, T0 + timedelta(hours=24)),
        (AfterSaleType.ABNORMAL_RETURN, None),
    ],
    ids=lambda v: getattr(v, "value", str(v)),
)
def test_seller_has_48_hours_to_respond_and_24_for_an_exchange(
    type_: AfterSaleType, deadline: object
) -> None:
    assert seller_response_deadline(type_, T0) == deadline


@pytest.mark.parametrize(
    ("current", "reported"), [(a, b) for a in PARCEL_ORDER for b in PARCEL_ORDER]
)
def test_parcel_only_moves_forward(current: ReturnStatus, reported: ReturnStatus) -> None:
    moved = advance_return_status(current, reported)

    assert moved is max(current, reported, key=PARCEL_ORDER.index)


@pytest.mark.parametrize("status", [S.REJECTED, S.RECEIPT_REJECTED], ids=lambda s: s.value)
def test_rejection_closes_once_its_deadline_has_passed(status: AfterSaleStatus) -> None:
    deadline = T0 + timedelta(hours=48)

    assert dispute_expired(status, DisputeStatus.NONE, deadline, deadline) is True
    assert (
        dispute_expired(status, DisputeStatus.NONE, deadline, deadline - timedelta(seconds=1))
        is False
    )


def test_open_dispute_stops_the_dispute_window() -> None:
    deadline = T0 + timedelta(hours=48)

    assert (
        dispute_expired(S.REJECTED, DisputeStatus.IN_PROGRESS, deadline, T0 + timedelta(days=30))
        is False
    )


@pytest.mark.parametrize(
    "status", [None, *(s for s in S if s not in (S.REJECTED, S.RECEIPT_REJECTED))]
)
def test_only_rejections_expire(status: AfterSaleStatus | None) -> None:
    assert dispute_expired(status, DisputeStatus.NONE, T0, T0 + timedelta(days=1)) is False


def test_rejection_without_a_deadline_never_expires() -> None:
    assert dispute_expired(S.REJECTED, DisputeStatus.NONE, None, T0) is False


def test_a_rejection_whose_sync_failed_never_expires() -> None:
    late = T0 + timedelta(days=30)

    assert dispute_expired(S.REJECTED, DisputeStatus.NONE, T0, late, sync_failed=True) is False


def test_dispute_window_can_be_overridden_per_region_whatever_its_case() -> None:
    windows = DisputeWindows(default=timedelta(hours=48), by_region={"ID": timedelta(hours=24)})

    assert windows.for_region("id") == timedelta(hours=24)
    assert windows.for_region("MY") == timedelta(hours=48)
