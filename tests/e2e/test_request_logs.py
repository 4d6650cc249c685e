"""Request ids and log lines: every line logged while a request is handled carries its id, the
response echoes it, and LOG_FORMAT=json writes one JSON object a line for log shippers.

Logging goes to a buffer here through `api.logs.configure`, the setup `aftersales` itself uses;
tests/e2e/test_serve_operations.py checks the same with a real `aftersales serve`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx

from api import logs
from api.app import create_app
from tests.support.http import AppClient
from tests.support.webhooks import envelope, return_data

GENERATED = re.compile(r"[0-9a-f]{32}")


@contextlib.contextmanager
def logging_to(log_format: str) -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    root, tortoise = logging.getLogger(), logging.getLogger("tortoise")
    levels = root.level, tortoise.level
    handler = logs.configure(log_format, stream=buffer)
    try:
        yield buffer
    finally:  # what configure changed, as it was
        root.removeHandler(handler)
        root.setLevel(levels[0])
        tortoise.setLevel(levels[1])
        logging.captureWarnings(False)


def json_lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    """The service's lines (the test's HTTP client, httpx, logs each request it sends too)."""
    found = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return [line for line in found if line["logger"] != "httpx"]


async def test_a_request_without_an_id_gets_a_new_one_in_its_response(app: AppClient) -> None:
    first = await app.client.get("/healthz")
    second = await app.client.get("/healthz")

    assert GENERATED.fullmatch(first.headers["x-request-id"])
    assert GENERATED.fullmatch(second.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_sane_request_id_from_the_client_is_kept_and_echoed(app: AppClient) -> None:
    sent = "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"

    response = await app.client.get("/healthz", headers={"X-Request-ID": sent})

    assert response.headers.get_list("x-request-id") == [sent]


async def test_a_request_id_that_is_not_sane_is_replaced(app: AppClient) -> None:
    for sent in ("a" * 129, "two words", "quote'd", "émoji-✓".encode(), ""):
        response = await app.client.get("/healthz", headers={"X-Request-ID": sent})

        assert GENERATED.fullmatch(response.headers["x-request-id"]), sent
        assert response.headers.get_list("x-request-id") == [response.headers["x-request-id"]]


async def test_every_line_logged_during_a_request_carries_its_id(app: AppClient) -> None:
    # Without its secrets the TikTok endpoint logs a warning while handling the request.
    settings = dataclasses.replace(app.settings, tiktok_app_key=None, tiktok_app_secret=None)
    asgi = create_app(settings, clock=app.clock.now, manage_database=False, run_jobs=False)
    body = envelope("7494049642642449000", return_data("RETURN_OR_REFUND_REQUEST_PENDING"))

    with logging_to("json") as buffer:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://testserver"
        ) as client:
            response = await client.post(
                "/webhooks/tiktok",
                content=body,
                headers={"Authorization": "0" * 64, "X-Request-ID": "req-42"},
            )
        logging.getLogger("aftersales.test").info("after the request")

    assert response.status_code == 503  # TikTok retries a 503; a 401 would be final
    lines = json_lines(buffer)
    warning, access, after = lines
    assert warning["logger"] == "webhooks.endpoints"
    assert warning["level"] == "WARNING"
    assert "TIKTOK_APP_SECRET not set" in warning["message"]
    assert warning["request_id"] == "req-42"
    assert access["logger"] == "aftersales.access"
    assert access["request_id"] == "req-42"
    assert "request_id" not in after


async def test_each_request_is_logged_once_with_its_method_path_status_and_time(
    app: AppClient,
) -> None:
    with logging_to("json") as buffer:
        await app.client.get("/labels/7.pdf?download=1", headers={"X-Request-ID": "r-7"})

    [line] = json_lines(buffer)
    assert line["logger"] == "aftersales.access"
    assert line["level"] == "INFO"
    assert line["message"].startswith("127.0.0.1 GET /labels/7.pdf 401 ")
    assert line["method"] == "GET"
    assert line["path"] == "/labels/7.pdf"  # no query string: it may carry secrets
    assert line["status"] == 401
    assert line["duration_ms"] >= 0
    assert line["request_id"] == "r-7"
    assert set(line) >= {"time", "level", "logger", "message", "request_id"}


async def test_text_lines_end_with_the_request_id(app: AppClient) -> None:
    with logging_to("text") as buffer:
        await app.client.get("/healthz", headers={"X-Request-ID": "text-1"})

    [line] = [line for line in buffer.getvalue().splitlines() if " httpx: " not in line]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO aftersales.access: "
        r"127\.0\.0\.1 GET /healthz 200 \d+\.\dms \[request_id=text-1\]",
        line,
    ), line
