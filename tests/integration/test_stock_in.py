"""Stock-in of returned items (docs/stock.md), through the service, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftersales.commands import stock
from aftersales.domain import errors as domain
from aftersales.domain import stock as inventory
from aftersales.domain.model import Actor, AfterSaleStatus, StockCondition
from aftersales.domain.stock import StockLine
from tests.support.builders import (
    abnormal_return,
    damaged,
    good,
    make_seller,
    returned_sale,
    seller_id_of,
    warehouse,
)
from tests.support.clock import T0
from tests.support.door import read

queries = read("sales")
store = read("stock")

LATER = T0 + timedelta(days=5)

pytestmark = pytest.mark.usefixtures("database")


def levels(records: list[store.LevelRecord]) -> dict[str, tuple[int, int]]:
    return {r.sku: (r.sellable, r.damaged) for r in records}


async def stocked(sale_id: int) -> dict[tuple[str, StockCondition], int]:
    rows = (await queries.stocked_in_by_sale([sale_id])).get(sale_id, [])
    return {(r.sku, r.condition): r.quantity for r in rows}


async def test_good_units_become_sellable_and_damaged_units_damaged() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await returned_sale(seller, items={"SKU-A": 3, "SKU-B": 1})

    result = await stock.stock_in(
        sid, sale, stock.StockIn(wh, (good("SKU-A", 2), damaged("SKU-A", 1))), now=LATER
    )

    assert not result.replayed
    assert levels(await store.inventory_of(sid, wh, None)) == {"SKU-A": (2, 1)}
    assert await stocked(sale) == {
        ("SKU-A", StockCondition.GOOD): 2,
        ("SKU-A", StockCondition.DAMAGED): 1,
    }
    history = (await queries.history_by_sale([sale]))[sale]
    assert (history[-1].action, history[-1].actor) == ("STOCK_IN", Actor.SELLER)
    assert history[-1].to_status is AfterSaleStatus.REFUNDED


async def test_partial_stock_in_then_the_rest_then_nothing_more() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await returned_sale(seller, items={"SKU-A": 3})

    await stock.stock_in(sid, sale, stock.StockIn(wh, (good("SKU-A", 1),)), now=LATER)
    await stock.stock_in(sid, sale, stock.StockIn(wh, (good("SKU-A", 2),)), now=LATER)
    with pytest.raises(domain.InvalidQuantity) as refused:
        await stock.stock_in(sid, sale, stock.StockIn(wh, (damaged("SKU-A", 1),)), now=LATER)

    assert "3 returned and 3 already stocked in" in refused.value.message
    assert levels(await store.inventory_of(sid, wh, "SKU-A")) == {"SKU-A": (3, 0)}


async def test_a_retried_call_cannot_stock_in_twice() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await returned_sale(seller, items={"SKU-A": 2})
    command = stock.StockIn(wh, (good("SKU-A", 2),))

    await stock.stock_in(sid, sale, command, now=LATER)
    with pytest.raises(domain.InvalidQuantity) as refused:
        await stock.stock_in(sid, sale, command, now=LATER)

    assert refused.value.field == "lines.0.quantity"
    assert levels(await store.inventory_of(sid, wh, None)) == {"SKU-A": (2, 0)}


async def test_lines_of_one_call_count_together_against_the_returned_quantity() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await returned_sale(seller, items={"SKU-A": 2})

    with pytest.raises(domain.InvalidQuantity):
        await stock.stock_in(
            sid, sale, stock.StockIn(wh, (good("SKU-A", 2), damaged("SKU-A", 1))), now=LATER
        )

    assert await stocked(sale) == {}


@pytest.mark.parametrize(
    ("line", "error", "field"),
    [
        (good("SKU-A", 0), domain.InvalidQuantity, "lines.0.quantity"),
        (good("SKU-A", -2), domain.InvalidQuantity, "lines.0.quantity"),
        (good("SKU-A", 10_001), domain.InvalidQuantity, "lines.0.quantity"),
        (good("SKU-NOPE", 1), domain.InvalidQuantity, "lines.0.sku"),
        (good("  ", 1), domain.Invalid, "lines.0.sku"),
    ],
)
async def test_malformed_lines_are_refused_with_the_line_at_fault(
    line: StockLine, error: type[domain.DomainError], field: str
) -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await returned_sale(seller)

    with pytest.raises(error) as refused:
        await stock.stock_in(sid, sale, stock.StockIn(wh, (line,)), now=LATER)

    assert type(refused.value) is error
    assert refused.value.field == field


async def test_no_lines_is_a_validation_error() -> None:
    seller = await make_seller()
    sale = await returned_sale(seller)

    with pytest.raises(domain.Invalid):
        await stock.stock_in(
            await seller_id_of(seller), sale, stock.StockIn(await warehouse(seller), ()), now=LATER
        )


@pytest.mark.parametrize(
    "status",
    [
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_CANCEL",
    ],
)
async def test_stock_in_is_allowed_once_refunded_or_closed_and_returned(status: str) -> None:
    seller = await make_seller()
    sale = await returned_sale(seller, status=status)

    result = await stock.stock_in(
        await seller_id_of(seller),
        sale,
        stock.StockIn(await warehouse(seller), (good("SKU-A", 1),)),
        now=LATER,
    )

    assert [line.quantity for line in result.moved] == [1]


async def test_an_accepted_exchange_whose_parcel_arrived_can_be_stocked_in() -> None:
    seller = await make_seller(region="ID")
    sale = await returned_sale(
        seller, return_type="REPLACEMENT", status="REPLACEMENT_REQUEST_COMPLETE"
    )

    result = await stock.stock_in(
        await seller_id_of(seller),
        sale,
        stock.StockIn(await warehouse(seller), (good("SKU-A", 1),)),
        now=LATER,
    )

    assert result.moved


async def test_a_parcel_not_yet_delivered_is_not_returned_yet() -> None:
    seller = await make_seller()
    sale = await returned_sale(seller, delivered=False)

    with pytest.raises(domain.NotReturnedYet):
        await stock.stock_in(
            await seller_id_of(seller),
            sale,
            stock.StockIn(await warehouse(seller), (good("SKU-A", 1),)),
            now=LATER,
        )


async def test_an_arrived_parcel_of_an_open_request_is_an_invalid_transition() -> None:
    seller = await make_seller()
    sale = await returned_sale(seller, status="BUYER_SHIPPED_ITEM")

    with pytest.raises(domain.InvalidTransition):
        await stock.stock_in(
            await seller_id_of(seller),
            sale,
            stock.StockIn(await warehouse(seller), (good("SKU-A", 1),)),
            now=LATER,
        )


async def test_a_refund_only_request_without_a_parcel_has_nothing_returned_yet() -> None:
    seller = await make_seller()
    sale = await returned_sale(
        seller, return_type="REFUND", status="RETURN_OR_REFUND_REQUEST_SUCCESS", delivered=False
    )

    with pytest.raises(domain.NotReturnedYet):
        await stock.stock_in(
            await seller_id_of(seller),
            sale,
            stock.StockIn(await warehouse(seller), (good("SKU-A", 1),)),
            now=LATER,
        )


async def test_another_sellers_warehouse_is_not_found() -> None:
    seller, other = await make_seller(), await make_seller()
    sale = await returned_sale(seller)
    foreign = await warehouse(other)

    with pytest.raises(domain.NotFound) as refused:
        await stock.stock_in(
            await seller_id_of(seller), sale, stock.StockIn(foreign, (good("SKU-A", 1),)), now=LATER
        )

    assert refused.value.field == "warehouseId"
    assert await store.inventory_of(await seller_id_of(other), foreign, None) == []


async def test_another_sellers_after_sale_is_not_found() -> None:
    seller, other = await make_seller(), await make_seller()
    sale = await returned_sale(seller)

    with pytest.raises(domain.NotFound) as refused:
        await stock.stock_in(
            await seller_id_of(other),
            sale,
            stock.StockIn(await warehouse(other), (good("SKU-A", 1),)),
            now=LATER,
        )

    assert refused.value.field == "id"


async def test_an_idempotency_key_replays_the_first_result_without_moving_stock() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await returned_sale(seller, items={"SKU-A": 3})
    command = stock.StockIn(wh, (good("SKU-A", 2),), idempotency_key="scan-77")

    first = await stock.stock_in(sid, sale, command, now=LATER)
    again = await stock.stock_in(sid, sale, command, now=LATER)

    assert (first.replayed, again.replayed) == (False, True)
    assert again.moved == first.moved
    assert levels(await store.inventory_of(sid, wh, None)) == {"SKU-A": (2, 0)}
    actions = [h.action for h in (await queries.history_by_sale([sale]))[sale]]
    assert actions.count("STOCK_IN") == 1


async def test_an_idempotency_key_reused_for_other_lines_is_refused() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await returned_sale(seller, items={"SKU-A": 3})
    await stock.stock_in(
        sid, sale, stock.StockIn(wh, (good("SKU-A", 1),), idempotency_key="k1"), now=LATER
    )

    with pytest.raises(domain.Invalid) as refused:
        await stock.stock_in(
            sid, sale, stock.StockIn(wh, (good("SKU-A", 2),), idempotency_key="k1"), now=LATER
        )

    assert refused.value.field == "idempotencyKey"
    assert levels(await store.inventory_of(sid, wh, None)) == {"SKU-A": (1, 0)}


async def test_an_idempotency_key_reused_for_another_after_sale_is_refused() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    first, second = await returned_sale(seller), await returned_sale(seller)
    command = stock.StockIn(wh, (good("SKU-A", 1),), idempotency_key="k1")
    await stock.stock_in(sid, first, command, now=LATER)

    with pytest.raises(domain.Invalid, match="another after-sale"):
        await stock.stock_in(sid, second, command, now=LATER)


async def test_an_abnormal_return_with_known_contents_is_capped_by_them() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await abnormal_return(seller, items={"SKU-A": 1}, delivered=True)

    await stock.stock_in(sid, sale, stock.StockIn(wh, (damaged("SKU-A", 1),)), now=LATER)
    with pytest.raises(domain.InvalidQuantity):
        await stock.stock_in(sid, sale, stock.StockIn(wh, (good("SKU-A", 1),)), now=LATER)

    assert levels(await store.inventory_of(sid, wh, None)) == {"SKU-A": (0, 1)}


async def test_an_abnormal_return_of_unknown_contents_is_stocked_in_uncapped_with_a_key() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await abnormal_return(seller, items=None, delivered=True)
    keyed = stock.StockIn(wh, (good("ANY-SKU", 5),), idempotency_key="parcel-JXA")

    await stock.stock_in(sid, sale, keyed, now=LATER)

    assert levels(await store.inventory_of(sid, wh, None)) == {"ANY-SKU": (5, 0)}


async def test_an_abnormal_return_of_unknown_contents_is_not_stocked_in_without_a_key() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await abnormal_return(seller, items=None, delivered=True)

    with pytest.raises(domain.Invalid) as refused:
        await stock.stock_in(sid, sale, stock.StockIn(wh, (good("ANY-SKU", 5),)), now=LATER)

    assert refused.value.field == "idempotencyKey"
    assert await store.inventory_of(sid, wh, None) == []
    assert await stocked(sale) == {}
    actions = [h.action for h in (await queries.history_by_sale([sale]))[sale]]
    assert "STOCK_IN" not in actions


async def test_a_stock_in_that_would_take_a_level_past_the_ceiling_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inventory, "MAX_LEVEL", 25_000)  # 2,147,483,647 takes 2,148 calls
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    parcels = [await abnormal_return(seller, items=None, delivered=True) for _ in range(3)]
    scans = [
        stock.StockIn(
            wh,
            (good("SKU-A", 6_000), good("SKU-A", 4_000), damaged("SKU-A", 1)),
            idempotency_key=f"scan-{n}",
        )
        for n in range(3)
    ]

    for sale, scan in zip(parcels[:2], scans, strict=False):
        await stock.stock_in(sid, sale, scan, now=LATER)
    with pytest.raises(domain.InvalidQuantity) as refused:
        await stock.stock_in(sid, parcels[2], scans[2], now=LATER)

    assert refused.value.field == "lines.0.quantity"
    assert "holds 20,000 sellable units; 10,000 more" in refused.value.message
    assert levels(await store.inventory_of(sid, wh, None)) == {"SKU-A": (20_000, 2)}
    assert await stocked(parcels[2]) == {}


async def test_an_idempotency_key_protects_a_parcel_of_unknown_contents_from_retries() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    sale = await abnormal_return(seller, items=None, delivered=True)
    keyed = stock.StockIn(wh, (good("ANY-SKU", 5),), idempotency_key="parcel-JXA")

    await stock.stock_in(sid, sale, keyed, now=LATER)
    replay = await stock.stock_in(sid, sale, keyed, now=LATER)

    assert replay.replayed
    assert levels(await store.inventory_of(sid, wh, None)) == {"ANY-SKU": (5, 0)}


async def test_an_abnormal_return_still_on_its_way_is_not_returned_yet() -> None:
    seller = await make_seller()
    sale = await abnormal_return(seller, items={"SKU-A": 1})

    with pytest.raises(domain.NotReturnedYet):
        await stock.stock_in(
            await seller_id_of(seller),
            sale,
            stock.StockIn(await warehouse(seller), (good("SKU-A", 1),)),
            now=LATER,
        )


async def test_stock_ins_of_different_returns_add_up_in_one_warehouse() -> None:
    seller = await make_seller()
    sid = await seller_id_of(seller)
    wh = await warehouse(seller)
    first, second = await returned_sale(seller), await returned_sale(seller)

    await stock.stock_in(sid, first, stock.StockIn(wh, (good("SKU-A", 3),)), now=LATER)
    await stock.stock_in(sid, second, stock.StockIn(wh, (good("SKU-A", 2),)), now=LATER)

    assert levels(await store.inventory_of(sid, wh, None)) == {"SKU-A": (5, 0)}


async def test_warehouse_codes_are_unique_per_seller_only() -> None:
    seller, other = await make_seller(), await make_seller()
    await warehouse(seller, "KL1")

    with pytest.raises(domain.Invalid) as refused:
        await warehouse(seller, "KL1")
    await warehouse(other, "KL1")

    assert refused.value.field == "code"
    assert [w.code for w in await store.warehouses_of(await seller_id_of(other))] == ["KL1"]
