"""`aftersales serve --workers N` and `aftersales prune --older-than DURATION`, run as an
operator runs them."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from aftersales.domain.outcome import Outcome
from aftersales.store.models import WebhookDelivery
from tests.support.eventually import eventually
from tests.support.live import free_port

pytestmark = pytest.mark.live  # the `aftersales` command runs as a process

AFTERSALES = str(Path(sys.executable).with_name("aftersales"))


def _env(database: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database,
        "TIKTOK_APP_KEY": "live-app-key",
        "TIKTOK_APP_SECRET": "live-app-secret",
        "LOGISTICS_WEBHOOK_SECRET": "live-logistics-secret",
    }


@pytest.mark.parametrize("workers", ["0", "65", "two"])
def test_serve_refuses_a_worker_count_out_of_range(tmp_path: Path, workers: str) -> None:
    done = subprocess.run(
        [AFTERSALES, "serve", "--workers", workers],
        env=_env(f"sqlite://{tmp_path / 'db.sqlite3'}"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--workers" in done.stderr and "Traceback" not in done.stderr


def test_serve_with_two_workers_answers_from_two_processes_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [AFTERSALES, "serve", "--port", str(port), "--workers", "2"],
            env=_env(f"sqlite://{tmp_path / 'db.sqlite3'}"),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def started() -> int:
            assert proc.poll() is None, log.read_text()
            return len(re.findall(r"Application startup complete", log.read_text()))

        eventually(
            started, until=lambda workers: workers == 2, seconds=60, what="both workers start"
        )
        for _ in range(20):
            assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        text = log.read_text()
        assert "(2 worker processes)" in text
        assert len(set(re.findall(r"Started server process \[(\d+)\]", text))) == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0, log.read_text()
    assert len(re.findall(r"Finished server process", log.read_text())) == 2


async def _cli(database: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        AFTERSALES,
        *args,
        env=_env(database),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _delivery(key: str, outcome: Outcome, received_at: datetime) -> None:
    await WebhookDelivery.create(
        source="tiktok",
        dedupe_key=key,
        event_type="12",
        shop_id="7000000000000000001",
        received_at=received_at,
        body="{}",
        outcome=outcome.value,
    )


async def test_prune_deletes_old_processed_deliveries_in_batches_and_keeps_waiting_ones(
    database: str,
) -> None:
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    processed = (Outcome.CREATED, Outcome.APPLIED, Outcome.STALE, Outcome.DUPLICATE)
    for n in range(5):
        for outcome in processed:
            await _delivery(f"old-{outcome.value}-{n}", outcome, old)
    await _delivery("old-rejected", Outcome.REJECTED, old)
    waiting = (Outcome.UNKNOWN_SHOP, Outcome.UNMATCHED, Outcome.FAILED)
    for outcome in waiting:
        await _delivery(f"old-{outcome.value}", outcome, old)
    await _delivery("recent-applied", Outcome.APPLIED, recent)

    code, out, err = await _cli(database, "prune", "--older-than", "30d", "--batch-size", "3")

    assert code == 0, err
    assert out.startswith("deleted 21 webhook deliveries received before"), out
    left = await WebhookDelivery.all().order_by("dedupe_key").values_list("dedupe_key", flat=True)
    assert sorted(left) == sorted([*(f"old-{o.value}" for o in waiting), "recent-applied"])

    code, out, _ = await _cli(database, "prune", "--older-than", "30d")
    assert code == 0 and out.startswith("deleted 0 webhook deliveries"), out


async def test_prune_deletes_waiting_deliveries_past_their_own_age_limit(database: str) -> None:
    now = datetime.now(UTC)
    waiting = (Outcome.UNKNOWN_SHOP, Outcome.UNMATCHED, Outcome.FAILED)
    for outcome in waiting:
        await _delivery(f"ancient-{outcome.value}", outcome, now - timedelta(days=100))
        await _delivery(f"old-{outcome.value}", outcome, now - timedelta(days=40))
    await _delivery("ancient-processing", Outcome.PROCESSING, now - timedelta(days=100))

    code, out, err = await _cli(
        database, "prune", "--older-than", "30d", "--waiting-older-than", "90d"
    )

    assert code == 0, err
    assert out.startswith("deleted 3 webhook deliveries received before"), out
    assert "and those still waiting" in out
    left = await WebhookDelivery.all().values_list("dedupe_key", flat=True)
    assert sorted(left) == sorted([*(f"old-{o.value}" for o in waiting), "ancient-processing"])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_prune_refuses_a_waiting_age_below_the_processed_one(database: str) -> None:
    code, _, err = await _cli(
        database, "prune", "--older-than", "30d", "--waiting-older-than", "7d"
    )

    assert code == 1
    assert err.startswith("error: the age for waiting deliveries must be at least"), err


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("older_than", ["0s", "tomorrow", "-3d"])
async def test_prune_refuses_a_duration_it_cannot_read(database: str, older_than: str) -> None:
    code, _, err = await _cli(database, "prune", "--older-than", older_than)
    assert code == 2
    assert "--older-than" in err and "Traceback" not in err
