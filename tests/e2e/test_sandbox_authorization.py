"""The stand-in TikTok's shop authorization: a deauthorized shop's token and refresh token are
refused as TikTok refuses them, types 6 and 7 are pushed signed in TikTok's layout, Get
Authorized Shops lists the shop with its cipher, and shop calls without (or with another) cipher
are refused with TikTok's codes; its control routes refuse odd requests by name."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aftersales.tiktok.signing import sign
from devtools.sandbox import Sandbox, build_sandbox
from devtools.sandbox.envelope import (
    BAD_CREDENTIALS,
    BAD_REFRESH_TOKEN,
    CIPHER_MISSING,
    OK,
    TOKEN_NOT_FOR_SHOP,
)
from tests.support.sandbox import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    CIPHER,
    REFRESH_TOKEN,
    SHOP_ID,
    serving,
)
from webhooks.signing import tiktok_signature


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = build_sandbox(APP_KEY, APP_SECRET)
    sandbox.add_shop(SHOP_ID, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN)
    return sandbox


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


async def signed_get(
    http: httpx.AsyncClient, path: str, *, cipher: str | None, token: str = ACCESS_TOKEN
) -> dict[str, Any]:
    query = {"app_key": APP_KEY, "timestamp": str(int(time.time()))}
    if cipher is not None:
        query["shop_cipher"] = cipher
    query["sign"] = sign(APP_SECRET, path, query, b"")
    response = await http.get(path, params=query, headers={"x-tts-access-token": token})
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


async def refresh(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    query = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "refresh_token": token,
        "grant_type": "refresh_token",
    }
    answer: dict[str, Any] = (await http.get("/api/v2/token/refresh", params=query)).json()
    return answer


REASONS = "/return_refund/202309/reject_reasons"
SHOPS = "/authorization/202309/shops"


async def test_get_authorized_shops_lists_the_shop_with_its_cipher(http: httpx.AsyncClient) -> None:
    answer = await signed_get(http, SHOPS, cipher=None)

    assert answer["code"] == OK
    [shop] = answer["data"]["shops"]
    assert (shop["id"], shop["cipher"]) == (SHOP_ID, CIPHER)


async def test_shop_calls_without_their_cipher_are_refused(http: httpx.AsyncClient) -> None:
    missing = await signed_get(http, REASONS, cipher=None)
    other = await signed_get(http, REASONS, cipher="ROW_someone-else")

    assert missing["code"] == CIPHER_MISSING
    assert missing["message"].startswith("Missing identifier. The shop_cipher query parameter")
    assert other["code"] == TOKEN_NOT_FOR_SHOP


async def test_a_deauthorized_shop_is_refused_until_it_is_authorized_again(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    revoked = await http.post(f"/sandbox/shops/{SHOP_ID}/deauthorize", json={"webhook": False})

    shops = await signed_get(http, SHOPS, cipher=None)
    refreshed = await refresh(http, REFRESH_TOKEN)
    sandbox.add_shop(SHOP_ID, cipher=CIPHER, access_token="TTP_again", refresh_token="TTP_r2")
    again = await signed_get(http, SHOPS, cipher=None, token="TTP_again")

    assert revoked.status_code == 200 and revoked.json()["deauthorized"] is True
    assert shops["code"] == BAD_CREDENTIALS
    assert "x-tts-access-token header is invalid" in shops["message"]
    assert refreshed["code"] == BAD_REFRESH_TOKEN
    assert again["code"] == OK


async def test_types_6_and_7_are_pushed_signed_in_tiktoks_layout(sandbox: Sandbox) -> None:
    received: list[tuple[dict[str, Any], bool]] = []

    async def hook(request: Request) -> Response:
        body = await request.body()
        signed = request.headers["authorization"] == tiktok_signature(APP_KEY, APP_SECRET, body)
        received.append((json.loads(body), signed))
        return Response(status_code=200)

    async with serving(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as url:
        sandbox.webhook_url = url + "/hook"
        ends = sandbox.announce_expiry(SHOP_ID, 1_900_000_000)
        sandbox.deauthorize(SHOP_ID)
        await sandbox.wait_for_webhooks()

    (seven, seven_signed), (six, six_signed) = received
    assert seven_signed and six_signed
    assert (seven["type"], seven["shop_id"]) == (7, SHOP_ID)
    assert seven["data"]["expiration_time"] == str(ends) == "1900000000"
    assert (six["type"], six["shop_id"]) == (6, SHOP_ID)
    assert six["data"]["message"] == f"Shop_id {SHOP_ID} is deauthorized from your APP by merchant."
    assert [push.status for push in sandbox.webhooks] == [200, 200]


@pytest.mark.parametrize(
    ("route", "body", "status", "named"),
    [
        ("/sandbox/shops/404/deauthorize", {}, 404, "unknown shop"),
        ("/sandbox/shops/404/expiring", {}, 404, "unknown shop"),
        (f"/sandbox/shops/{SHOP_ID}/deauthorize", {"webhook": "no"}, 400, "webhook"),
        (f"/sandbox/shops/{SHOP_ID}/expiring", {"expiration_time": "soon"}, 400, "expiration_time"),
        (f"/sandbox/shops/{SHOP_ID}/expiring", {"expiration_time": -1}, 400, "expiration_time"),
    ],
)
async def test_odd_authorization_controls_are_refused_by_name(
    sandbox: Sandbox,
    http: httpx.AsyncClient,
    route: str,
    body: dict[str, Any],
    status: int,
    named: str,
) -> None:
    response = await http.post(route, json=body)

    assert response.status_code == status
    assert named in response.json()["error"]
    assert sandbox.shops[SHOP_ID].access_token == ACCESS_TOKEN  # nothing revoked
