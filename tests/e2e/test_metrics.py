"""GET /metrics: Prometheus sees requests by route template and status, their latency, webhook
deliveries by source and outcome, and what each timer job did and when it last succeeded.

The metrics are process-wide counters, so each test compares a scrape after with one before.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aftersales.commands.sweep import SweepBusy
from aftersales.domain.outcome import Outcome
from aftersales.inbox import payloads
from aftersales.inbox import receive as inbox
from scheduler import jobs
from tests.support.builders import make_sale, make_seller
from tests.support.clock import T0
from tests.support.http import AppClient
from tests.support.webhooks import envelope, parcel_body, post_parcel, post_tiktok, return_data

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(app: AppClient) -> Samples:
    response = await app.client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_metrics_are_served_in_the_prometheus_text_format(app: AppClient) -> None:
    response = await app.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    families = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "aftersales_http_requests",
        "aftersales_http_request_duration_seconds",
        "aftersales_webhook_deliveries",
        "aftersales_job_runs",
        "aftersales_dispute_sweep_closed",
        "aftersales_parcel_rematch_applied",
        "process_cpu_seconds",
    } <= families


async def test_requests_are_counted_by_route_template_and_status_not_by_raw_path(
    app: AppClient,
) -> None:
    before = await scrape(app)

    for sale_id in (101, 102, 103):
        assert (await app.client.get(f"/labels/{sale_id}.pdf")).status_code == 401
    assert (await app.client.get("/no/such/page/12345")).status_code == 404
    after = await scrape(app)

    counter = "aftersales_http_requests_total"
    route = "/labels/{after_sale_id}.pdf"
    assert grew(before, after, counter, method="GET", route=route, status="401") == 3
    assert grew(before, after, counter, method="GET", route="unmatched", status="404") == 1
    seen_routes = {dict(labels).get("route") for _, labels in after}
    assert not any(r and ("101" in r or "12345" in r) for r in seen_routes)


async def test_an_unusual_method_is_counted_as_other(app: AppClient) -> None:
    before = await scrape(app)

    response = await app.client.request("BREW", "/healthz")
    after = await scrape(app)

    assert response.status_code == 405
    counter = "aftersales_http_requests_total"
    assert grew(before, after, counter, method="OTHER", route="/healthz", status="405") == 1


async def test_each_request_is_timed_in_the_latency_histogram_of_its_route(
    app: AppClient,
) -> None:
    before = await scrape(app)

    await app.client.get("/healthz")
    await app.client.get("/healthz")
    after = await scrape(app)

    histogram = "aftersales_http_request_duration_seconds"
    assert grew(before, after, f"{histogram}_count", method="GET", route="/healthz") == 2
    assert grew(before, after, f"{histogram}_sum", method="GET", route="/healthz") > 0
    bucket = {"method": "GET", "route": "/healthz", "le": "10.0"}
    assert grew(before, after, f"{histogram}_bucket", **bucket) == 2


async def test_every_source_and_outcome_is_exposed_from_zero(app: AppClient) -> None:
    samples = await scrape(app)

    labels = {
        (dict(labels)["source"], dict(labels)["outcome"])
        for name, labels in samples
        if name == "aftersales_webhook_deliveries_total"
    }
    outcomes = {outcome.value for outcome in Outcome} - {"processing"}
    assert labels == {(source, o) for source in ("tiktok", "logistics") for o in outcomes}


async def test_webhook_deliveries_are_counted_by_source_and_the_outcome_recorded(
    app: AppClient,
) -> None:
    before = await scrape(app)
    report = envelope("7494049642642449000", return_data("RETURN_OR_REFUND_REQUEST_PENDING"))

    assert (await post_tiktok(app, report)).status_code == 200  # no such shop: it waits
    assert (await post_tiktok(app, report)).status_code == 200  # the same delivery again
    assert (await post_tiktok(app, b'{"type": 12}')).status_code == 200  # signed, malformed
    assert (await post_tiktok(app, report, signature="0" * 64)).status_code == 401
    assert (await post_parcel(app, parcel_body(event_id="metrics-1"))).status_code == 200
    after = await scrape(app)

    counter = "aftersales_webhook_deliveries_total"
    assert grew(before, after, counter, source="tiktok", outcome="unknown_shop") == 1
    assert grew(before, after, counter, source="tiktok", outcome="duplicate") == 1
    assert grew(before, after, counter, source="tiktok", outcome="rejected") == 1
    assert grew(before, after, counter, source="logistics", outcome="unknown_shop") == 1
    tiktok_total = sum(
        v - before.get(k, 0.0)
        for k, v in after.items()
        if k[0] == counter and ("source", "tiktok") in k[1]
    )
    assert tiktok_total == 3  # the unsigned one stored nothing, so it is not a delivery


async def test_a_sweep_counts_what_it_closed_and_when_it_last_succeeded(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller, status="RETURN_OR_REFUND_REQUEST_REJECT", at=T0)
    app.clock.current = T0 + timedelta(days=2)
    before = await scrape(app)

    run = await jobs.run_sweep(app.clock.now)
    after = await scrape(app)

    assert run.closed == 1
    assert grew(before, after, "aftersales_dispute_sweep_closed_total") == 1
    assert grew(before, after, "aftersales_job_runs_total", job="dispute_sweep", outcome="ok") == 1
    last_success = "aftersales_job_last_success_timestamp_seconds"
    assert value(after, last_success, job="dispute_sweep") == app.clock.current.timestamp()


async def test_a_rematch_counts_what_it_applied_and_when_it_last_succeeded(
    app: AppClient,
) -> None:
    seller = await make_seller()
    body = parcel_body(shop_id=seller.shop_id, event_id="metrics-e1", status="DELIVERED")
    await inbox.receive_parcel_event(body, {}, payloads.parse_parcel_event(body), now=T0)
    # Created as if it raced the event: without looking for it.
    await make_sale(seller, status="BUYER_SHIPPED_ITEM", return_id="576486316948490001")
    app.clock.current = T0 + timedelta(minutes=1)
    before = await scrape(app)

    run = await jobs.run_rematch(app.clock.now)
    after = await scrape(app)

    assert run.applied == 1
    assert grew(before, after, "aftersales_parcel_rematch_applied_total") == 1
    job = "parcel_rematch"
    assert grew(before, after, "aftersales_job_runs_total", job=job, outcome="ok") == 1
    last_success = "aftersales_job_last_success_timestamp_seconds"
    assert value(after, last_success, job=job) == app.clock.current.timestamp()


async def test_a_failed_run_is_counted_and_keeps_the_last_success_time(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.clock.current = T0 + timedelta(days=3)
    await jobs.run_sweep(app.clock.now)

    async def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(jobs, "sweep_expired_disputes", broken)
    before = await scrape(app)
    app.clock.current = T0 + timedelta(days=4)

    await jobs.run_sweep(app.clock.now)
    after = await scrape(app)

    runs = "aftersales_job_runs_total"
    assert grew(before, after, runs, job="dispute_sweep", outcome="failed") == 1
    assert grew(before, after, runs, job="dispute_sweep", outcome="ok") == 0
    last_success = "aftersales_job_last_success_timestamp_seconds"
    assert value(after, last_success, job="dispute_sweep") == (T0 + timedelta(days=3)).timestamp()


async def test_a_sweep_skipped_for_another_process_is_counted_as_skipped(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def busy(*args: object, **kwargs: object) -> int:
        raise SweepBusy("another process is sweeping expired disputes")

    monkeypatch.setattr(jobs, "sweep_expired_disputes", busy)
    before = await scrape(app)

    await jobs.run_sweep(app.clock.now)
    after = await scrape(app)

    runs = "aftersales_job_runs_total"
    assert grew(before, after, runs, job="dispute_sweep", outcome="skipped") == 1
