"""The client example, examples/accept_pending_returns.py, against a real `aftersales serve`.

Returns arrive the way production gets them (signed TikTok webhooks posted to the live server,
unique return ids, so counts are exact); the example runs as a subprocess with its environment
variables, and the outcome is read back over GraphQL. The CONFLICT retry and the HTTP error
paths cannot be provoked on demand from a real service, so they run the example's functions
against a scripted transport instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.support.builders import unique_id
from tests.support.live import LiveServer, free_port
from tests.support.webhooks import envelope, return_data
from webhooks.signing import tiktok_signature

pytestmark = pytest.mark.live  # the example client runs as a process

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "accept_pending_returns.py"
START = datetime.now(UTC) - timedelta(hours=1)

COUNTS = """
query Counts($type: AfterSaleType!) { afterSaleCounts(type: $type) { status count } }
"""
RETURNS = """
query Returns($status: AfterSaleStatus!, $after: String) {
  afterSales(type: RETURN_AND_REFUND, status: $status, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id returnId } }
  }
}
"""
REFUND_ONLY_IDS = "{ afterSales(type: REFUND_ONLY) { edges { node { id } } } }"


@pytest.fixture(scope="module")
def example() -> Iterator[ModuleType]:
    """The example imported as a module, to call its functions directly."""
    spec = importlib.util.spec_from_file_location("accept_pending_returns", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def run_example(url: str, token: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AFTERSALES_")}
    env["AFTERSALES_URL"] = url
    if token is not None:
        env["AFTERSALES_TOKEN"] = token
    return subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def send_requests(
    server: LiveServer,
    shop_id: str,
    count: int,
    *,
    return_type: str = "RETURN_AND_REFUND",
    status: str = "RETURN_OR_REFUND_REQUEST_PENDING",
) -> list[str]:
    """`count` new requests reported by signed TikTok webhooks; their return ids."""
    key, secret = server.env["TIKTOK_APP_KEY"], server.env["TIKTOK_APP_SECRET"]
    return_ids = [unique_id() for _ in range(count)]
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for n, return_id in enumerate(return_ids):
            created = START + timedelta(seconds=n)
            data = return_data(
                status,
                at=created,
                created=created,
                return_id=return_id,
                order_id=return_id,
                return_type=return_type,
            )
            body = envelope(shop_id, data, notification_id=f"n-{return_id}")
            headers = {
                "Authorization": tiktok_signature(key, secret, body),
                "Content-Type": "application/json",
            }
            response = client.post("/webhooks/tiktok", content=body, headers=headers)
            assert response.status_code == 200, response.text
    return return_ids


def gql(server: LiveServer, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def counts(server: LiveServer, token: str, type_: str) -> dict[str, int]:
    data = gql(server, token, COUNTS, {"type": type_})
    return {entry["status"]: entry["count"] for entry in data["afterSaleCounts"] if entry["count"]}


def returns_in(server: LiveServer, token: str, status: str) -> dict[str, str]:
    """returnId -> id of every RETURN_AND_REFUND in `status`, all pages."""
    found: dict[str, str] = {}
    after = None
    while True:
        page = gql(server, token, RETURNS, {"status": status, "after": after})["afterSales"]
        found |= {edge["node"]["returnId"]: edge["node"]["id"] for edge in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def summary_lines(found: int, accepted: int) -> list[str]:
    """The example's summary when nothing was refused or retried."""
    return [
        f"pending returns found: {found}",
        f"accepted: {accepted}",
        "refused: 0",
        "retried after CONFLICT: 0",
    ]


def test_the_example_accepts_every_pending_return_over_several_pages_and_bulk_calls(
    live_server: LiveServer,
) -> None:
    shop_id = unique_id()
    token = live_server.create_seller_token("acme", shop_id, "MY")
    pending = send_requests(live_server, shop_id, 120)
    send_requests(live_server, shop_id, 1, return_type="REFUND")
    shipped = send_requests(live_server, shop_id, 1, status="BUYER_SHIPPED_ITEM")

    result = run_example(live_server.url, token)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == summary_lines(found=120, accepted=120)
    assert result.stderr == ""
    assert counts(live_server, token, "RETURN_AND_REFUND") == {
        "AWAITING_BUYER_SHIPMENT": 120,
        "SHIPPED_BY_BUYER": 1,
    }
    assert returns_in(live_server, token, "AWAITING_BUYER_SHIPMENT").keys() == set(pending)
    assert returns_in(live_server, token, "SHIPPED_BY_BUYER").keys() == set(shipped)
    assert counts(live_server, token, "REFUND_ONLY") == {"PENDING_REQUEST": 1}

    again = run_example(live_server.url, token)

    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == summary_lines(found=0, accepted=0)


def test_shop_id_limits_the_example_to_one_shop_and_a_dry_run_accepts_nothing(
    live_server: LiveServer,
) -> None:
    shop_a, shop_b = unique_id(), unique_id()
    token = live_server.create_seller_token("acme", shop_a, "MY")
    added = live_server.cli(
        "shops", "add", "--seller", "acme", "--shop-id", shop_b, "--region", "TH"
    )
    assert added.returncode == 0, added.stderr
    in_a = send_requests(live_server, shop_a, 3)
    in_b = send_requests(live_server, shop_b, 2)

    dry = run_example(live_server.url, token, "--dry-run")

    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == ["pending returns found: 5 (dry run: none accepted)"]
    assert counts(live_server, token, "RETURN_AND_REFUND") == {"PENDING_REQUEST": 5}

    one_shop = run_example(live_server.url, token, "--shop-id", shop_a)

    assert one_shop.returncode == 0, one_shop.stderr
    assert one_shop.stdout.splitlines() == summary_lines(found=3, accepted=3)
    assert returns_in(live_server, token, "AWAITING_BUYER_SHIPMENT").keys() == set(in_a)
    assert returns_in(live_server, token, "PENDING_REQUEST").keys() == set(in_b)


def test_the_example_prints_each_refused_id_with_its_code_and_accepts_the_rest(
    live_server: LiveServer, example: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    shop_id = unique_id()
    token = live_server.create_seller_token("acme", shop_id, "MY")
    send_requests(live_server, shop_id, 2)
    send_requests(live_server, shop_id, 1, return_type="REFUND")
    first, second = returns_in(live_server, token, "PENDING_REQUEST").values()
    [refund_only] = gql(live_server, token, REFUND_ONLY_IDS, {})["afterSales"]["edges"]
    refund_only_id = refund_only["node"]["id"]
    summary = example.Summary()
    headers = {"Authorization": f"Bearer {token}"}

    # Someone else accepts `first` just before, so the service answers INVALID_TRANSITION;
    # listed twice, it is answered once (a bulk call applies each after-sale once).
    gql(live_server, token, example.ACCEPT_RETURNS, {"ids": [first]})
    with httpx.Client(base_url=live_server.url, headers=headers, timeout=30) as client:
        example.accept_returns(client, [first, refund_only_id, "999999", second, first], summary)

    assert summary.accepted == 1
    assert summary.refused == Counter(
        {"ACTION_NOT_ALLOWED_FOR_TYPE": 1, "NOT_FOUND": 1, "INVALID_TRANSITION": 1}
    )
    assert summary.retried == set()
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[:2] for line in printed] == [
        [f"refused {first}", " INVALID_TRANSITION"],
        [f"refused {refund_only_id}", " ACTION_NOT_ALLOWED_FOR_TYPE"],
        ["refused 999999", " NOT_FOUND"],
    ]
    assert counts(live_server, token, "RETURN_AND_REFUND") == {"AWAITING_BUYER_SHIPMENT": 2}
    assert counts(live_server, token, "REFUND_ONLY") == {"PENDING_REQUEST": 1}


def test_the_example_retries_ids_refused_with_conflict_and_counts_those_that_keep_conflicting(
    example: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[list[str]] = []
    conflicts_left = {"1": 1, "2": 99}  # "1" conflicts once, "2" every time, "3" never

    def service(request: httpx.Request) -> httpx.Response:
        ids: list[str] = json.loads(request.content)["variables"]["ids"]
        calls.append(ids)
        results = []
        for id_ in ids:
            errors = []
            if conflicts_left.get(id_, 0) > 0:
                conflicts_left[id_] -= 1
                errors = [{"code": "CONFLICT", "message": "the after-sale kept changing"}]
            results.append({"id": id_, "userErrors": errors})
        return httpx.Response(
            200, json={"data": {"acceptReturnBulk": {"results": results, "userErrors": []}}}
        )

    summary = example.Summary()
    with httpx.Client(base_url="http://service", transport=httpx.MockTransport(service)) as client:
        example.accept_returns(client, ["1", "2", "3"], summary, delays=(0, 0))

    assert calls == [["1", "2", "3"], ["1", "2"], ["2"]]
    assert summary.accepted == 2
    assert summary.refused == Counter({"CONFLICT": 1})
    assert summary.retried == {"1", "2"}
    assert capsys.readouterr().out == "refused 2: CONFLICT: the after-sale kept changing\n"


def test_the_example_sends_at_most_100_ids_per_bulk_call(example: ModuleType) -> None:
    sizes: list[int] = []

    def service(request: httpx.Request) -> httpx.Response:
        ids = json.loads(request.content)["variables"]["ids"]
        sizes.append(len(ids))
        results = [{"id": id_, "userErrors": []} for id_ in ids]
        return httpx.Response(
            200, json={"data": {"acceptReturnBulk": {"results": results, "userErrors": []}}}
        )

    summary = example.Summary()
    with httpx.Client(base_url="http://service", transport=httpx.MockTransport(service)) as client:
        example.accept_returns(client, [str(n) for n in range(1, 251)], summary)

    assert sizes == [100, 100, 50]
    assert summary.accepted == 250


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (401, {"errors": [{"message": "unknown token"}]}, "the token was refused (HTTP 401)"),
        (413, {"errors": [{"message": "request body over 262144 bytes"}]}, "HTTP 413"),
        (503, {}, "the service failed (HTTP 503)"),
        (200, {"errors": [{"message": "Cannot query field 'x'"}]}, "refused the request"),
    ],
)
def test_the_example_explains_http_errors_and_top_level_errors(
    example: ModuleType, status: int, body: dict[str, Any], says: str
) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))

    with (
        httpx.Client(base_url="http://service", transport=transport) as client,
        pytest.raises(example.ServiceError) as raised,
    ):
        example.graphql(client, example.PENDING_RETURNS, {})

    assert says in str(raised.value)


def test_the_example_exits_1_with_the_services_message_when_the_token_is_refused(
    live_server: LiveServer,
) -> None:
    result = run_example(live_server.url, "as_not-a-real-token")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: the token was refused (HTTP 401): ")
    assert "tokens create" in result.stderr


def test_the_example_exits_1_when_the_service_cannot_be_reached() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = run_example(url, "as_whatever")

    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot reach {url}")


def test_the_example_exits_2_and_says_how_to_get_a_token_when_none_is_set() -> None:
    result = run_example("http://127.0.0.1:9", None)

    assert result.returncode == 2
    assert "set AFTERSALES_TOKEN" in result.stderr
    assert "aftersales tokens create --seller NAME" in result.stderr
