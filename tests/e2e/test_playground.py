"""The GraphiQL playground: served by the service itself, usable in a real browser offline."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from aftersales.settings import Settings
from tests.support.clock import Clock
from tests.support.http import AppClient
from tests.support.live import LiveServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _need_chromium() -> str:
    if CHROMIUM is None:
        if os.environ.get("REQUIRE_CHROMIUM") == "1":
            pytest.fail("REQUIRE_CHROMIUM=1 but no chromium executable is installed")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return CHROMIUM


async def test_browser_get_on_graphql_returns_the_playground_page(app: AppClient) -> None:
    response = await app.client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "GraphiQL" in response.text or "graphiql" in response.text
    assert "Authorization" in response.text
    assert not re.search(r"""(src|href)=["']https?://""", response.text)


async def test_every_playground_asset_is_served_locally(app: AppClient) -> None:
    page = (await app.client.get("/graphql", headers={"Accept": "text/html"})).text
    assets = re.findall(r"""(?:src|href)=["'](/graphiql/static/[^"']+)["']""", page)

    responses = [await app.client.get(path) for path in assets]

    assert len(assets) == 5
    assert [r.status_code for r in responses] == [200] * len(assets)


def test_playground_runs_the_example_query_in_a_real_browser_without_internet(
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    executable = _need_chromium()
    from playwright.sync_api import sync_playwright

    token = live_server.create_seller_token("playground-seller", "7494049642642441621", "ID")
    outside_requests: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route(
            re.compile(r"^https?://(?!127\.0\.0\.1)"),
            lambda route: (outside_requests.append(route.request.url), route.abort()),
        )
        page.goto(f"{live_server.url}/graphql")
        page.wait_for_selector(".graphiql-container", timeout=20_000)
        editor_text = page.inner_text(".graphiql-query-editor")
        # Paste the token into the Headers editor, as the hint above the editor says.
        page.evaluate(
            "token => document.querySelector('.graphiql-editor-tool .graphiql-editor:not(.hidden)"
            " .CodeMirror').CodeMirror"
            ".setValue(JSON.stringify({Authorization: 'Bearer ' + token}, null, 2))",
            token,
        )
        # Put the cursor inside the first operation and run it, as a user would.
        page.click(".graphiql-query-editor .CodeMirror-line >> text=query PendingReturns")
        with page.expect_response(
            lambda r: r.url.endswith("/graphql") and "PendingReturns" in (r.request.post_data or "")
        ) as answer:
            page.keyboard.press("Control+Enter")
        result = answer.value.json()
        page.wait_for_function(
            "() => document.querySelector('.result-window')"
            " && document.querySelector('.result-window').innerText.includes('afterSaleCounts')",
            timeout=20_000,
        )
        page.screenshot(path=os.environ.get("PLAYGROUND_SCREENSHOT", str(tmp_path / "shot.png")))
        # GraphiQL writes its tabs and history to storage after a 500 ms debounce: wait for both,
        # and for one more debounce, so the check below sees everything it stored.
        page.wait_for_function(
            "() => localStorage.getItem('graphiql:tabState') !== null"
            " && localStorage.getItem('graphiql:queries') !== null",
            timeout=20_000,
        )
        page.wait_for_timeout(700)
        stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage))")
        tabs = page.evaluate("JSON.parse(localStorage.getItem('graphiql:tabState')).tabs.length")
        browser.close()

    assert "PendingReturns" in editor_text
    assert "Authorization" in page_hint(live_server)
    assert result["data"]["afterSales"]["totalCount"] == 0
    assert len(result["data"]["afterSaleCounts"]) == 9
    assert "errors" not in result
    assert outside_requests == []
    assert tabs == 1
    assert token not in stored  # the bearer token is not kept in the browser's storage


def page_hint(server: LiveServer) -> str:
    return httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"}).text


async def test_the_playground_can_be_turned_off(settings: Settings, clock: Clock) -> None:
    from api.app import create_app

    off = create_app(
        replace(settings, graphiql=False), clock=clock.now, manage_database=False, run_jobs=False
    )
    transport = httpx.ASGITransport(app=off)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        asset = await client.get("/graphiql/static/playground.js")

    assert page.status_code == 404
    assert "GRAPHIQL=off" in page.json()["errors"][0]["message"]
    assert asset.status_code == 404
