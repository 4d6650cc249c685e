"""The load: `wrk` with the bench's Lua scripts, and the request bodies they send."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson

from bench import data
from bench.procs import KEY, SECRET

LUA = Path(__file__).parent / "lua"
CONNECTIONS = 16
THREADS = 1

PAGE_QUERY = """
query Page($first: Int!, $shopId: String, $type: AfterSaleType, $status: AfterSaleStatus) {
  afterSales(first: $first, shopId: $shopId, type: $type, status: $status) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id returnId orderId type status returnStatus
        refundRequested { amount currency }
        refundAmount { amount currency }
        trackingNumber sellerResponseDeadline createdAt updatedAt
        availableActions
        items { sku productName quantity unitRefund { amount currency } }
        history { at actor action fromStatus toStatus source }
      }
    }
  }
}
"""
COUNTS_QUERY = """
query Counts($type: AfterSaleType!) { afterSaleCounts(type: $type) { status count } }
"""


def page_body(first: int = 50, *, filtered: bool = False) -> bytes:
    variables: dict[str, object] = {"first": first}
    if filtered:
        variables.update(shopId=data.FILTER_SHOP, type=data.FILTER_TYPE, status=data.FILTER_STATUS)
    return orjson.dumps({"query": PAGE_QUERY, "variables": variables})


def webhook_bodies(path: Path, count: int, *, shop: str, prefix: int) -> None:
    """`count` signed new-return deliveries (2 lines each), one a line: signature TAB body.
    `prefix` keeps the ids of every file apart."""
    created = int(time.time()) - 3600
    with path.open("w") as out:
        for n in range(count):
            rid = f"{prefix}{n:012d}"
            body = orjson.dumps(
                {
                    "type": 12,
                    "tts_notification_id": f"9{rid}",
                    "shop_id": shop,
                    "timestamp": created + 60,
                    "data": {
                        "order_id": rid,
                        "return_id": rid,
                        "return_role": "BUYER",
                        "return_type": "RETURN_AND_REFUND",
                        "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
                        "create_time": created,
                        "update_time": created + 60,
                        "refund_amount": {"currency": "MYR", "refund_total": "25.00"},
                        "return_line_items": [
                            {
                                "sku_id": "1729382256910270001",
                                "seller_sku": "MUG-01",
                                "product_name": "Mug",
                                "refund_amount": {"currency": "MYR", "refund_total": "15.00"},
                            },
                            {
                                "sku_id": "1729382256910270002",
                                "seller_sku": "CUP-02",
                                "product_name": "Cup",
                                "refund_amount": {"currency": "MYR", "refund_total": "10.00"},
                            },
                        ],
                        "return_reason_text": "Damaged in transit",
                    },
                }
            )
            signature = hmac.new(SECRET.encode(), KEY.encode() + body, hashlib.sha256).hexdigest()
            out.write(f"{signature}\t{body.decode()}\n")


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    wrapped: int

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(
            "error: wrk is not installed; `make bench` installs it (apt-get install -y wrk),"
            " or install it yourself and run again"
        )
    return found


def wrk(url: str, script: str, seconds: float, env: dict[str, str]) -> Run:
    argv = [
        wrk_path(),
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA / script),
        url,
    ]
    full_env = {**os.environ, "BENCH_LUA_DIR": str(LUA), "BENCH_THREADS": str(THREADS), **env}
    done = subprocess.run(argv, env=full_env, capture_output=True, text=True, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    r = json.loads(line.removeprefix("WRK_RESULT "))
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return Run(
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        errors=errors,
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        wrapped=r["wrapped"],
    )


def list_load(url: str, token: str, body_file: Path, seconds: float, warmup: float) -> Run:
    env = {"BENCH_TOKEN": token, "BENCH_BODY_FILE": str(body_file)}
    wrk(f"{url}/graphql", "list.lua", warmup, env)
    run = wrk(f"{url}/graphql", "list.lua", seconds, env)
    if run.errors:
        raise RuntimeError(f"{run.errors} failed list requests on {url}")
    return run


def webhook_load(url: str, warm_file: Path, body_file: Path, seconds: float, warmup: float) -> Run:
    wrk(f"{url}/webhooks/tiktok", "webhooks.lua", warmup, {"BENCH_BODY_FILE": str(warm_file)})
    run = wrk(
        f"{url}/webhooks/tiktok", "webhooks.lua", seconds, {"BENCH_BODY_FILE": str(body_file)}
    )
    if run.wrapped:
        raise RuntimeError(f"wrk ran out of webhook bodies on {url}: generate more")
    if run.errors:
        raise RuntimeError(f"{run.errors} failed webhook requests on {url}")
    return run


def post(url: str, token: str, body: bytes) -> dict[str, object]:
    r = httpx.post(
        f"{url}/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=60,
    )
    r.raise_for_status()
    result = r.json()
    if result.get("errors"):
        raise RuntimeError(f"GraphQL errors: {result['errors']}")
    return dict(result)


def latencies_ms(url: str, token: str, body: bytes, rounds: int) -> Sequence[float]:
    """One request at a time, after two to warm up: each request's wall time."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    times = []
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for n in range(rounds + 2):
            t = time.perf_counter()
            r = client.post("/graphql", content=body)
            elapsed = (time.perf_counter() - t) * 1000
            assert r.status_code == 200 and "errors" not in r.json(), r.text[:500]
            if n >= 2:
                times.append(elapsed)
    return times


def median_run(runs: Sequence[Run]) -> Run:
    """The run of median throughput (the lower middle one of an even number)."""
    ordered = sorted(runs, key=lambda run: run.per_s)
    return ordered[(len(ordered) - 1) // 2]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
