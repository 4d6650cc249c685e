"""Two `aftersales serve` processes on different ports against one PostgreSQL database, both
running their jobs, with the same simulated traffic sent to each at once (README, "Several
replicas"): every delivery is applied once, every expired dispute window closed once, every
decision pushed to TikTok once; and the result is what one service given the traffic once holds.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

from devtools import traffic
from tests.support.eventually import eventually
from tests.support.live import (
    AFTERSALES,
    LiveServer,
    gql,
    sandbox_process,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.live, pytest.mark.postgres]

SEED = 4242
COUNT = 240
SELLER = "replicas"
# After the traffic, the replicas restart with two-second dispute windows, so that the
# rejections made then expire during the test (and sweeps run every second).
SHORT_WINDOWS = {"SWEEP_INTERVAL_SECONDS": "1", "DISPUTE_WINDOW_SECONDS": "2"}
KEYS = {
    "TIKTOK_APP_KEY": "live-app-key",
    "TIKTOK_APP_SECRET": "live-app-secret",
    "LOGISTICS_WEBHOOK_SECRET": "live-logistics-secret",
    "AFTERSALES_SECRET_KEY": "replicas-share-this-key-of-32-characters-or-more",
}
ACCESS, REFRESH, CIPHER = "TTP_replicas-access", "TTP_replicas-refresh", "ROW_replicas"
T = TypeVar("T")

# What a pending request in each type is accepted with (no reason code needed).
ACCEPTS = {
    "RETURN_AND_REFUND": ("acceptReturn", "RETURN_AND_REFUND", "RETURN_OR_REFUND_REQUEST_PENDING"),
    "REFUND_ONLY": ("acceptRefund", "REFUND", "RETURN_OR_REFUND_REQUEST_PENDING"),
    "EXCHANGE": ("acceptExchange", "REPLACEMENT", "REPLACEMENT_REQUEST_PENDING"),
}
PENDING = """query($shop: String!) {
  afterSales(first: 100, shopId: $shop, status: PENDING_REQUEST) {
    edges { node { id returnId type } } } }"""
REJECTS = {
    "RETURN_AND_REFUND": "rejectReturn",
    "REFUND_ONLY": "rejectRefund",
    "EXCHANGE": "refuseExchange",
}
REJECT = """mutation($id: ID!) { MUTATION(input: {id: $id, reason: "Not as described"}) {
  userErrors { message } } }"""
ACCEPT = "mutation($id: ID!) { MUTATION(input: {id: $id}) { userErrors { message } } }"
SYNC_STATES = """query($shop: String!) { afterSales(first: 100, shopId: $shop) {
  edges { node { id syncStatus syncError } } } }"""


@pytest.fixture
def database() -> Iterator[str]:
    """A new, empty PostgreSQL database on TEST_POSTGRES_URL's server, dropped afterwards."""
    server = os.environ.get("TEST_POSTGRES_URL")
    assert server, "marked postgres: deselected without TEST_POSTGRES_URL (tests/conftest.py)"
    name = f"replicas_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server.replace("postgres://", "postgresql://", 1))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    with sandbox_process(tmp_path, KEYS) as url:
        yield url


def simulate(url: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [AFTERSALES, "simulate", "--url", url, "--seed", str(SEED), "--count", str(COUNT),
         "--rate", "0", "--seller", SELLER],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def register(server: LiveServer) -> str:
    for shop in traffic.shops(3, SEED):
        added = server.cli(
            "shops", "add", "--seller", SELLER, "--shop-id", shop.shop_id,
            "--region", shop.region, "--name", shop.name,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    created = server.cli("tokens", "create", "--seller", SELLER)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip().splitlines()[-1]


async def _rows(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def rows(url: str, sql: str) -> list[asyncpg.Record]:
    return asyncio.run(_rows(url, sql))


RETURN_IDS = "SELECT return_id FROM after_sale WHERE return_id IS NOT NULL ORDER BY return_id"


def test_two_replicas_apply_close_and_push_each_thing_once(
    tmp_path: Path, database: str, sandbox: str
) -> None:
    env = {
        **KEYS,
        "DATABASE_URL": database,
        "TIKTOK_API_BASE_URL": sandbox,
        "TIKTOK_AUTH_BASE_URL": sandbox,
        "TIKTOK_POLL_INTERVAL_SECONDS": "2",
    }
    for folder in ("a", "b", "reference"):
        (tmp_path / folder).mkdir()
    proc_a, a = start_server(tmp_path / "a", env)
    proc_b, b = start_server(tmp_path / "b", env)
    # The same traffic, given once to a lone service (SQLite, no sync): what both should hold.
    proc_ref, ref = start_server(tmp_path / "reference", {**KEYS})
    try:
        token = register(a)
        register(ref)
        senders = [simulate(s.url, s.env, s.cwd) for s in (a, b, ref)]
        for sender in senders:
            out, _ = sender.communicate(timeout=300)
            assert sender.returncode == 0, out

        # Every delivery applied once: one of the two replicas applied it, the other logged a
        # duplicate; none failed.
        outcomes = {
            r["outcome"]: r["n"]
            for r in rows(
                database, "SELECT outcome, count(*) AS n FROM webhook_delivery GROUP BY outcome"
            )
        }
        assert "failed" not in outcomes
        kept = rows(
            database,
            "SELECT count(*) AS n FROM webhook_delivery WHERE outcome <> 'duplicate'",
        )[0]["n"]
        assert kept > 0 and outcomes["duplicate"] >= kept, outcomes

        # The same requests as the lone service holds, each once. (Not the same statuses to the
        # letter: the simulator sends out of order, 8 at a time, so two runs interleave apart.)
        ours = [r["return_id"] for r in rows(database, RETURN_IDS)]
        theirs = [r[0] for r in _sqlite_rows(tmp_path / "reference" / "live.sqlite3", RETURN_IDS)]
        assert len(ours) > 50 and len(set(ours)) == len(ours)
        assert ours == theirs

        # Every expired dispute window closed once: both replicas restart with short windows
        # and sweep every second; rejections are made through each in turn.
        for proc in (proc_a, proc_b):
            stop_server(proc)
        short = {**env, **SHORT_WINDOWS}
        proc_a, a = start_server(tmp_path / "a", short)
        proc_b, b = start_server(tmp_path / "b", short)
        rejected = []
        for shop in traffic.shops(3, SEED)[1:]:
            edges = gql(a, token, PENDING, {"shop": shop.shop_id})["afterSales"]["edges"]
            # Returns only: a rejected cancellation has no dispute window to close.
            edges = [e for e in edges if e["node"]["type"] in REJECTS]
            for n, edge in enumerate(edges[:4]):
                node = edge["node"]
                mutation = REJECTS[node["type"]]
                done = gql(
                    (a, b)[n % 2],
                    token,
                    REJECT.replace("MUTATION", mutation),
                    {"id": node["id"]},
                )
                assert done[mutation]["userErrors"] == []
                rejected.append(int(node["id"]))
        assert len(rejected) >= 4
        ids = ",".join(map(str, rejected))

        def statuses() -> set[str]:
            found = rows(database, f"SELECT status FROM after_sale WHERE id IN ({ids})")
            return {r["status"] for r in found}

        eventually(
            statuses,
            until=lambda found: found == {"REQUEST_CLOSED"},
            seconds=60,
            what="the sweeps close every expired window",
        )
        time.sleep(2)  # more sweeps run on both replicas: none closes anything twice
        closes = rows(
            database,
            "SELECT after_sale_id, count(*) AS n FROM history_entry WHERE source = 'SCHEDULER'"
            f" AND after_sale_id IN ({ids}) GROUP BY after_sale_id",
        )
        assert sorted((r["after_sale_id"], r["n"]) for r in closes) == [
            (i, 1) for i in sorted(rejected)
        ]

        # Every decision pushed once: one shop syncs; its pending requests are accepted,
        # alternately through each replica; both dispatchers run.
        shop = traffic.shops(3, SEED)[0]
        httpx.post(
            f"{sandbox}/sandbox/shops",
            json={"shop_id": shop.shop_id, "cipher": CIPHER, "access_token": ACCESS,
                  "refresh_token": REFRESH},
        ).raise_for_status()  # fmt: skip
        creds = a.cli(
            "shops", "credentials", "--shop-id", shop.shop_id, "--access-token", ACCESS,
            "--refresh-token", REFRESH, "--shop-cipher", CIPHER,
        )  # fmt: skip
        assert creds.returncode == 0, creds.stderr
        pending = gql(a, token, PENDING, {"shop": shop.shop_id})["afterSales"]["edges"]
        # The returns (the stand-in is told of each below); the traffic's cancellations stay
        # pending, and nothing is pushed for them.
        pending = [e for e in pending if e["node"]["type"] in ACCEPTS]
        assert len(pending) >= 3
        for n, edge in enumerate(pending):
            node = edge["node"]
            mutation, platform_type, platform_status = ACCEPTS[node["type"]]
            httpx.post(
                f"{sandbox}/sandbox/returns",
                json={"shop_id": shop.shop_id, "return": {"return_id": node["returnId"],
                      "return_type": platform_type, "return_status": platform_status}},
            ).raise_for_status()  # fmt: skip
            via = (a, b)[n % 2]
            done = gql(
                via,
                token,
                ACCEPT.replace("MUTATION", mutation),
                {"id": node["id"]},
            )
            assert done[mutation]["userErrors"] == []

        def sync_states() -> set[str]:
            nodes = [e["node"] for e in gql(b, token, SYNC_STATES, {"shop": shop.shop_id})[
                "afterSales"]["edges"]]  # fmt: skip
            decided = {e["node"]["id"] for e in pending}
            return {n["syncStatus"] for n in nodes if n["id"] in decided}

        eventually(
            sync_states,
            until=lambda states: states == {"SYNCED"},
            seconds=60,
            what="both dispatchers send every decision",
        )
        calls = httpx.get(f"{sandbox}/sandbox/calls").json()
        decisions = [c for c in calls if c["path"].endswith("/approve")]
        keys = [c["idempotency_key"] for c in decisions]
        assert len(keys) == len(pending) and len(set(keys)) == len(pending)
        assert all(c["changed"] for c in decisions)
    finally:
        for proc in (proc_a, proc_b, proc_ref):
            stop_server(proc)


def _sqlite_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return [tuple(r) for r in db.execute(sql)]
