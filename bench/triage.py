"""The triage figures of `make bench` (docs/triage.md), on the big database:

- `stats_1m_ms`: the median `afterSaleStats(groupBy: TYPE)` over every after-sale;
- `urgent_queue_ms`: the median first page of the urgent queue (`orderBy: RESPONSE_DEADLINE`),
  and `urgent_queue_over_default`: over the same page in the default order;
- `export_rows_per_s`: the CSV export of every after-sale, read to the end;
- `export_rss_growth_mb`: how far the service's resident memory rose above where it stood
  when the export began (sampled every 20 ms while it ran)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import orjson

STATS_QUERY = """
query Stats { afterSaleStats(groupBy: TYPE) { key count refunded { amount currency }
  medianHoursToDecision } }
"""
QUEUE_QUERY = """
query Queue($order: AfterSaleOrder) {
  afterSales(orderBy: $order, first: 50) {
    totalCount
    edges { cursor node { id type status sellerResponseDeadline createdAt } }
  }
}
"""


def stats_body() -> bytes:
    return orjson.dumps({"query": STATS_QUERY})


def queue_body(order: str) -> bytes:
    return orjson.dumps({"query": QUEUE_QUERY, "variables": {"order": order}})


def rss_mb(pid: int) -> float:
    """The process's resident memory now (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def export(url: str, token: str, pid: int) -> tuple[float, float, int]:
    """(rows a second, RSS growth in MB, rows) of one full export."""
    before = rss_mb(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, rss_mb(pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rows = -1  # the header
    started = time.perf_counter()
    try:
        with (
            httpx.Client(base_url=url, timeout=600) as client,
            client.stream(
                "GET", "/export/after-sales.csv", headers={"Authorization": f"Bearer {token}"}
            ) as response,
        ):
            response.raise_for_status()
            for chunk in response.iter_bytes():
                rows += chunk.count(b"\r\n")
    finally:
        done.set()
        sampler.join()
    took = time.perf_counter() - started
    return rows / took, max(peak, rss_mb(pid)) - before, rows
