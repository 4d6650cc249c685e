"""A TikTok-only seller runs production without LOGISTICS_WEBHOOK_SECRET: the tracking feed's
endpoint is off and says so, and production starts without it."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from aftersales.settings import ConfigError, load_settings
from webhooks.endpoints import routes

PRODUCTION = {
    "AFTERSALES_ENV": "production",
    "TIKTOK_APP_KEY": "68r3u7hp5kd1g",
    "TIKTOK_APP_SECRET": "s" * 32,
}


async def _post_logistics(env: dict[str, str]) -> httpx.Response:
    app = Starlette(routes=routes(load_settings(env), lambda: datetime.now(UTC)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/webhooks/logistics", content=b"{}")


async def test_production_without_a_logistics_secret_answers_404_naming_the_setting() -> None:
    response = await _post_logistics(PRODUCTION)

    assert response.status_code == 404
    assert "LOGISTICS_WEBHOOK_SECRET is not set" in response.json()["error"]


async def test_production_with_a_logistics_secret_checks_the_signature() -> None:
    response = await _post_logistics({**PRODUCTION, "LOGISTICS_WEBHOOK_SECRET": "l" * 32})

    assert response.status_code == 401


def test_production_starts_without_a_logistics_secret() -> None:
    load_settings(PRODUCTION).check_production()  # raises nothing


def test_production_still_refuses_a_short_logistics_secret() -> None:
    settings = load_settings({**PRODUCTION, "LOGISTICS_WEBHOOK_SECRET": "short"})

    with pytest.raises(ConfigError, match=r"LOGISTICS_WEBHOOK_SECRET \(5 bytes\)"):
        settings.check_production()
