"""The stand-in's OAuth: its authorization page redirects with a code, `token/get` turns a code
into one token pair for the shops it covers, once, and refuses the wrong app or code with
TikTok's envelope; Get Authorized Shops then lists them all (over HTTP through its ASGI app; no
database). The client's `get_token` and `authorized_shops` read those answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from aftersales.tiktok.client import Credentials, TikTokClient, TikTokError
from devtools.sandbox import Sandbox, build_sandbox
from devtools.sandbox.authorize import INVALID_AUTH_CODE
from devtools.sandbox.envelope import BAD_CREDENTIALS, BAD_PARAM, OK
from tests.support.sandbox import APP_KEY, APP_SECRET

CALLBACK = "http://127.0.0.1:8000/oauth/tiktok/callback"
ONE, TWO = "7494049642642441621", "7494049642642441622"


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = build_sandbox(APP_KEY, APP_SECRET, redirect_url=CALLBACK)
    sandbox.add_shop(ONE, cipher="ROW_one", access_token="a1", refresh_token="r1", name="One")
    sandbox.add_shop(
        TWO, cipher="ROW_two", access_token="a2", refresh_token="r2", name="Two", region="MY"
    )
    return sandbox


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[TikTokClient]:
    async with TikTokClient(
        base_url="http://sandbox",
        auth_base_url="http://sandbox",
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        max_retries=0,
        transport=httpx.ASGITransport(app=sandbox.app),
    ) as made:
        yield made


def _code(redirect: str) -> str:
    return parse_qs(urlsplit(redirect).query)["code"][0]


async def _token_get(http: httpx.AsyncClient, **query: str) -> Any:
    params = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "grant_type": "authorized_code",
        **query,
    }
    return (await http.get("/api/v2/token/get", params=params)).json()


async def test_the_authorize_page_links_each_shop_and_redirects_with_a_code(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/open/authorize", params={"service_id": "7310", "state": "S<1>"})
    grant = await http.get("/open/authorize/grant", params={"state": "S<1>", "shop_id": TWO})

    assert page.status_code == 200
    assert f"shop_id={TWO}" in page.text and "Authorize all shops" in page.text
    assert "S<1>" not in page.text  # escaped
    assert grant.status_code == 302
    location = urlsplit(grant.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert parse_qs(location.query)["state"] == ["S<1>"]
    assert parse_qs(location.query)["code"][0].startswith("SBXCODE_")


@pytest.mark.parametrize(
    "query", [{"state": "S"}, {"service_id": "7310"}, {"service_id": "", "state": "S"}]
)
async def test_the_authorize_page_needs_a_service_id_and_a_state(
    http: httpx.AsyncClient, query: dict[str, str]
) -> None:
    page = await http.get("/open/authorize", params=query)

    assert page.status_code == 400


async def test_without_a_redirect_url_the_page_says_how_to_set_one(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    sandbox.redirect_url = None
    before = await http.get("/open/authorize", params={"service_id": "1", "state": "S"})

    set_url = await http.post("/sandbox/redirect-url", json={"url": "https://x.example/cb"})
    after = await http.get("/open/authorize/grant", params={"state": "S"})
    bad = await http.post("/sandbox/redirect-url", json={"url": "ftp://x"})

    assert before.status_code == 400 and "--redirect-url" in before.text
    assert set_url.status_code == 200
    assert after.headers["location"].startswith("https://x.example/cb?code=")
    assert bad.status_code == 400


async def test_a_code_gives_one_token_pair_for_its_shops_once(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    code = _code(sandbox.authorize("S"))

    first = await _token_get(http, auth_code=code)
    second = await _token_get(http, auth_code=code)

    assert first["code"] == OK
    data = first["data"]
    assert sandbox.shops[ONE].access_token == sandbox.shops[TWO].access_token
    assert data["access_token"] == sandbox.shops[ONE].access_token
    assert data["refresh_token"] == sandbox.shops[TWO].refresh_token
    assert second["code"] == INVALID_AUTH_CODE and "data" not in second
    recorded = [c for c in sandbox.calls if c.path == "/api/v2/token/get"]
    assert {c.query["auth_code"] for c in recorded} == {"***"}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"app_key": "other"}, BAD_CREDENTIALS),
        ({"app_secret": "wrong"}, BAD_CREDENTIALS),
        ({"grant_type": "refresh_token"}, BAD_PARAM),
        ({"auth_code": "SBXCODE_unknown"}, INVALID_AUTH_CODE),
    ],
)
async def test_token_get_refuses_the_wrong_app_grant_or_code(
    sandbox: Sandbox, http: httpx.AsyncClient, query: dict[str, str], code: int
) -> None:
    issued = _code(sandbox.authorize("S"))

    answer = await _token_get(http, **{"auth_code": issued, **query})

    assert answer["code"] == code
    assert sandbox.shops[ONE].access_token == "a1"  # nothing changed


async def test_an_expired_code_is_refused(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    code = _code(sandbox.authorize("S"))
    sandbox.auth_codes[code].expires_at = sandbox.seconds()

    answer = await _token_get(http, auth_code=code)

    assert answer["code"] == INVALID_AUTH_CODE


async def test_the_client_gets_the_pair_then_every_shop_with_its_cipher(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    grant = await client.get_token(_code(sandbox.authorize("S", ONE, TWO)))
    shops = await client.authorized_shops(grant.access_token)

    assert [(s.shop_id, s.name, s.region, s.cipher) for s in shops] == [
        (ONE, "One", "ID", "ROW_one"),
        (TWO, "Two", "MY", "ROW_two"),
    ]
    assert grant.refresh_token == sandbox.shops[ONE].refresh_token
    assert int(grant.access_token_expires_at.timestamp()) == sandbox.shops[ONE].access_expires_at


async def test_a_shop_of_one_authorization_is_reached_by_its_cipher(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    grant = await client.get_token(_code(sandbox.authorize("S")))
    sandbox.put_return(TWO, {"return_id": "900", "return_type": "REFUND"})

    page = await client.search_returns(Credentials(grant.access_token, "ROW_two"))

    assert [r["return_id"] for r in page.returns] == ["900"]


async def test_a_refused_code_never_shows_in_the_error(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    with pytest.raises(TikTokError) as refused:
        await client.get_token("SBXCODE_secret-code")

    assert refused.value.code == INVALID_AUTH_CODE
    assert "SBXCODE_secret-code" not in str(refused.value)
