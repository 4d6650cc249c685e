"""The whole loop on one machine, as the README shows it: a real `aftersales serve` with the TikTok
sync on, and `aftersales tiktok-sandbox` in another process. The poll job imports a return the
service never got a webhook for; a decision made over GraphQL reaches the stand-in through the
dispatcher job, signed and checked by the stand-in, which applies it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.support.eventually import eventually
from tests.support.live import gql, sandbox_process, start_server, stop_server

pytestmark = pytest.mark.live  # a real `aftersales serve` and sandbox

SHOP = "7494049642642441621"
ACCESS = "TTP_live-access-token"
REFRESH = "TTP_live-refresh-token"
CIPHER = "ROW_live_cipher"
KEYS = {"TIKTOK_APP_KEY": "live-app-key", "TIKTOK_APP_SECRET": "live-app-secret-0123456789"}
T = TypeVar("T")


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    with sandbox_process(tmp_path, KEYS) as url:
        yield url


SALES = """{ afterSales(first: 10) { edges { node {
  id returnId status syncStatus refundRequested { amount } } } } }"""
ACCEPT = """mutation($id: ID!) { acceptRefund(input: {id: $id}) {
  afterSale { status syncStatus } userErrors { message } } }"""


def test_decisions_flow_to_the_sandbox_and_its_truth_flows_back(
    tmp_path: Path, sandbox_url: str
) -> None:
    url = sandbox_url
    httpx.post(
        f"{url}/sandbox/shops",
        json={"shop_id": SHOP, "cipher": CIPHER, "access_token": ACCESS, "refresh_token": REFRESH},
    ).raise_for_status()
    created = httpx.post(
        f"{url}/sandbox/returns",
        json={
            "shop_id": SHOP,
            "return": {
                "return_type": "REFUND",
                "refund_amount": {"currency": "IDR", "refund_total": "55000.00"},
            },
        },
    )
    created.raise_for_status()
    return_id = created.json()["return_id"]
    proc, server = start_server(
        tmp_path,
        {
            **KEYS,
            "TIKTOK_API_BASE_URL": url,
            "TIKTOK_AUTH_BASE_URL": url,
            "TIKTOK_POLL_INTERVAL_SECONDS": "1",
        },
    )
    try:
        added = server.cli(
            "shops", "add", "--seller", "live", "--shop-id", SHOP, "--region", "ID",
            "--access-token", ACCESS, "--refresh-token", REFRESH, "--shop-cipher", CIPHER,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert ACCESS not in added.stdout + added.stderr
        issued = server.cli("tokens", "create", "--seller", "live")
        assert issued.returncode == 0, issued.stderr
        token = issued.stdout.strip().splitlines()[-1]

        def imported() -> dict[str, Any] | None:
            edges = gql(server, token, SALES, {})["afterSales"]["edges"]
            return edges[0]["node"] if edges else None

        node = eventually(imported, what="the poll job imports the return")
        assert node["returnId"] == return_id
        assert node["refundRequested"] == {"amount": "55000.00"}
        assert node["syncStatus"] == "LOCAL_ONLY"

        accepted = gql(server, token, ACCEPT, {"id": node["id"]})["acceptRefund"]
        assert accepted == {
            "afterSale": {"status": "REFUNDED", "syncStatus": "PENDING"},
            "userErrors": [],
        }

        def first() -> dict[str, Any]:
            node: dict[str, Any] = gql(server, token, SALES, {})["afterSales"]["edges"][0]["node"]
            return node

        eventually(
            first,
            until=lambda found: found["syncStatus"] == "SYNCED",
            what="the dispatcher job sends the decision",
        )
        calls = httpx.get(f"{url}/sandbox/calls").json()
        decisions = [c for c in calls if c["path"].endswith("/approve")]
        assert len(decisions) == 1
        assert decisions[0]["body"] == {"decision": "APPROVE_REFUND"}
        assert decisions[0]["code"] == 0
        on_tiktok = httpx.get(f"{url}/sandbox/returns/{return_id}").json()
        assert on_tiktok["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    finally:
        stop_server(proc)
