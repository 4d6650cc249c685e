"""Live: `aftersales serve` closes a rejected request by itself once its dispute window runs out.

A real server in a subprocess (temporary SQLite, free port, 1 s window, 1 s sweep interval); the
shop and token are made with the CLI, the request arrives as a signed TikTok webhook, the seller
rejects it over GraphQL, and the test polls GraphQL (bounded) until the sweep has closed it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.eventually import eventually_async

pytestmark = pytest.mark.live  # a real `aftersales serve`

BIN = Path(sys.executable).parent
APP_KEY, APP_SECRET = "live-app-key", "live-app-secret"
SHOP_ID = "7494049642642449999"
RETURN_ID = "576486316948499999"

PENDING = "query { afterSales(first: 5) { edges { node { id status } } } }"
REJECT = """
mutation Reject($id: ID!) {
  rejectReturn(input: {id: $id, reason: "the item was used"}) {
    afterSale { status disputeDeadline }
    userErrors { code message }
  }
}
"""
SALE = """
query Sale($id: ID!) {
  afterSale(id: $id) { status history { actor action fromStatus toStatus source } }
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path / 'live.sqlite3'}",
        "TIKTOK_APP_KEY": APP_KEY,
        "TIKTOK_APP_SECRET": APP_SECRET,
        "LOGISTICS_WEBHOOK_SECRET": "live-logistics-secret",
        "DISPUTE_WINDOW_SECONDS": "1",
        "SWEEP_INTERVAL_SECONDS": "1",
    }


async def _cli(env: dict[str, str], *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "aftersales"), *args, env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out
    return out.decode()


@contextlib.asynccontextmanager
async def serving(env: dict[str, str], tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    port = _free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            str(BIN / "aftersales"), "serve", "--port", str(port), env=env, stdout=log, stderr=log
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                await _until_up(client, proc)
                yield client
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), 15)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


async def _until_up(client: httpx.AsyncClient, proc: asyncio.subprocess.Process) -> None:
    async def status() -> int:
        assert proc.returncode is None, "aftersales serve exited during startup"
        return (await client.get("/health")).status_code

    await eventually_async(
        status,
        until=lambda code: code == 200,
        what="aftersales serve answers /health",
        ignoring=(httpx.TransportError,),
    )


async def _gql(
    client: httpx.AsyncClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def _signed_return_request() -> tuple[bytes, dict[str, str]]:
    now = int(time.time())
    body = json.dumps(
        {
            "type": 12,
            "tts_notification_id": "live-0001",
            "shop_id": SHOP_ID,
            "timestamp": now,
            "data": {
                "order_id": RETURN_ID,
                "return_id": RETURN_ID,
                "return_role": "BUYER",
                "return_type": "RETURN_AND_REFUND",
                "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
                "create_time": now - 60,
                "update_time": now - 60,
            },
        }
    ).encode()
    signature = hmac.new(APP_SECRET.encode(), APP_KEY.encode() + body, hashlib.sha256)
    return body, {"Authorization": signature.hexdigest(), "Content-Type": "application/json"}


async def test_a_running_server_closes_a_rejected_request_when_its_window_runs_out(
    env: dict[str, str], tmp_path: Path
) -> None:
    await _cli(env, "shops", "add", "--seller", "live", "--shop-id", SHOP_ID, "--region", "MY")
    token = (await _cli(env, "tokens", "create", "--seller", "live")).strip().splitlines()[-1]
    async with serving(env, tmp_path) as client:
        body, headers = _signed_return_request()
        delivered = await client.post("/webhooks/tiktok", content=body, headers=headers)
        assert delivered.status_code == 200
        [edge] = (await _gql(client, token, PENDING))["afterSales"]["edges"]
        sale_id = edge["node"]["id"]

        rejected = (await _gql(client, token, REJECT, {"id": sale_id}))["rejectReturn"]
        assert rejected["userErrors"] == []
        assert rejected["afterSale"]["status"] == "REJECTED"

        sale = await _until_closed(client, token, sale_id)
        health = (await client.get("/health/jobs")).json()

    assert sale["history"][-1] == {
        "actor": "SYSTEM",
        "action": "DISPUTE_WINDOW_EXPIRED",
        "fromStatus": "REJECTED",
        "toStatus": "REQUEST_CLOSED",
        "source": "SCHEDULER",
    }
    runs = {job["name"]: job["runs"] for job in health["jobs"]}
    assert runs.keys() == {"dispute_sweep", "parcel_rematch", "status_counts"}
    assert runs["dispute_sweep"] >= 1


async def _until_closed(client: httpx.AsyncClient, token: str, sale_id: str) -> dict[str, Any]:
    async def sale() -> dict[str, Any]:
        found: dict[str, Any] = (await _gql(client, token, SALE, {"id": sale_id}))["afterSale"]
        return found

    return await eventually_async(
        sale,
        until=lambda found: found["status"] == "REQUEST_CLOSED",
        seconds=20,
        what="the sweep closes the rejected request",
    )
