"""`afterSaleStats` against figures worked out by hand, on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from aftersales.commands import seller as commands
from aftersales.domain.model import LineItem, SellerAction
from tests.support.builders import WINDOWS, make_sale, make_seller, seller_id_of
from tests.support.clock import T0
from tests.support.http import AppClient, error_messages, post_graphql

STATS = """
query Stats($groupBy: AfterSaleStatsGroup!, $from: DateTime, $to: DateTime,
            $shopIds: [String!]) {
  afterSaleStats(groupBy: $groupBy, from: $from, to: $to, shopIds: $shopIds) {
    key count refunded { amount currency } medianHoursToDecision
  }
}
"""
H = timedelta(hours=1)
DAY = timedelta(days=1)


def _lines(*skus: str) -> tuple[LineItem, ...]:
    return tuple(LineItem(sku, None, 1, Decimal("1.00")) for sku in skus)


async def _world(app: AppClient) -> str:
    """Four requests of one seller (and one of another seller, never counted):

    | request | type   | created | SKUs | refund | decided          |
    | s1      | refund | T0      | A    | 10.00  | accepted at +2 h |
    | s2      | refund | T0 + 1h | A, B | 20.00  | accepted at +4 h |
    | s3      | return | T0 + 1d | B    | 30.00  | no               |
    | s4      | refund | T0 + 1d | A    | 5.00   | rejected at +6 h |
    """
    seller, stranger = await make_seller(), await make_seller()
    seller_id = await seller_id_of(seller)
    refund = "REFUND"
    s1 = await make_sale(seller, return_type=refund, at=T0, refund="10.00", items=_lines("A"))
    s2 = await make_sale(
        seller, return_type=refund, at=T0 + H, refund="20.00", items=_lines("A", "B")
    )
    await make_sale(seller, at=T0 + DAY, refund="30.00", items=_lines("B"))
    s4 = await make_sale(seller, return_type=refund, at=T0 + DAY, refund="5.00", items=_lines("A"))
    await make_sale(stranger, return_type=refund, at=T0, refund="99.00", items=_lines("A"))
    for sale_id, action, at, reason in (
        (s1, SellerAction.ACCEPT_REFUND, T0 + 2 * H, None),
        (s2, SellerAction.ACCEPT_REFUND, T0 + 5 * H, None),
        (s4, SellerAction.REJECT_REFUND, T0 + DAY + 6 * H, "Used"),
    ):
        await commands.decide(
            seller_id, sale_id, commands.Decision(action, reason=reason), now=at, windows=WINDOWS
        )
    return seller.token


def _stat(key: str, count: int, refunded: str | None, median: float | None) -> dict[str, object]:
    money = [] if refunded is None else [{"amount": refunded, "currency": "MYR"}]
    return {"key": key, "count": count, "refunded": money, "medianHoursToDecision": median}


async def test_stats_by_type_sku_day_and_reason_match_the_figures_by_hand(app: AppClient) -> None:
    token = await _world(app)

    async def stats(group: str, **variables: object) -> list[dict[str, object]]:
        data = await app.gql(STATS, {"groupBy": group, **variables}, token=token)
        return data["afterSaleStats"]  # type: ignore[no-any-return]

    day_1, day_2 = T0.date().isoformat(), (T0 + DAY).date().isoformat()
    assert await stats("TYPE") == [
        _stat("REFUND_ONLY", 3, "30.00", 4.0),
        _stat("RETURN_AND_REFUND", 1, None, None),
    ]
    assert await stats("SKU") == [_stat("A", 3, "30.00", 4.0), _stat("B", 2, "20.00", 4.0)]
    assert await stats("DAY") == [_stat(day_1, 2, "30.00", 3.0), _stat(day_2, 2, None, 6.0)]
    assert await stats("REASON") == [_stat("", 4, "30.00", 4.0)]
    assert await stats("DAY", **{"from": (T0 + DAY).isoformat()}) == [_stat(day_2, 2, None, 6.0)]
    assert await stats("TYPE", to=(T0 + H).isoformat()) == [_stat("REFUND_ONLY", 1, "10.00", 2.0)]


async def test_stats_keep_to_the_shops_asked_for(app: AppClient) -> None:
    token = await _world(app)

    data = await app.gql(STATS, {"groupBy": "SHOP", "shopIds": ["nope"]}, token=token)
    every = await app.gql(STATS, {"groupBy": "SHOP"}, token=token)

    assert data["afterSaleStats"] == []
    assert [(s["count"], s["refunded"]) for s in every["afterSaleStats"]] == [
        (4, [{"amount": "30.00", "currency": "MYR"}])
    ]


async def test_a_time_out_of_range_is_a_clear_error(app: AppClient) -> None:
    seller = await make_seller()

    response = await post_graphql(
        app, STATS, {"groupBy": "DAY", "from": "0001-01-01T00:00:00+14:00"}, token=seller.token
    )

    assert error_messages(response) == ["from must be a time in the years 1970 to 9999 (UTC)"]
