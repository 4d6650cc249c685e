"""The two returns of an edited request arriving at the same moment (on two replicas, say):
whichever is created second finds the first, so the old request is always superseded and the
seller never sees both as live."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aftersales.store.models import AfterSale
from tests.support.builders import apply_report, make_seller, report
from tests.support.clock import T0

pytestmark = pytest.mark.usefixtures("database")

PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"


async def test_an_edit_and_the_request_it_replaces_created_at_once_always_link() -> None:
    seller = await make_seller()
    pairs = []
    for n in range(12):
        order = f"5764863169484{n:05d}"
        old, new = f"{order}1", f"{order}2"
        original = report(PENDING, return_id=old, order_id=order, return_type="REFUND")
        edited = report(
            PENDING,
            return_id=new,
            order_id=order,
            return_type="REFUND",
            at=T0 + timedelta(seconds=1),
            pre_return_id=old,
        )
        # Both creations run side by side: each reads before the other has written.
        await asyncio.gather(
            apply_report(seller.shop_id, original, now=T0),
            apply_report(seller.shop_id, edited, now=T0),
        )
        pairs.append((old, new))

    for old, new in pairs:
        closed = await AfterSale.get(return_id=old)
        live = await AfterSale.get(return_id=new)
        assert (closed.status.value, live.status.value) == ("REQUEST_CLOSED", "PENDING_REQUEST"), (
            old
        )
