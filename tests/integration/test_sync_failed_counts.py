"""`afterSaleCounts { syncFailed }` and `afterSales(syncStatus:)` on both databases: the counts
match a plain count, cost one statement as before, and both read the partial indexes of the
few FAILED and PENDING after-sales (migration 0009)."""

from __future__ import annotations

from collections import Counter

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from aftersales.commands import counts
from aftersales.domain.model import AfterSaleStatus, AfterSaleType
from aftersales.domain.sync import SyncStatus
from aftersales.store.models import AfterSale
from aftersales.store.queries import SaleFilter
from tests.perf.counting import statements
from tests.support.builders import make_sale, make_seller, seller_id_of
from tests.support.door import read

S = AfterSaleStatus
RR = AfterSaleType.RETURN_AND_REFUND
sales = read("sales")


async def mark(sale_id: int, sync: SyncStatus) -> None:
    await AfterSale.filter(id=sale_id).update(sync_status=sync.value)


async def test_sync_failed_counts_the_failed_of_each_status(database: str) -> None:
    seller = await make_seller(region="ID")
    seller_id = await seller_id_of(seller)
    other = await make_seller(region="ID")  # another seller's never count
    made = [await make_sale(seller) for _ in range(4)]
    shipped = await make_sale(seller, status="BUYER_SHIPPED_ITEM")
    await mark(made[0], SyncStatus.FAILED)
    await mark(made[1], SyncStatus.FAILED)
    await mark(made[2], SyncStatus.PENDING)
    await mark(shipped, SyncStatus.FAILED)
    await mark(await make_sale(other), SyncStatus.FAILED)
    await make_sale(seller, return_type="REFUND")

    with statements() as sent:
        found = await counts.status_counts(seller_id, RR, None)
    one_shop = await counts.status_counts(seller_id, RR, seller.shop_id)
    no_shop = await counts.status_counts(seller_id, RR, other.shop_id)

    assert len(sent) == 1  # the tab badges cost one statement, as before
    assert found.by_status == {S.PENDING_REQUEST: 4, S.SHIPPED_BY_BUYER: 1}
    assert found.failed == {S.PENDING_REQUEST: 2, S.SHIPPED_BY_BUYER: 1}
    assert one_shop.failed == found.failed
    assert no_shop.failed == {} and no_shop.by_status == {}
    assert (await counts.status_counts(seller_id, AfterSaleType.REFUND_ONLY, None)).failed == {}
    plain = Counter(
        s.status
        for s in await AfterSale.filter(shop__seller_id=seller_id, type=RR, sync_status="FAILED")
    )
    assert found.failed == dict(plain)


@pytest.mark.parametrize("sync", [SyncStatus.FAILED, SyncStatus.PENDING])
async def test_the_sync_status_filter_lists_exactly_those(database: str, sync: SyncStatus) -> None:
    seller = await make_seller(region="ID")
    seller_id = await seller_id_of(seller)
    made = [await make_sale(seller) for _ in range(5)]
    await mark(made[1], sync)
    await mark(made[3], sync)
    await mark(made[4], SyncStatus.SYNCED if sync is SyncStatus.FAILED else SyncStatus.FAILED)

    page = await sales.list_sales(seller_id, SaleFilter(sync_status=sync), first=10, after=None)
    typed = await sales.list_sales(
        seller_id, SaleFilter(type=RR, status=S.PENDING_REQUEST, sync_status=sync, search=None),
        first=1, after=None,
    )  # fmt: skip
    searched = await sales.list_sales(
        seller_id, SaleFilter(sync_status=sync, search="no-such-return"), first=10, after=None
    )

    assert sorted(r.id for r in page.records) == sorted([made[1], made[3]])
    assert page.total_count == 2
    assert (typed.total_count, typed.has_next_page) == (2, True)
    assert searched.total_count == 0


@pytest.mark.parametrize("value", ["FAILED", "PENDING"])
async def test_the_failed_and_pending_are_read_through_their_partial_index(
    database: str, value: str
) -> None:
    conn = connections.get("default")
    query = (
        "SELECT status, count(*) FROM after_sale WHERE shop_id = 1 AND type = 'RETURN_AND_REFUND'"
        f" AND sync_status = '{value}' GROUP BY status"
    )
    index = f"after_sale_sync_{value.lower()}"
    if database.startswith("postgres"):
        async with in_transaction("default") as tx:  # one connection: the SET holds for it
            await tx.execute_script("SET LOCAL enable_seqscan = off")  # a tiny table otherwise
            plan = await tx.execute_query_dict("EXPLAIN " + query)
        text = " ".join(str(v) for row in plan for v in row.values())
    else:
        plan = await conn.execute_query_dict("EXPLAIN QUERY PLAN " + query)
        text = " ".join(str(row.get("detail")) for row in plan)

    assert index in text, text
