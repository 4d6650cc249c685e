"""`aftersales simulate` against a real `aftersales serve` subprocess (temporary SQLite)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.live import wait_until_serving

pytestmark = pytest.mark.live  # a real server and `aftersales simulate`

BIN = Path(sys.executable).parent / "aftersales"
TYPES_AND_STATUSES = """
query {
  afterSales(first: 100) {
    totalCount
    edges { node { type status returnStatus createdAt returnedAt } }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite://{tmp_path / 'sim.sqlite3'}",
        TIKTOK_APP_KEY="sim-key",
        TIKTOK_APP_SECRET="sim-secret",
        LOGISTICS_WEBHOOK_SECRET="sim-logistics",
        AFTERSALES_ENV="development",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_serving(process, url, what="aftersales serve answers /health")
        yield url, env
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_simulate_fills_a_running_service_with_every_kind_of_after_sale(
    server: tuple[str, dict[str, str]],
) -> None:
    url, env = server
    command = [str(BIN), "simulate", "--url", url, "--shops", "3", "--count", "150"]

    result = subprocess.run(
        [*command, "--rate", "0", "--seed", "11", "--register"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    finished = datetime.now(UTC)

    assert result.returncode == 0, result.stdout + result.stderr
    sent = re.search(r"sent (\d+) deliveries \((\d+) distinct \+ (\d+) repeats\)", result.stdout)
    assert sent is not None, result.stdout
    total, distinct, repeats = (int(n) for n in sent.groups())
    assert (distinct, total) == (150, 150 + repeats) and repeats > 0
    assert f"responses: 200 x{total}" in result.stdout
    token = next(
        line.strip() for line in result.stdout.splitlines() if line.strip().startswith("as_")
    )
    response = httpx.post(
        f"{url}/graphql",
        json={"query": TYPES_AND_STATUSES},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    nodes = [e["node"] for e in response.json()["data"]["afterSales"]["edges"]]
    types = {n["type"] for n in nodes}
    assert types == {
        "RETURN_AND_REFUND",
        "REFUND_ONLY",
        "EXCHANGE",
        "ABNORMAL_RETURN",
        "CANCELLATION",
    }
    cancelled = {n["status"] for n in nodes if n["type"] == "CANCELLATION"}
    assert {
        "PENDING_REQUEST",
        "REQUEST_CLOSED",
        "REFUNDED",
    } <= cancelled  # withdrawn, auto-approved
    assert len({n["status"] for n in nodes}) >= 5
    assert {"RETURNING", "RETURNED"} <= {n["returnStatus"] for n in nodes}
    dated = [n[k] for n in nodes for k in ("createdAt", "returnedAt") if n[k] is not None]
    assert max(datetime.fromisoformat(at) for at in dated) <= finished  # nothing in the future
    listed = subprocess.run(
        [str(BIN), "shops", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[0].split() == [
        "SHOP",
        "ID",
        "SELLER",
        "REGION",
        "NAME",
        "TIKTOK",
        "CONNECTION",
        "AFTER-SALES",
    ]
    assert len(rows) == 4 and all(" simulator " in row for row in rows[1:])
    assert all({"local-only", "LOCAL_ONLY"} <= set(row.split()) for row in rows[1:])
    counted = sum(int(row.split("  ")[-1].split(" ")[0]) for row in rows[1:])
    assert counted == response.json()["data"]["afterSales"]["totalCount"]


def test_simulate_without_register_prints_the_shops_add_commands(
    server: tuple[str, dict[str, str]],
) -> None:
    url, env = server

    result = subprocess.run(
        [str(BIN), "simulate", "--url", url, "--shops", "2", "--count", "10", "--rate", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("aftersales shops add --seller simulator --shop-id") == 2
    assert "--region ID" in result.stdout
