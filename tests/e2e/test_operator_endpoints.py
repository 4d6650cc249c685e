"""OPERATOR_TOKEN (api/auth.py, docs/configuration.md#endpoints-for-operators): when set, what a
process says about itself (/metrics, /health/jobs, /readyz) needs it; the liveness probes stay
open, and seller tokens do not open operator endpoints."""

from __future__ import annotations

from dataclasses import replace

import pytest

from aftersales.settings import Settings, load_settings
from tests.support.builders import make_seller
from tests.support.http import AppClient

OPERATOR_TOKEN = "operator-token-for-tests-0123456789"
PROTECTED = ["/metrics", "/health/jobs", "/readyz"]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, operator_token=OPERATOR_TOKEN)


@pytest.mark.parametrize("path", PROTECTED)
async def test_an_operator_endpoint_without_the_operator_token_is_a_401(
    app: AppClient, path: str
) -> None:
    seller = await make_seller()

    anonymous = await app.client.get(path)
    as_seller = await app.client.get(path, headers={"Authorization": f"Bearer {seller.token}"})

    assert (anonymous.status_code, as_seller.status_code) == (401, 401)
    assert anonymous.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "OPERATOR_TOKEN" in anonymous.json()["errors"][0]["message"]


@pytest.mark.parametrize("path", PROTECTED)
async def test_an_operator_endpoint_answers_with_the_operator_token(
    app: AppClient, path: str
) -> None:
    response = await app.client.get(path, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/health"])
async def test_the_liveness_probes_stay_open(app: AppClient, path: str) -> None:
    response = await app.client.get(path)

    assert response.status_code == 200


def test_the_operator_token_is_read_from_the_environment_and_never_shown() -> None:
    settings = load_settings({"OPERATOR_TOKEN": f"  {OPERATOR_TOKEN} "})

    assert settings.operator_token == OPERATOR_TOKEN
    assert OPERATOR_TOKEN not in repr(settings)
    assert load_settings({"OPERATOR_TOKEN": ""}).operator_token is None
