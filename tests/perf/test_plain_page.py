"""The list's common pages (a seller's or a shop's, by type and statuses, page after page) are
written out by hand instead of built by Tortoise's query builder, which cost more than running
them (aftersales/store/queries.py, `_plain_page`): they must find exactly what the builder's SQL
finds, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aftersales.domain.model import AfterSaleStatus, AfterSaleType, ReturnStatus
from aftersales.store import queries, rows
from tests.support.builders import make_sale, make_seller, seller_id_of
from tests.support.clock import T0
from tests.support.door import read

FILTERS = {
    "everything": queries.SaleFilter(),
    "type": queries.SaleFilter(type=AfterSaleType.REFUND_ONLY),
    "type and status": queries.SaleFilter(
        type=AfterSaleType.RETURN_AND_REFUND, status=AfterSaleStatus.PENDING_REQUEST
    ),
    "return status": queries.SaleFilter(return_status=ReturnStatus.OTHER),
    "unknown shop": queries.SaleFilter(shop_id="9999"),
    "shop": queries.SaleFilter(shop_id="the seller's"),  # its shop id, once made
}


async def _all_pages(seller_id: int, flt: queries.SaleFilter) -> list[tuple[list[int], int, bool]]:
    pages, after = [], None
    while True:
        page = await read("sales").list_sales(seller_id, flt, first=3, after=after)
        pages.append(([r.id for r in page.records], page.total_count, page.has_next_page))
        if not page.has_next_page:
            return pages
        after = queries.encode_cursor(page.records[-1])


@pytest.mark.usefixtures("database")
@pytest.mark.parametrize("name", FILTERS)
async def test_written_out_pages_find_what_the_query_builder_finds(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller, other = await make_seller(), await make_seller()
    for n in range(8):  # two share each creation time: the cursor's tie-break by id counts
        at = T0 + timedelta(minutes=n // 2)
        await make_sale(seller, at=at, return_type="REFUND" if n % 3 == 0 else "RETURN_AND_REFUND")
        await make_sale(other, at=at)
    seller_id = await seller_id_of(seller)
    flt = FILTERS[name]
    if name == "shop":
        flt = queries.SaleFilter(shop_id=seller.shop_id, type=AfterSaleType.RETURN_AND_REFUND)
    built = rows.fetch_with_total

    def refused(*args: object) -> object:
        raise AssertionError("the page went through Tortoise's query builder")

    monkeypatch.setattr(rows, "fetch_with_total", refused)
    written = await _all_pages(seller_id, flt)
    monkeypatch.setattr(rows, "fetch_with_total", built)
    monkeypatch.setattr(queries, "_plain_page", lambda *args: None)
    expected = await _all_pages(seller_id, flt)

    assert written == expected
    assert sum(len(ids) for ids, _, _ in written) == written[0][1]
