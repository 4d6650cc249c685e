"""`aftersales sweep` (the dispute sweep and the parcel rematch) as a subprocess on a temporary
SQLite database (docs/timers.md, §7)."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aftersales.commands.sweep import EXPIRED_ACTION, SWEEP_JOB
from aftersales.inbox import payloads
from aftersales.inbox import receive as inbox
from aftersales.inbox.rematch import REMATCH_JOB
from aftersales.store.models import AfterSale, HistoryEntry, JobRun, WebhookDelivery
from tests.support.builders import make_sale, make_seller
from tests.support.webhooks import parcel_body

pytestmark = [pytest.mark.live, pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]

AFTERSALES = str(Path(sys.executable).with_name("aftersales"))


async def _cli(database: str, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "DATABASE_URL": database}
    proc = await asyncio.create_subprocess_exec(
        AFTERSALES,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_aftersales_sweep_closes_expired_requests_prints_the_count_and_exits(
    database: str,
) -> None:
    seller = await make_seller()
    long_ago = datetime.now(UTC) - timedelta(days=3)
    expired = [
        await make_sale(seller, status="RETURN_OR_REFUND_REQUEST_REJECT", at=long_ago)
        for _ in range(3)
    ]
    fresh = await make_sale(seller, status="RETURN_OR_REFUND_REQUEST_REJECT", at=datetime.now(UTC))

    code, out, err = await _cli(database, "sweep", "--batch-size", "2")

    assert code == 0, err
    assert out.strip().splitlines()[-1] == "closed 3 after-sales whose dispute window ran out"
    statuses = {i: (await AfterSale.get(id=i)).status for i in [*expired, fresh]}
    assert [s.value for s in statuses.values() if s] == ["REQUEST_CLOSED"] * 3 + ["REJECTED"]
    for sale_id in expired:
        assert await HistoryEntry.filter(after_sale_id=sale_id, action=EXPIRED_ACTION).count() == 1
    assert (await JobRun.get(name=SWEEP_JOB)).last_count == 3


async def test_aftersales_sweep_also_applies_parcel_events_left_unmatched_by_a_race(
    database: str,
) -> None:
    seller = await make_seller()
    a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
    body = parcel_body(shop_id=seller.shop_id, status="DELIVERED")
    delivered = await inbox.receive_parcel_event(
        body, {}, payloads.parse_parcel_event(body), now=a_minute_ago
    )
    # The return is created as if it raced the event: without looking for waiting events.
    sale_id = await make_sale(
        seller, status="BUYER_SHIPPED_ITEM", return_id="576486316948490001", at=a_minute_ago
    )

    code, out, err = await _cli(database, "sweep")

    assert code == 0, err
    assert "applied 1 parcel events that had matched nothing" in out.splitlines()
    assert (await AfterSale.get(id=sale_id)).return_status.value == "RETURNED"
    assert (await WebhookDelivery.get(id=delivered.delivery_id)).outcome == "applied"
    assert (await JobRun.get(name=REMATCH_JOB)).last_count == 1


async def test_a_second_sweep_finds_nothing_left(database: str) -> None:
    code, out, _ = await _cli(database, "sweep")

    assert code == 0
    assert "closed 0 after-sales" in out


async def test_sweep_migrates_a_brand_new_database_first(tmp_path: Path, database: str) -> None:
    code, out, err = await _cli(f"sqlite://{tmp_path / 'new.sqlite3'}", "sweep")

    assert code == 0, err
    assert "closed 0 after-sales" in out


async def test_sweep_prints_each_count_once_and_logs_nothing_else(database: str) -> None:
    code, out, err = await _cli(database, "sweep")

    assert code == 0, err
    assert out.splitlines() == [
        "applied 0 parcel events that had matched nothing",
        "closed 0 after-sales whose dispute window ran out",
    ]
    # The jobs' own INFO lines said the same again on stderr, so a terminal showed each twice.
    assert "matched nothing" not in err
    assert "dispute window ran out" not in err
