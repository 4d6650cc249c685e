"""A webhook with a wrong or missing signature leaves one WARNING naming the header that failed
(webhooks/endpoints.py), never the signature sent or the secret, at most one per endpoint every
10 seconds, the next one counting those left out."""

from __future__ import annotations

import logging

import pytest

from tests.support.http import AppClient
from tests.support.webhooks import parcel_body, post_parcel, post_tiktok

WRONG = "0" * 64
LOGGER = "webhooks.endpoints"


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


async def test_a_wrong_tiktok_signature_is_logged_naming_the_header(
    app: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)

    response = await post_tiktok(app, b'{"type": 1}', signature=WRONG)

    assert response.status_code == 401
    [line] = warnings(caplog)
    assert "tiktok webhook refused" in line
    assert "Authorization header does not match the body" in line
    assert WRONG not in caplog.text
    assert app.settings.tiktok_app_secret not in caplog.text


async def test_a_missing_logistics_signature_is_logged_naming_the_header(
    app: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)

    response = await post_parcel(app, parcel_body(), sign=False)

    assert response.status_code == 401
    [line] = warnings(caplog)
    assert "X-Signature header is missing" in line
    assert app.settings.logistics_webhook_secret not in caplog.text


async def test_a_flood_of_bad_signatures_is_one_warning_per_ten_seconds_with_a_count(
    app: AppClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)

    for _ in range(5):
        await post_parcel(app, parcel_body(), signature=WRONG)
    app.clock.advance(seconds=9)
    await post_parcel(app, parcel_body(), signature=WRONG)
    first = warnings(caplog)
    app.clock.advance(seconds=2)
    await post_parcel(app, parcel_body(), signature=WRONG)
    await post_tiktok(app, b'{"type": 1}', signature=WRONG)  # another endpoint: its own limit

    assert len(first) == 1
    later = warnings(caplog)[1:]
    assert len(later) == 2
    assert "(5 more refused since the last warning)" in later[0]
    assert later[1].startswith("tiktok webhook refused")
