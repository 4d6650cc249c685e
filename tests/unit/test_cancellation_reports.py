"""TikTok's cancellations read and applied (docs/webhooks.md "Type 11", docs/lifecycle.md
"Cancellations"): the type-11 payload and the Search Cancellations object parsed, who acted,
and what each `cancel_status` does to an after-sale."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from aftersales.domain import cancellations
from aftersales.domain.model import Actor, AfterSaleStatus, AfterSaleType, ReturnStatus, Sale
from aftersales.domain.stale import platform_seen
from aftersales.domain.tiktok import interpret, new_sale
from aftersales.inbox.jsonfields import loads_object
from aftersales.inbox.payloads import Malformed, parse_return_object, parse_tiktok
from tests.support.clock import T0

S = AfterSaleStatus
WINDOW = timedelta(hours=48)
AT = int(T0.timestamp())


def _type_11(status: str, *, role: str = "BUYER", timestamp: int | None = AT) -> bytes:
    body: dict[str, Any] = {
        "type": 11,
        "tts_notification_id": "7327112393057371999",
        "shop_id": "7494049642642441621",
        "data": {
            "order_id": "576486316948400001",
            "cancel_id": "4035000000000000101",
            "cancel_status": status,
            "cancellations_role": role,
            "create_time": AT - 60,
        },
    }
    if timestamp is not None:
        body["timestamp"] = timestamp
    return json.dumps(body).encode()


def _cancellation(status: S | None = S.PENDING_REQUEST, *, region: str = "MY") -> Sale:
    return Sale(
        type=AfterSaleType.CANCELLATION,
        status=status,
        return_status=ReturnStatus.OTHER,
        region=region,
        currency="MYR",
        refund_requested=Decimal("30.00"),
    )


def test_a_type_11_is_ordered_by_the_envelopes_timestamp() -> None:
    note = parse_tiktok(_type_11("CANCELLATION_REQUEST_PENDING"))

    report = note.report
    assert report is not None and report.is_cancellation and report.buyer_started
    assert (report.return_id, report.update_time, report.role) == (
        "4035000000000000101",
        T0,
        "BUYER",
    )
    assert report.items is None and report.refund_total is None  # thin: fetched for details


def test_a_type_11_without_a_timestamp_is_malformed() -> None:
    with pytest.raises(Malformed) as refused:
        parse_tiktok(_type_11("CANCELLATION_REQUEST_PENDING", timestamp=None))

    assert "timestamp" in refused.value.reason


@pytest.mark.parametrize(("role", "buyer"), [("BUYER", True), ("SELLER", False), ("SYSTEM", False)])
def test_only_a_cancellation_the_buyer_started_is_the_sellers_to_answer(
    role: str, buyer: bool
) -> None:
    report = parse_tiktok(_type_11("CANCELLATION_REQUEST_PENDING", role=role)).report

    assert report is not None and report.buyer_started is buyer


def test_a_search_cancellations_object_brings_amount_lines_deadline_and_type() -> None:
    line = {"sku_id": "1", "seller_sku": "MUG-1", "product_name": "Mug"}
    obj = {
        "cancel_id": "4035000000000000102",
        "order_id": "576486316948400002",
        "cancel_type": "CANCEL",
        "role": "BUYER",
        "cancel_reason_text": "No longer needed",
        "cancel_status": "CANCELLATION_REQUEST_CANCEL",
        "create_time": AT - 60,
        "update_time": AT,
        "seller_next_action_response": [{"action": "SELLER_RESPOND_CANCEL", "deadline": AT + 9}],
        "refund_amount": {"currency": "MYR", "refund_total": "30.00"},
        "cancel_line_items": [line, line],
    }

    report = parse_return_object(loads_object(json.dumps(obj).encode()))

    assert report.is_cancellation and not report.buyer_started  # cancel_type decides
    assert (report.refund_total, report.currency, report.reason_text) == (
        Decimal("30.00"),
        "MYR",
        "No longer needed",
    )
    assert report.items is not None and [(i.sku, i.quantity) for i in report.items] == [
        ("MUG-1", 2)
    ]
    assert report.seller_deadline == T0 + timedelta(seconds=9)


# cancel_status, the status before, who acted
ACTORS = [
    ("CANCELLATION_REQUEST_PENDING", None, Actor.BUYER),
    ("CANCELLATION_REQUEST_SUCCESS", S.PENDING_REQUEST, Actor.PLATFORM),
    ("CANCELLATION_REQUEST_COMPLETE", S.PENDING_REQUEST, Actor.PLATFORM),
    ("CANCELLATION_REQUEST_CANCELLED", S.PENDING_REQUEST, Actor.BUYER),
    ("CANCELLATION_REQUEST_CANCELLED", None, Actor.BUYER),
    ("CANCELLATION_REQUEST_CANCELLED", S.REJECTED, Actor.SYSTEM),
]


@pytest.mark.parametrize(("status", "before", "actor"), ACTORS)
def test_who_acted_follows_what_tiktok_reports_and_where_the_request_stood(
    status: str, before: S | None, actor: Actor
) -> None:
    assert cancellations.actor(status, "BUYER", before) is actor


def test_a_new_cancellation_is_pending_other_none_and_due_in_24_hours() -> None:
    report = parse_tiktok(_type_11("CANCELLATION_REQUEST_PENDING")).report
    assert report is not None

    fields, change = new_sale(report, region="MY", dispute_window=WINDOW)

    assert fields["type"] is AfterSaleType.CANCELLATION
    assert (fields["status"], fields["return_status"]) == (S.PENDING_REQUEST, ReturnStatus.OTHER)
    assert fields["seller_response_deadline"] == report.create_time + timedelta(hours=24)
    assert fields["must_not_ship"] is False and change.from_status is None


@pytest.mark.parametrize(
    ("status", "to", "must_not_ship"),
    [
        ("CANCELLATION_REQUEST_SUCCESS", S.REFUNDED, True),
        ("CANCELLATION_REQUEST_COMPLETE", S.REFUNDED, True),
        ("CANCELLATION_REQUEST_CANCELLED", S.REQUEST_CLOSED, False),
    ],
)
def test_a_reported_status_moves_a_pending_cancellation(
    status: str, to: S, must_not_ship: bool
) -> None:
    report = parse_tiktok(_type_11(status)).report
    assert report is not None

    change = interpret(_cancellation(), report, dispute_window=WINDOW)

    assert change.fields["status"] is to and change.recorded
    assert change.fields["must_not_ship"] is must_not_ship
    assert "dispute_deadline" not in change.fields


def test_tiktok_closing_a_rejected_cancellation_confirms_the_rejection_quietly() -> None:
    report = parse_tiktok(_type_11("CANCELLATION_REQUEST_CANCELLED")).report
    assert report is not None

    change = interpret(_cancellation(S.REJECTED), report, dispute_window=WINDOW)

    assert not change.recorded and change.to_status is S.REJECTED
    assert "status" not in change.fields
    assert change.fields["platform_status"] == "CANCELLATION_REQUEST_CANCELLED"


def test_a_late_closing_report_still_shows_tiktoks_status_beside_the_rejection() -> None:
    report = parse_tiktok(_type_11("CANCELLATION_REQUEST_CANCELLED")).report
    assert report is not None

    seen = platform_seen(
        _cancellation(S.REJECTED),
        report,
        platform_status=None,
        platform_updated_at=None,
        failed=False,
    )

    assert seen == {"platform_status": "CANCELLATION_REQUEST_CANCELLED", "platform_updated_at": T0}
