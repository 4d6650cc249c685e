"""The webhook endpoints' Prometheus counter, exposed by GET /metrics (api/metrics.py).

It lives here, beside the endpoints that count, because `webhooks` may not import `api` (the
layers contract in pyproject.toml); `api.metrics` imports it instead. Metric objects register
in prometheus_client's process-wide registry, so there is exactly one of each per process.
"""

from __future__ import annotations

from prometheus_client import Counter

from aftersales.domain.outcome import Outcome
from aftersales.store.deliveries import LOGISTICS, TIKTOK

DELIVERIES = Counter(
    "aftersales_webhook_deliveries",
    "Webhook deliveries recorded in the delivery log, by source and outcome",
    ["source", "outcome"],
)

# Every pair starts at 0, so a rate or an alert works before the first delivery of its kind.
# PROCESSING never commits: a delivery always ends with another outcome.
for _source in (TIKTOK, LOGISTICS):
    for _outcome in Outcome:
        if _outcome is not Outcome.PROCESSING:
            DELIVERIES.labels(source=_source, outcome=_outcome.value)


def delivered(source: str, outcome: Outcome) -> None:
    """Count one delivery the delivery log recorded with `outcome`."""
    DELIVERIES.labels(source=source, outcome=outcome.value).inc()
