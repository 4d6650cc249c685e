"""The sandbox refuses odd requests with a 400 that names what is wrong, never a 500, and stores
nothing it could not send back (over HTTP through its ASGI app; no database)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from aftersales.tiktok.signing import sign
from devtools.sandbox import Sandbox, build_sandbox
from devtools.sandbox.envelope import BAD_PARAM, OK
from tests.support.sandbox import ACCESS_TOKEN, APP_KEY, APP_SECRET, CIPHER, REFRESH_TOKEN, SHOP_ID

DEEP = 100_000  # far past the recursion limit of Python's JSON parser


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = build_sandbox(APP_KEY, APP_SECRET)
    sandbox.add_shop(SHOP_ID, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN)
    sandbox.put_return(SHOP_ID, {"return_id": "500", "return_type": "REFUND"})
    return sandbox


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    # raise_app_exceptions=False: a handler that raises shows up as the 500 a client would get.
    transport = httpx.ASGITransport(app=sandbox.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def deep(value: bytes) -> bytes:
    return b"[" * DEEP + value + b"]" * DEEP


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"shop_id": "X2", "access_expires_at": "soon"}, "access_expires_at"),
        ({"shop_id": "X2", "access_expires_at": 10**30}, "access_expires_at"),
        ({"shop_id": "X2", "access_expires_at": True}, "access_expires_at"),
        ({"shop_id": "X2", "cipher": {"a": 1}}, "cipher"),
        ({"shop_id": "X2", "access_token": ["TTP_a"]}, "access_token"),
        ({"shop_id": {"a": 1}}, "shop_id"),
    ],
)
async def test_a_shop_with_a_field_of_the_wrong_type_is_refused_by_name(
    sandbox: Sandbox, http: httpx.AsyncClient, body: dict[str, Any], named: str
) -> None:
    response = await http.post("/sandbox/shops", json=body)

    assert response.status_code == 400
    assert named in response.json()["error"]
    assert set(sandbox.shops) == {SHOP_ID}


@pytest.mark.parametrize(
    ("obj", "named"),
    [
        ({"return_id": "R1", "create_time": "yesterday"}, "create_time"),
        ({"return_id": "R1", "update_time": "today"}, "update_time"),
        ({"return_id": "R1", "create_time": -1}, "create_time"),
        ({"return_id": "R1", "create_time": 10**30}, "create_time"),
        ({"return_id": {"a": 1}}, "return_id"),
        ({"return_id": "R1", "order_id": ["1"]}, "order_id"),
        ({"return_id": "R1", "return_type": 5}, "return_type"),
        ({"return_id": "R1", "refund_amount": ["IDR"]}, "refund_amount"),
        ({"return_id": "R1", "refund_amount": {"currency": {"code": "IDR"}}}, "refund_amount"),
    ],
)
async def test_a_return_with_a_field_the_sandbox_reads_of_the_wrong_type_is_refused_by_name(
    sandbox: Sandbox, http: httpx.AsyncClient, obj: dict[str, Any], named: str
) -> None:
    response = await http.post("/sandbox/returns", json={"shop_id": SHOP_ID, "return": obj})

    assert response.status_code == 400
    assert named in response.json()["error"]
    assert set(sandbox.returns) == {"500"}


async def test_fields_the_sandbox_does_not_read_are_stored_as_given(
    http: httpx.AsyncClient,
) -> None:
    odd = {"return_id": 7, "return_line_items": 5, "note": "\u0e01"}

    response = await http.post("/sandbox/returns", json={"shop_id": SHOP_ID, "return": odd})
    fetched = await http.get("/sandbox/returns/7")

    assert response.status_code == 201
    assert fetched.json()["return_line_items"] == 5
    assert fetched.json()["note"] == "\u0e01"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sandbox/shops", b'{"shop_id": "X3", "name": ' + deep(b"") + b"}"),
        (
            "/sandbox/returns",
            b'{"shop_id": "' + SHOP_ID.encode() + b'", "return": ' + deep(b"") + b"}",
        ),
        ("/sandbox/faults", deep(b"")),
        ("/sandbox/returns/500/status", deep(b"")),
    ],
)
async def test_a_body_nested_too_deeply_is_refused(
    http: httpx.AsyncClient, path: str, body: bytes
) -> None:
    response = await http.post(path, content=body)

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
async def test_nan_and_infinity_are_not_json(
    sandbox: Sandbox, http: httpx.AsyncClient, constant: bytes
) -> None:
    body = b'{"shop_id": "' + SHOP_ID.encode() + b'", "return": {"return_id": "R9", "x": '
    response = await http.post("/sandbox/returns", content=body + constant + b"}}")

    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
    assert "R9" not in sandbox.returns


@pytest.mark.parametrize(
    "fault",  # as JSON text: 1e400 is a JSON number that Python reads as infinity
    [
        b'{"kind": "delay", "seconds": "x"}',
        b'{"kind": "delay", "seconds": 1e400}',
        b'{"kind": "delay", "seconds": 1' + b"0" * 400 + b"}",
        b'{"kind": "delay", "seconds": -1}',
        b'{"kind": "delay"}',
        b'{"kind": "http", "status": 99}',
        b'{"kind": "http", "status": "503"}',
        b'{"kind": "http", "status": 503, "retry_after": 1e400}',
        b'{"kind": "code", "code": 1e400}',
        b'{"kind": "code", "code": 36009002, "message": {"a": 1}}',
        b'{"delay": 1e9}',
        b'"http"',
    ],
)
async def test_a_fault_that_cannot_be_injected_is_refused_and_none_is_queued(
    sandbox: Sandbox, http: httpx.AsyncClient, fault: bytes
) -> None:
    body = b'{"path_contains": "/search", "faults": [{"kind": "http", "status": 503}, '

    response = await http.post("/sandbox/faults", content=body + fault + b"]}")

    assert response.status_code == 400
    assert response.json()["error"].startswith("bad fault: ")
    assert sandbox.next_fault("/search") is None


async def test_a_set_status_with_a_role_that_is_not_a_string_is_refused(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    response = await http.post("/sandbox/returns/500/status", json={"status": "X", "role": {}})

    assert response.status_code == 400
    assert "role" in response.json()["error"]
    assert sandbox.get_return("500")["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"


async def test_a_lone_surrogate_in_a_recorded_body_does_not_break_the_record(
    http: httpx.AsyncClient,
) -> None:
    unsigned = await http.post(
        "/return_refund/202309/returns/search",
        content=b'{"note": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )

    calls = await http.get("/sandbox/calls")

    assert unsigned.status_code == 200
    assert calls.status_code == 200
    assert calls.json()[-1]["body"] == {"note": "\ud800"}


async def signed_post(
    http: httpx.AsyncClient, path: str, body: bytes, **params: str
) -> dict[str, Any]:
    """A TikTok-route POST signed as the client signs it; the envelope answered."""
    query = {"app_key": APP_KEY, "timestamp": str(int(time.time())), "shop_cipher": CIPHER}
    query |= params
    query["sign"] = sign(APP_SECRET, path, query, body)
    response = await http.post(
        path,
        params=query,
        content=body,
        headers={"Content-Type": "application/json", "x-tts-access-token": ACCESS_TOKEN},
    )
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


async def test_a_reject_reason_that_is_not_a_string_is_a_bad_param(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    path = "/return_refund/202309/returns/500/reject"

    answer = await signed_post(http, path, b'{"decision": "REJECT_REFUND", "reject_reason": []}')

    assert answer["code"] == BAD_PARAM
    assert sandbox.get_return("500")["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"


async def test_a_search_body_nested_too_deeply_is_a_bad_param(http: httpx.AsyncClient) -> None:
    path = "/return_refund/202309/returns/search"

    answer = await signed_post(http, path, deep(b""), page_size="10")

    assert answer["code"] == BAD_PARAM
    assert "not JSON" in answer["message"]


async def test_a_well_formed_search_still_finds_the_return(http: httpx.AsyncClient) -> None:
    path = "/return_refund/202309/returns/search"

    answer = await signed_post(http, path, b"{}", page_size="10")

    assert answer["code"] == OK
    assert [r["return_id"] for r in answer["data"]["return_orders"]] == ["500"]


async def test_an_edited_request_is_a_new_return_linked_both_ways(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    edited = await http.post("/sandbox/returns/500/edit", json={"return_reason_text": "Wrong size"})
    missing = await http.post("/sandbox/returns/404/edit", json={})

    assert edited.status_code == 201
    new = edited.json()
    assert (new["pre_return_id"], new["return_type"]) == ("500", "REFUND")
    assert new["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"
    assert new["return_reason_text"] == "Wrong size"
    assert sandbox.get_return("500")["next_return_id"] == new["return_id"]
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"shop_id": "nope"}, "shop_id"),
        ({"shop_id": SHOP_ID, "cancellation": {"role": "ROBOT"}}, "role"),
        ({"shop_id": SHOP_ID, "cancellation": {"cancel_status": "DONE"}}, "cancel_status"),
        ({"shop_id": SHOP_ID, "cancellation": {"cancel_id": 7}}, "cancel_id"),
        ({"shop_id": SHOP_ID, "cancellation": []}, "cancellation"),
        ({"shop_id": SHOP_ID, "webhook": "no"}, "webhook"),
    ],
)
async def test_a_cancellation_the_sandbox_cannot_use_is_refused_by_name(
    sandbox: Sandbox, http: httpx.AsyncClient, body: dict[str, Any], named: str
) -> None:
    response = await http.post("/sandbox/cancellations", json=body)

    assert response.status_code == 400
    assert named in response.json()["error"]
    assert sandbox.cancellations == {}


async def test_a_cancellation_is_started_moved_and_marked_shipped_over_http(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    started = await http.post(
        "/sandbox/cancellations",
        json={"shop_id": SHOP_ID, "cancellation": {"role": "seller"}, "webhook": False},
    )
    assert started.status_code == 201
    made = started.json()
    assert (made["role"], made["cancel_type"], made["seller_next_action_response"]) == (
        "SELLER",
        "CANCEL",
        [],
    )
    cancel_id = made["cancel_id"]

    moved = await http.post(
        f"/sandbox/cancellations/{cancel_id}/status",
        json={"status": "CANCELLATION_REQUEST_CANCELLED", "webhook": False},
    )
    shipped = await http.post(f"/sandbox/cancellations/{cancel_id}/shipped")
    wrong = await http.post(f"/sandbox/cancellations/{cancel_id}/status", json={"status": "X"})
    unknown = await http.post("/sandbox/cancellations/999/shipped")

    assert moved.json()["cancel_status"] == "CANCELLATION_REQUEST_CANCELLED"
    assert shipped.json() == {"cancel_id": cancel_id, "shipped": True}
    assert cancel_id in sandbox.shipped
    assert (wrong.status_code, unknown.status_code) == (400, 404)
    assert (await http.get(f"/sandbox/cancellations/{cancel_id}")).json()["cancel_id"] == cancel_id
