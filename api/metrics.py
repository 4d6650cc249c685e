"""GET /metrics in the Prometheus text format, and the middleware that counts HTTP requests.

What it exposes (one process's view; each replica is scraped on its own):

- `aftersales_http_requests_total{method, route, status}` and
  `aftersales_http_request_duration_seconds{method, route}` (a histogram). `route` is the
  route's template (`/labels/{sale_id}.pdf`), never the raw path, so ids do not make new series;
  a path no route matches is `unmatched`, an unusual method `OTHER`.
- `aftersales_webhook_deliveries_total{source, outcome}` (webhooks/metrics.py): `outcome` is
  what the delivery log recorded (aftersales.domain.outcome.Outcome).
- `aftersales_job_runs_total{job, outcome}`, `aftersales_dispute_sweep_closed_total`,
  `aftersales_parcel_rematch_applied_total`, `aftersales_job_last_success_timestamp_seconds{job}`
  (scheduler/metrics.py).
- `aftersales_shops{connection}`: the shops in each connection state (LOCAL_ONLY, CONNECTED,
  EXPIRING, DISCONNECTED, every one present), read from the database at each scrape, so every
  replica shows the same figures; left as they were when the database does not answer.
- prometheus_client's own process metrics (CPU, memory, open files, start time) and Python's
  (GC, version).

The webhook and job metrics are defined beside the code that counts them, because `webhooks`
and `scheduler` may not import `api`; they share prometheus_client's process-wide registry,
which this module serves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

import prometheus_client
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aftersales.commands.connection import shops_by_connection
from aftersales.domain.connection import ShopConnection
from aftersales.settings import Settings
from scheduler import metrics as job_metrics
from webhooks import metrics as webhook_metrics

# Counters' `_created` series double the output for nothing a dashboard here uses.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Webhooks answer in ~5 ms, a GraphQL page in ~20 ms; TikTok gives up after 3 s.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "aftersales_http_requests",
    "HTTP requests answered, by method, route template and status code",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "aftersales_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template",
    ["method", "route"],
    buckets=BUCKETS,
)

SHOPS = Gauge(
    "aftersales_shops",
    "Shops by their connection to TikTok (LOCAL_ONLY, CONNECTED, EXPIRING, DISCONNECTED)",
    ["connection"],
)
for _state in ShopConnection:
    SHOPS.labels(connection=_state.value)

log = logging.getLogger(__name__)

# The modules that define the other metrics: imported so /metrics always shows them.
DEFINED_ELSEWHERE = (webhook_metrics.DELIVERIES, job_metrics.RUNS)


def route_template(scope: Scope) -> str:
    """The template of the route that handled the request (Starlette's router leaves it in
    the scope), or `unmatched`."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return route.path + "/{path}"
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI: streaming responses pass through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = route_template(scope)
            REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)


def routes(settings: Settings, clock: Callable[[], datetime]) -> list[BaseRoute]:
    async def metrics(_: Request) -> Response:
        try:
            counts = await shops_by_connection(settings.sync_enabled, now=clock())
        except Exception as exc:  # the database is down: the other metrics still answer
            log.warning("shops by connection state not read for /metrics: %s", exc)
        else:
            for state, n in counts.items():
                SHOPS.labels(connection=state).set(n)
        body = prometheus_client.generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", metrics, methods=["GET"])]
