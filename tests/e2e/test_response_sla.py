"""The seller response SLA (docs/timers.md): sellerResponseDeadline, and listing what is overdue or
due within the next hours with `responseDueBefore`."""

from __future__ import annotations

from datetime import timedelta

from tests.support.builders import make_sale, make_seller
from tests.support.clock import T0
from tests.support.http import AppClient

DUE = """
query Due($before: DateTime) {
  afterSales(responseDueBefore: $before, first: 50) {
    totalCount
    edges { node { returnId type status sellerResponseDeadline } }
  }
}
"""


def _return_ids(data: dict[str, object]) -> list[str]:
    edges = data["afterSales"]["edges"]  # type: ignore[index]
    return sorted(edge["node"]["returnId"] for edge in edges)


async def _arrange(app: AppClient) -> str:
    seller = await make_seller()
    await make_sale(seller, return_id="1000000000000000001", at=T0)  # due T0 + 48 h
    await make_sale(seller, return_id="1000000000000000002", at=T0, return_type="REPLACEMENT")
    await make_sale(  # TikTok's own deadline: T0 + 6 h
        seller, return_id="1000000000000000003", at=T0, seller_deadline=T0 + timedelta(hours=6)
    )
    await make_sale(  # rejected: the seller owes nothing any more
        seller, return_id="1000000000000000004", at=T0, status="RETURN_OR_REFUND_REQUEST_REJECT"
    )
    return seller.token


async def test_each_request_shows_its_response_deadline(app: AppClient) -> None:
    token = await _arrange(app)

    data = await app.gql(DUE, {"before": None}, token=token)

    deadlines = {
        e["node"]["returnId"]: e["node"]["sellerResponseDeadline"]
        for e in data["afterSales"]["edges"]
    }
    assert deadlines["1000000000000000001"] == (T0 + timedelta(hours=48)).isoformat()
    assert deadlines["1000000000000000002"] == (T0 + timedelta(hours=24)).isoformat()
    assert deadlines["1000000000000000003"] == (T0 + timedelta(hours=6)).isoformat()


async def test_a_seller_lists_what_is_overdue(app: AppClient) -> None:
    token = await _arrange(app)
    now = T0 + timedelta(hours=7)

    data = await app.gql(DUE, {"before": now.isoformat()}, token=token)

    assert _return_ids(data) == ["1000000000000000003"]


async def test_a_seller_lists_what_is_due_within_the_next_hours(app: AppClient) -> None:
    token = await _arrange(app)
    within_20_hours = T0 + timedelta(hours=7) + timedelta(hours=20)

    data = await app.gql(DUE, {"before": within_20_hours.isoformat()}, token=token)

    assert _return_ids(data) == ["1000000000000000002", "1000000000000000003"]


async def test_the_limit_may_be_given_in_any_time_zone(app: AppClient) -> None:
    token = await _arrange(app)

    # T0 + 23 h 30 min, written in Jakarta time (UTC+7): half an hour before the exchange's
    # deadline, though "16:30+07:00" sorts after "10:00+00:00" as text.
    data = await app.gql(DUE, {"before": "2026-11-21T16:30:00+07:00"}, token=token)

    assert _return_ids(data) == ["1000000000000000003"]
