"""TikTok's quick-refund flag and edited-request links, read from a return object and applied
by the report rules (aftersales/domain/edits.py, aftersales/domain/tiktok.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aftersales.domain import edits, stale, tiktok
from aftersales.domain.model import (
    FINAL_STATUSES,
    AfterSaleStatus,
    AfterSaleType,
    ChangeAction,
    ReturnStatus,
    Sale,
)
from aftersales.inbox.payloads import Malformed, parse_tiktok

S = AfterSaleStatus
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
WINDOW = timedelta(hours=48)


def parsed(**data: Any) -> tiktok.ReturnReport:
    body = {
        "type": 12,
        "shop_id": "7494049642642441621",
        "timestamp": 1764583200,
        "data": {
            "order_id": "576486316948400001",
            "return_id": "576486316948490002",
            "return_type": "RETURN_AND_REFUND",
            "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
            "update_time": 1764583200,
            **data,
        },
    }
    report = parse_tiktok(json.dumps(body).encode()).report
    assert report is not None
    return report


def test_a_relay_enriched_report_carries_the_links_and_the_quick_refund() -> None:
    report = parsed(pre_return_id="576486316948490001", is_quick_refund=True)

    assert (report.pre_return_id, report.next_return_id) == ("576486316948490001", None)
    assert report.quick_refund is True


@pytest.mark.parametrize("empty", ["", "0", None])
def test_an_empty_link_is_no_link(empty: str | None) -> None:
    report = parsed(pre_return_id=empty, next_return_id=empty)

    assert (report.pre_return_id, report.next_return_id, report.quick_refund) == (None, None, None)


def test_a_quick_refund_flag_that_is_not_a_boolean_is_malformed() -> None:
    with pytest.raises(Malformed, match="is_quick_refund"):
        parsed(is_quick_refund="yes")


def sale(status: S | None = S.PENDING_REQUEST, **fields: Any) -> Sale:
    return Sale(
        type=AfterSaleType.RETURN_AND_REFUND,
        status=status,
        return_status=ReturnStatus.OTHER,
        region="ID",
        **fields,
    )


def test_a_fresh_report_writes_the_links_and_a_stale_one_only_fills_them() -> None:
    report = parsed(next_return_id="9", is_quick_refund=True)

    fresh = tiktok.interpret(sale(), report, dispute_window=WINDOW)
    late = stale.fill_missing(sale(next_return_id="8"), report, has_items=True)

    assert (fresh.fields["next_return_id"], fresh.fields["quick_refund"]) == ("9", True)
    assert late is not None
    assert "next_return_id" not in late.fields  # never overwritten by a stale report
    assert late.fields["quick_refund"] is True


@pytest.mark.parametrize("status", [s for s in S if s not in FINAL_STATUSES])
def test_a_request_that_is_not_final_is_superseded_to_closed(status: S) -> None:
    change = edits.supersede(sale(status), last_event_at=NOW, at=NOW - timedelta(minutes=1))

    assert change is not None
    assert (change.action, change.from_status, change.to_status) == (
        ChangeAction.SUPERSEDED,
        status,
        S.REQUEST_CLOSED,
    )
    assert change.fields["last_event_at"] == NOW  # never moved back


@pytest.mark.parametrize("status", [*FINAL_STATUSES, None])
def test_a_final_request_or_an_abnormal_return_is_never_superseded(status: S | None) -> None:
    assert edits.supersede(sale(status), last_event_at=None, at=NOW) is None
