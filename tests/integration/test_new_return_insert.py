"""A new return is inserted once, with its final fields, its lines and its history entry (one
statement on PostgreSQL, a `WITH`; one each on SQLite): what is stored is what the command saw."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.domain.model import AfterSaleStatus, LineItem
from aftersales.domain.outcome import Outcome
from aftersales.store.uow import uow
from tests.support.builders import apply_report, make_seller, report, seller_id_of
from tests.support.clock import T0
from tests.support.door import read
from tests.support.stored import stored

queries = read("sales")

pytestmark = pytest.mark.usefixtures("database")


@pytest.mark.parametrize("lines", [0, 2, 40])
async def test_a_new_return_is_stored_with_every_line_and_one_history_entry(lines: int) -> None:
    seller = await make_seller()
    items = tuple(
        LineItem(f"SKU-{n:02d}", f"Item {n}", n + 1, Decimal("1.50")) for n in range(lines)
    )
    pending = report(
        "RETURN_OR_REFUND_REQUEST_PENDING",
        refund_total=Decimal("20.00"),
        currency="myr",
        items=items or None,
        tracking_number="JX0001",
    )

    result = await apply_report(seller.shop_id, pending, now=T0)

    assert result.outcome is Outcome.CREATED and result.after_sale_id is not None
    after = await stored(await seller_id_of(seller), result.after_sale_id)
    assert after.sale.version == 1
    assert after.sale.status is AfterSaleStatus.PENDING_REQUEST
    assert (after.sale.refund_requested, after.sale.currency) == (Decimal("20.00"), "MYR")
    assert (after.sale.tracking_number, after.sale.last_event_at) == ("JX0001", T0)
    assert after.sale.platform_status == "RETURN_OR_REFUND_REQUEST_PENDING"
    assert [(i.sku, i.quantity, i.unit_refund) for i in after.items] == [
        (i.sku, i.quantity, i.unit_refund) for i in items
    ]
    assert [(h.action, h.from_status, h.to_status) for h in after.history] == [
        ("PLATFORM_STATUS_REPORTED", None, AfterSaleStatus.PENDING_REQUEST)
    ]


async def test_the_record_create_returns_is_the_one_read_back() -> None:
    seller = await make_seller()
    pending = report("RETURN_OR_REFUND_REQUEST_PENDING", refund_total=Decimal("9.90"))
    async with uow() as tx:
        found = await tx.sales.for_report(seller.shop_id, pending.return_id, None)
        assert found.shop is not None and found.sale is None
        created = await tx.sales.create(
            found.shop,
            {
                "type": "RETURN_AND_REFUND",
                "return_id": pending.return_id,
                "order_id": pending.order_id,
                "status": AfterSaleStatus.PENDING_REQUEST,
                "return_status": "OTHER",
                "refund_requested": Decimal("9.9"),
            },
            at=T0,
        )
        assert created is not None
        again = await tx.sales.create(
            found.shop,
            {
                "type": "RETURN_AND_REFUND",
                "return_id": pending.return_id,
                "order_id": pending.order_id,
                "return_status": "OTHER",
            },
            at=T0,
            entry=None,
        )
        assert again is None  # the same return: nothing inserted, the transaction still usable
        reread = await tx.sales.for_report(seller.shop_id, pending.return_id, None)
    assert reread.sale == created
    assert reread.has_items is False and reread.events_waiting is False
    assert await queries.get_sale(await seller_id_of(seller), created.id) == created
