"""Per-status counts on both databases (aftersales/store/counts.py): they match a plain count
whatever happens to the after-sales; on PostgreSQL, where triggers keep them in a table, folding
keeps them and concurrent writers never wait on one another for them."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from aftersales.commands import counts
from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.model import AfterSaleStatus, AfterSaleType, SellerAction
from aftersales.store.models import AfterSale, AfterSaleCount, Shop
from tests.support.builders import WINDOWS, make_sale, make_seller, seller_id_of
from tests.support.clock import T0

S = AfterSaleStatus


async def plain_counts(seller_id: int, type_: AfterSaleType) -> dict[S | None, int]:
    found = Counter(
        s.status
        for s in await AfterSale.filter(shop__seller_id=seller_id, type=type_).only("status")
    )
    return dict(found)


async def test_counts_follow_every_change_and_survive_folding(database: str) -> None:
    seller = await make_seller(region="ID")
    seller_id = await seller_id_of(seller)
    other = await make_seller(region="ID")  # another seller's after-sales never count
    await make_sale(other)
    sales = [await make_sale(seller) for _ in range(6)]
    await make_sale(seller, return_type="REFUND")
    await make_sale(seller, status="BUYER_SHIPPED_ITEM")
    for sale_id, action in zip(
        sales, [SellerAction.ACCEPT_RETURN, SellerAction.ACCEPT_RETURN], strict=False
    ):
        await seller_commands.decide(
            seller_id, sale_id, Decision(action), now=T0 + timedelta(hours=1), windows=WINDOWS
        )
    await seller_commands.decide(
        seller_id,
        sales[2],
        Decision(SellerAction.REJECT_RETURN, reason="Used"),
        now=T0 + timedelta(hours=1),
        windows=WINDOWS,
    )
    rr = AfterSaleType.RETURN_AND_REFUND

    expected = await plain_counts(seller_id, rr)
    assert expected == {S.PENDING_REQUEST: 3, S.AWAITING_BUYER_SHIPMENT: 2, S.REJECTED: 1,
                        S.SHIPPED_BY_BUYER: 1}  # fmt: skip
    assert await counts.count_by_status(seller_id, rr, None) == expected
    assert await counts.count_by_status(seller_id, AfterSaleType.REFUND_ONLY, None) == {
        S.PENDING_REQUEST: 1
    }
    assert await counts.count_by_status(seller_id, rr, seller.shop_id + "0") == {}

    before = await AfterSaleCount.all().count()
    folded = await counts.fold()
    assert folded == before and (before > 0) == (database.startswith("postgres"))
    keys = await connections.get("default").execute_query_dict(
        "SELECT count(*) AS n FROM (SELECT DISTINCT shop_id, type, status FROM after_sale_count) k"
    )
    assert await AfterSaleCount.all().count() <= int(keys[0]["n"])
    assert await counts.count_by_status(seller_id, rr, None) == expected
    assert await counts.count_by_status(seller_id, rr, seller.shop_id) == expected

    # Deleting a shop's after-sales (as an operator would) takes them out of the counts too.
    shop = await Shop.get(shop_id=seller.shop_id)
    await AfterSale.filter(shop_id=shop.id, status=S.PENDING_REQUEST).delete()
    expected.pop(S.PENDING_REQUEST)
    assert await counts.count_by_status(seller_id, rr, None) == expected


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)  # SQLite has one writer
async def test_writers_moving_statuses_opposite_ways_do_not_wait_on_the_counts(
    database: str,
) -> None:
    seller = await make_seller(region="ID")
    seller_id = await seller_id_of(seller)
    a, b = await make_sale(seller), await make_sale(seller, status="AWAITING_BUYER_SHIP")
    started = asyncio.Event()

    async def move(sale_id: int, to: S, hold: bool) -> None:
        async with in_transaction("default") as conn:
            await AfterSale.filter(id=sale_id).using_db(conn).update(status=to)
            if hold:  # keep this transaction open while the other one writes
                started.set()
                await asyncio.sleep(0.3)

    first = asyncio.create_task(move(a, S.AWAITING_BUYER_SHIPMENT, hold=True))
    await started.wait()
    # The opposite move commits while the first transaction is still open: the counts are
    # inserted rows, not a shared counter row to lock.
    await asyncio.wait_for(move(b, S.PENDING_REQUEST, hold=False), timeout=5)
    assert not first.done()
    await first
    assert await counts.count_by_status(seller_id, AfterSaleType.RETURN_AND_REFUND, None) == {
        S.PENDING_REQUEST: 1,
        S.AWAITING_BUYER_SHIPMENT: 1,
    }


async def test_folding_while_writers_insert_loses_nothing(database: str) -> None:
    seller = await make_seller(region="ID")
    seller_id = await seller_id_of(seller)
    made = await asyncio.gather(*(make_sale(seller) for _ in range(20)), counts.fold(batch=3))
    await counts.fold(batch=4)
    assert len(made[:-1]) == 20
    assert await counts.count_by_status(seller_id, AfterSaleType.RETURN_AND_REFUND, None) == {
        S.PENDING_REQUEST: 20
    }
