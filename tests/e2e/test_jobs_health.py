"""GET /health/jobs: operators see when the sweep and the parcel rematch last ran, what they did,
and what failed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduler import jobs
from tests.support.builders import make_sale, make_seller
from tests.support.clock import T0
from tests.support.http import AppClient
from tests.support.webhooks import only_sale, parcel_body, post_parcel


async def _health(app: AppClient) -> tuple[int, dict[str, object]]:
    response = await app.client.get("/health/jobs")
    [job] = [j for j in response.json()["jobs"] if j["name"] == "dispute_sweep"]
    return response.status_code, job


async def test_a_sweep_that_never_ran_is_reported_as_such(app: AppClient) -> None:
    status_code, job = await _health(app)

    assert status_code == 200
    assert job["status"] == "never_run"
    assert job["interval_seconds"] == 60


async def test_the_last_run_shows_its_time_and_count(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller, status="RETURN_OR_REFUND_REQUEST_REJECT", at=T0)
    app.clock.current = T0 + timedelta(days=2)

    run = await jobs.run_sweep(app.clock.now)
    status_code, job = await _health(app)

    assert run.closed == 1
    assert status_code == 200
    assert job["status"] == "ok"
    assert job["last_count"] == 1
    assert job["last_error"] is None
    assert job["runs"] == 1
    assert job["last_finished_at"] == (T0 + timedelta(days=2)).isoformat()


async def test_a_failing_sweep_shows_its_error_and_answers_503(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr(jobs, "sweep_expired_disputes", broken)

    run = await jobs.run_sweep(app.clock.now)
    status_code, job = await _health(app)

    assert run.error == "RuntimeError: database went away"
    assert status_code == 503
    assert job["status"] == "failing"
    # The class only: the text may name hosts or data; the log has it.
    assert job["last_error"] == "RuntimeError (the service's log has the details)"
    assert "database went away" not in str(job)


async def test_the_next_good_run_clears_the_error(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(jobs, "sweep_expired_disputes", _raise)
        await jobs.run_sweep(app.clock.now)

    await jobs.run_sweep(app.clock.now)
    status_code, job = await _health(app)

    assert (status_code, job["status"], job["last_error"], job["runs"]) == (200, "ok", None, 2)


async def test_a_sweep_that_stopped_running_is_late_and_answers_503(app: AppClient) -> None:
    await jobs.run_sweep(app.clock.now)

    app.clock.advance(minutes=3, seconds=1)  # three 60 s intervals without a run
    status_code, job = await _health(app)

    assert status_code == 503
    assert job["status"] == "late"


async def _raise(*args: object, **kwargs: object) -> int:
    raise RuntimeError("boom")


async def _rematch_health(app: AppClient) -> tuple[int, dict[str, object]]:
    response = await app.client.get("/health/jobs")
    [job] = [j for j in response.json()["jobs"] if j["name"] == "parcel_rematch"]
    return response.status_code, job


async def test_the_parcel_rematch_is_listed_before_it_ever_ran(app: AppClient) -> None:
    status_code, job = await _rematch_health(app)

    assert status_code == 200
    assert (job["status"], job["interval_seconds"], job["runs"]) == ("never_run", 60, 0)


async def test_a_rematch_run_shows_the_events_it_applied(app: AppClient) -> None:
    seller = await make_seller()
    posted = await post_parcel(app, parcel_body(shop_id=seller.shop_id, status="DELIVERED"))
    assert posted.status_code == 200
    # The return is created as if it raced the event: without looking for waiting events.
    await make_sale(seller, status="BUYER_SHIPPED_ITEM", return_id="576486316948490001")
    app.clock.advance(minutes=1)

    run = await jobs.run_rematch(app.clock.now)
    status_code, job = await _rematch_health(app)

    assert run.applied == 1
    assert status_code == 200
    assert (job["status"], job["last_count"], job["last_error"], job["runs"]) == ("ok", 1, None, 1)
    assert job["last_finished_at"] == (T0 + timedelta(minutes=1)).isoformat()
    sale = await only_sale(app, seller.token)
    assert (sale["returnStatus"], sale["returnedAt"][:19]) == ("RETURNED", "2026-11-20T10:00:00")


async def test_a_failing_rematch_shows_its_error_and_answers_503(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "rematch_unmatched", _raise)

    run = await jobs.run_rematch(app.clock.now)
    status_code, job = await _rematch_health(app)

    assert run.error == "RuntimeError: boom"
    assert (status_code, job["status"]) == (503, "failing")
    assert job["last_error"] == "RuntimeError (the service's log has the details)"
