"""GraphQL over HTTP (docs/graphql.md): GET for queries, both response media types, request
errors answered 400 in `application/graphql-response+json`, and graphql-http's own server audit
run against a real `aftersales serve` with node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.endpoint import GRAPHQL_RESPONSE, JSON, response_media_type
from tests.support.builders import make_seller
from tests.support.http import AppClient
from tests.support.live import LiveServer

SHOPS = "query Shops { shops { shopId } }"
ADD_NOTE = """
mutation AddNote($id: ID!) { addNote(input: {id: $id, text: "hi"}) { userErrors { code } } }
"""
PAGE = "query Page($first: Int!) { afterSales(first: $first) { totalCount } }"
GRAPHQL_HTTP = "graphql-http@1.23.1"
GRAPHQL_JS = "graphql@16.9.0"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json;q=0.5", JSON),
        ("application/graphql-response+json;q=0, application/json", JSON),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=oops", JSON),
    ],
)
def test_the_response_media_type_follows_the_accept_header(accept: str, expected: str) -> None:
    assert response_media_type(accept) == expected


async def _get(app: AppClient, token: str | None, **params: str) -> Any:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await app.client.get("/graphql", params=params, headers=headers)


async def test_a_query_can_be_sent_with_get(app: AppClient) -> None:
    seller = await make_seller()

    response = await _get(app, seller.token, query=SHOPS)

    assert response.status_code == 200
    assert response.json() == {"data": {"shops": [{"shopId": seller.shop_id}]}}


async def test_a_get_needs_the_token_too(app: AppClient) -> None:
    response = await _get(app, None, query=SHOPS)

    assert response.status_code == 401


async def test_a_mutation_sent_with_get_is_refused_and_changes_nothing(app: AppClient) -> None:
    seller = await make_seller()

    response = await _get(app, seller.token, query=ADD_NOTE, variables=json.dumps({"id": "1"}))

    assert response.status_code == 405
    assert "data" not in response.text


async def test_a_nul_character_in_get_variables_is_a_400(app: AppClient) -> None:
    seller = await make_seller()

    response = await _get(app, seller.token, query=PAGE, variables='{"first": "\\u0000"}')

    assert response.status_code == 400


async def _post(app: AppClient, token: str, accept: str, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    return await app.client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"query": "{ shops { shopId }"}, id="does not parse"),
        pytest.param({"query": "{ shops { noSuchField } }"}, id="does not validate"),
        pytest.param({"query": PAGE, "variables": {"first": "ten"}}, id="variable does not coerce"),
    ],
)
async def test_a_request_that_cannot_run_is_a_400_without_data_in_graphql_response_json(
    app: AppClient, body: dict[str, Any]
) -> None:
    seller = await make_seller()

    response = await _post(app, seller.token, GRAPHQL_RESPONSE, body)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json()
    assert response.json()["errors"]


async def test_the_same_request_is_a_200_with_data_null_in_legacy_json(app: AppClient) -> None:
    seller = await make_seller()

    response = await _post(app, seller.token, JSON, {"query": "{ shops { noSuchField } }"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON)
    assert response.json()["data"] is None


async def test_an_error_while_resolving_is_a_200_in_both_media_types(app: AppClient) -> None:
    seller = await make_seller()
    too_many = {"query": PAGE, "variables": {"first": 101}}

    responses = [await _post(app, seller.token, a, too_many) for a in (JSON, GRAPHQL_RESPONSE)]

    assert [r.status_code for r in responses] == [200, 200]
    assert [r.json()["errors"][0]["extensions"]["code"] for r in responses] == ["VALIDATION"] * 2
    assert responses[1].headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_a_success_in_graphql_response_json_carries_that_media_type(app: AppClient) -> None:
    seller = await make_seller()

    response = await _post(app, seller.token, GRAPHQL_RESPONSE, {"query": SHOPS})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"shops": [{"shopId": seller.shop_id}]}}


def _node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("REQUIRE_NODE") == "1":
            pytest.fail("REQUIRE_NODE=1 but node or npm is not installed")
        pytest.skip("node and npm are not installed: the graphql-http audit needs them")
    return node, npm


@pytest.fixture(scope="session")
def graphql_http(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """graphql-http (the reference implementation's audit suite), installed from the npm
    registry into a temporary folder once per run."""
    node, npm = _node_and_npm()
    folder = tmp_path_factory.mktemp("graphql-http")
    installed = subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(folder),
            GRAPHQL_HTTP,
            GRAPHQL_JS,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return node, folder


AUDIT = """
import { serverAudits } from 'graphql-http';
const [url, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({ name: audit.name, status: result.status, reason: result.reason ?? null });
}
console.log(JSON.stringify(results));
"""


def test_graphql_http_server_audit_passes_every_must_should_and_may(
    graphql_http: tuple[str, Path], live_server: LiveServer
) -> None:
    node, folder = graphql_http
    script = folder / "audit.mjs"
    script.write_text(AUDIT)
    token = live_server.create_seller_token("audit", "7494049642642449999", "MY")

    ran = subprocess.run(
        [node, str(script), f"{live_server.url}/graphql", token],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)
    failed = [r for r in results if r["status"] != "ok"]
    assert len(results) >= 60
    assert failed == []
    assert {r["name"].split()[0] for r in results} == {"MUST", "SHOULD", "MAY"}
