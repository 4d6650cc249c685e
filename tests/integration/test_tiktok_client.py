"""The TikTok client against the sandbox, both for real: uvicorn on loopback, signed HTTP calls,
TikTok's envelopes and codes, retries, token refresh, and the sandbox's signed webhook push."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import subprocess
import sys
import time
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from aftersales.tiktok.client import Credentials, TikTokClient, TikTokError
from devtools.sandbox import Fault, Sandbox, build_sandbox
from devtools.sandbox import envelope as codes
from devtools.sandbox import statuses as tts
from tests.support.eventually import eventually
from tests.support.live import free_port
from tests.support.sandbox import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    CIPHER,
    REFRESH_TOKEN,
    SHOP_ID,
    serving,
    serving_sandbox,
)

CREDS = Credentials(ACCESS_TOKEN, CIPHER)
REASON = "seller_reject_apply_product_has_been_used"
SECRETS = (APP_SECRET, ACCESS_TOKEN, REFRESH_TOKEN)
T0 = 1_790_000_000
SEARCH = "/returns/search"


def a_return(return_id: str, **fields: Any) -> dict[str, Any]:
    return {"return_id": return_id, "order_id": f"9{return_id}", **fields}


def make_client(base_url: str, **overrides: Any) -> TikTokClient:
    options: dict[str, Any] = {
        "base_url": base_url,
        "auth_base_url": base_url,
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "timeout": 2.0,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
    }
    return TikTokClient(**(options | overrides))


@pytest.fixture
def sandbox() -> Sandbox:
    box = build_sandbox(APP_KEY, APP_SECRET)
    box.add_shop(SHOP_ID, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN)
    return box


@pytest.fixture
async def base_url(sandbox: Sandbox) -> AsyncIterator[str]:
    async with serving_sandbox(sandbox) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[TikTokClient]:
    async with make_client(base_url) as tiktok:
        yield tiktok


async def tiktok_error(call: Any) -> TikTokError:
    with pytest.raises(TikTokError) as caught:
        await call
    return caught.value


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


# --- searching -------------------------------------------------------------------------------


async def test_search_is_signed_and_pages_to_the_end(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    for n in range(25):
        sandbox.put_return(SHOP_ID, a_return(f"10{n:02d}", update_time=T0 + 100 - n))

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = await client.search_returns(CREDS, page_token=token, page_size=10)
        pages += 1
        assert page.total_count == 25
        seen += [item["return_id"] for item in page.returns]
        token = page.next_page_token
        if token is None:
            break

    assert pages == 3
    assert seen == [f"10{n:02d}" for n in reversed(range(25))]  # oldest update first
    first = sandbox.calls[0]
    assert first.code == 0
    assert {"app_key", "timestamp", "shop_cipher", "sign"} <= first.query.keys()
    assert first.query["sort_field"] == "update_time"
    assert first.query["sort_order"] == "ASC"
    assert "page_token" in sandbox.calls[1].query


async def test_search_filters_by_update_time_and_return_ids(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    for n in range(5):
        sandbox.put_return(SHOP_ID, a_return(f"20{n}", update_time=T0 + n))

    recent = await client.search_returns(CREDS, update_time_ge=T0 + 2, update_time_lt=T0 + 4)
    picked = await client.search_returns(CREDS, return_ids=["204", "200"], page_size=10)

    assert [r["return_id"] for r in recent.returns] == ["202", "203"]
    assert recent.next_page_token is None
    assert sorted(r["return_id"] for r in picked.returns) == ["200", "204"]
    full = picked.returns[0]
    assert {"refund_amount", "return_line_items", "return_type", "return_status"} <= full.keys()
    assert sandbox.calls[0].body == {"update_time_ge": T0 + 2, "update_time_lt": T0 + 4}


async def test_page_size_outside_10_to_50_is_refused(client: TikTokClient) -> None:
    error = await tiktok_error(client.search_returns(CREDS, page_size=5))

    assert error.code == codes.BAD_PARAM
    assert not error.retryable


# --- decisions -------------------------------------------------------------------------------


TRANSITIONS = [
    ("RETURN_AND_REFUND", tts.PENDING, "approve", {}, "APPROVE_RETURN", tts.AWAITING_BUYER_SHIP),
    ("RETURN_AND_REFUND", tts.PENDING, "reject", {"reject_reason": REASON}, "REJECT_RETURN",
     tts.REJECTED),
    ("REFUND", tts.PENDING, "approve", {}, "APPROVE_REFUND", tts.SUCCESS),
    ("REFUND", tts.PENDING, "reject", {"reject_reason": REASON, "comment": "used"},
     "REJECT_REFUND", tts.REJECTED),
    ("REFUND", tts.PENDING, "approve",
     {"partial_refund": {"amount": "40000", "currency": "IDR"}}, "OFFER_PARTIAL_REFUND",
     tts.AWAITING_BUYER_RESPONSE),
    ("RETURN_AND_REFUND", tts.BUYER_SHIPPED_ITEM, "approve", {}, "APPROVE_RECEIVED_PACKAGE",
     tts.SUCCESS),
    ("RETURN_AND_REFUND", tts.BUYER_SHIPPED_ITEM, "reject", {"reject_reason": REASON},
     "REJECT_RECEIVED_PACKAGE", tts.REJECT_RECEIVE_PACKAGE),
    ("REPLACEMENT", tts.REPLACEMENT_PENDING, "approve", {}, "APPROVE_REPLACEMENT",
     tts.REPLACEMENT_COMPLETE),
    ("REPLACEMENT", tts.REPLACEMENT_PENDING, "reject", {"reject_reason": REASON},
     "REJECT_REPLACEMENT", tts.REPLACEMENT_REJECT),
    ("REPLACEMENT", tts.REPLACEMENT_PENDING, "approve", {}, "ISSUE_REPLACEMENT_REFUND",
     tts.REPLACEMENT_REFUND_SUCCESS),
]  # fmt: skip


@pytest.mark.parametrize(
    ("return_type", "start", "verb", "extra", "decision", "end"),
    TRANSITIONS,
    ids=[t[4] for t in TRANSITIONS],
)
async def test_each_decision_moves_the_return(
    sandbox: Sandbox,
    client: TikTokClient,
    return_type: str,
    start: str,
    verb: Any,
    extra: dict[str, Any],
    decision: str,
    end: str,
) -> None:
    sandbox.put_return(
        SHOP_ID, a_return("300", return_type=return_type, return_status=start, update_time=T0)
    )

    data = await client.decide(CREDS, "300", verb, {"decision": decision, **extra}, "key-1")

    assert data == {}
    moved = sandbox.get_return("300")
    assert moved["return_status"] == end
    assert moved["update_time"] >= int(time.time()) - 5 > T0
    assert sandbox.calls[-1].changed
    assert sandbox.calls[-1].idempotency_key == "key-1"
    if "partial_refund" in extra:
        assert moved["partial_refund"] == extra["partial_refund"]


async def test_a_repeated_idempotency_key_answers_again_and_changes_nothing(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    sandbox.put_return(SHOP_ID, a_return("310"))
    await client.decide(CREDS, "310", "approve", {"decision": "APPROVE_RETURN"}, "k-310")
    sandbox.set_status("310", tts.BUYER_SHIPPED_ITEM)
    before = sandbox.get_return("310")

    again = await client.decide(CREDS, "310", "approve", {"decision": "APPROVE_RETURN"}, "k-310")

    assert again == {}
    assert sandbox.get_return("310") == before
    assert [c.changed for c in sandbox.calls] == [True, False]
    other_key = await tiktok_error(
        client.decide(CREDS, "310", "approve", {"decision": "APPROVE_RETURN"}, "k-other")
    )
    assert other_key.code == codes.APPROVED_ALREADY


async def test_a_repeated_reject_is_applied_once(sandbox: Sandbox, client: TikTokClient) -> None:
    sandbox.put_return(SHOP_ID, a_return("320", return_type="REFUND"))
    body = {"decision": "REJECT_REFUND", "reject_reason": REASON, "comment": "worn"}

    await client.decide(CREDS, "320", "reject", body, "k-320")
    first_update = sandbox.get_return("320")["update_time"]
    await client.decide(CREDS, "320", "reject", body, "k-320")

    assert sandbox.get_return("320")["update_time"] == first_update
    assert [c.changed for c in sandbox.calls] == [True, False]


async def test_wrong_type_and_already_approved_are_tiktoks_business_errors(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    sandbox.put_return(SHOP_ID, a_return("330", return_type="REFUND"))
    sandbox.put_return(SHOP_ID, a_return("331", return_status=tts.AWAITING_BUYER_SHIP))

    wrong = await tiktok_error(
        client.decide(CREDS, "330", "approve", {"decision": "APPROVE_RETURN"}, "k1")
    )
    approved = await tiktok_error(
        client.decide(
            CREDS, "331", "reject", {"decision": "REJECT_RETURN", "reject_reason": REASON}, "k2"
        )
    )

    assert wrong.code == 25020004
    assert wrong.describe() == "TikTok 25020004: decision not match reverse type"
    assert approved.describe() == (
        "TikTok 25020010: Aftersales has been approved and cannot be rejected"
    )
    assert approved.http_status == 200
    assert approved.request_id
    assert not wrong.retryable and not approved.retryable
    assert not any(c.changed for c in sandbox.calls)
    assert len(sandbox.calls) == 2  # business errors are not retried


async def test_cancelled_unknown_and_reasonless_decisions_are_refused(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    sandbox.put_return(SHOP_ID, a_return("340", return_status=tts.CANCELLED))
    sandbox.put_return(SHOP_ID, a_return("341"))
    approve = {"decision": "APPROVE_RETURN"}

    cancelled = await tiktok_error(client.decide(CREDS, "340", "approve", approve, "k1"))
    unknown = await tiktok_error(client.decide(CREDS, "999", "approve", approve, "k2"))
    reasonless = await tiktok_error(
        client.decide(CREDS, "341", "reject", {"decision": "REJECT_RETURN"}, "k3")
    )
    made_up = await tiktok_error(
        client.decide(
            CREDS, "341", "reject", {"decision": "REJECT_RETURN", "reject_reason": "nah"}, "k4"
        )
    )
    swapped = await tiktok_error(client.decide(CREDS, "341", "reject", approve, "k5"))

    assert cancelled.code == codes.CANCELLED_ALREADY
    assert unknown.code == codes.NOT_FOUND
    assert reasonless.code == made_up.code == swapped.code == codes.BAD_PARAM
    assert "reject_reason" in reasonless.message
    assert sandbox.get_return("341")["return_status"] == tts.PENDING


async def test_reject_reasons_come_as_name_and_text(sandbox: Sandbox, client: TikTokClient) -> None:
    sandbox.put_return(SHOP_ID, a_return("350"))

    reasons = await client.reject_reasons(CREDS, "350")
    translated = await client.reject_reasons(CREDS, "350", locale="vi-VN")

    assert (REASON, "The product has been used") in reasons
    assert len(reasons) == len(tts.REQUEST_REASONS)
    assert (REASON, "[vi-VN] The product has been used") in translated
    assert sandbox.calls[0].query["return_or_cancel_id"] == "350"
    assert "locale" not in sandbox.calls[0].query
    assert sandbox.calls[1].query["locale"] == "vi-VN"


# --- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [Fault.http(429), Fault.http(503), Fault.code(36009002, "rate limited")],
    ids=["http-429", "http-503", "code-36009002"],
)
async def test_transient_failures_are_retried(
    sandbox: Sandbox, client: TikTokClient, fault: Fault
) -> None:
    sandbox.put_return(SHOP_ID, a_return("400"))
    sandbox.fail(SEARCH, fault)

    page = await client.search_returns(CREDS)

    assert [r["return_id"] for r in page.returns] == ["400"]
    assert [c.code for c in sandbox.calls] == [fault.error_code, 0]
    assert sandbox.calls[0].query["timestamp"] and sandbox.calls[1].query["sign"]


async def test_retry_after_is_honoured_but_capped(sandbox: Sandbox, client: TikTokClient) -> None:
    sandbox.fail(SEARCH, Fault.http(429, retry_after=30))
    started = time.monotonic()

    await client.search_returns(CREDS)

    assert time.monotonic() - started < 2  # capped at backoff_cap (0.05 s), not 30 s
    assert len(sandbox.calls) == 2


async def test_a_timeout_is_retried(sandbox: Sandbox, base_url: str) -> None:
    sandbox.fail(SEARCH, Fault.delay(0.6))

    async with make_client(base_url, timeout=0.2) as slow:
        page = await slow.search_returns(CREDS)

    assert page.returns == []


async def test_retries_give_up_with_a_retryable_error(sandbox: Sandbox, base_url: str) -> None:
    sandbox.fail(SEARCH, Fault.http(503), Fault.http(502), Fault.http(503))

    async with make_client(base_url, max_retries=2) as tiktok:
        error = await tiktok_error(tiktok.search_returns(CREDS))

    assert error.retryable
    assert error.http_status == 503
    assert error.code is None
    assert error.attempts == 3
    assert error.describe() == "HTTP 503 (unavailable)"  # a gateway's page, named plainly
    assert len(sandbox.calls) == 3


async def test_timeouts_exhausted_read_as_transport(sandbox: Sandbox, base_url: str) -> None:
    sandbox.fail(SEARCH, Fault.delay(0.5), Fault.delay(0.5))

    async with make_client(base_url, timeout=0.1, max_retries=1) as slow:
        error = await tiktok_error(slow.search_returns(CREDS))

    assert error.retryable and error.transport
    assert error.describe().startswith("transport: timed out after 0.1s")


async def test_non_json_and_malformed_answers_are_clear_errors() -> None:
    async def not_json(request: Request) -> Response:
        return PlainTextResponse("<html>bad gateway</html>", 502)

    async def no_code(request: Request) -> Response:
        return PlainTextResponse('{"message": "hi"}', 200)

    app = Starlette(
        routes=[
            Route("/return_refund/202309/returns/search", not_json, methods=["POST"]),
            Route("/return_refund/202309/reject_reasons", no_code, methods=["GET"]),
        ]
    )
    async with serving(app) as url, make_client(url, max_retries=0) as tiktok:
        gateway = await tiktok_error(tiktok.search_returns(CREDS))
        shapeless = await tiktok_error(tiktok.reject_reasons(CREDS, "1"))

    assert gateway.retryable and gateway.http_status == 502
    assert gateway.describe() == "HTTP 502 (bad gateway)"
    assert not shapeless.retryable
    assert "malformed" in shapeless.describe()


# --- credentials -----------------------------------------------------------------------------


async def test_an_expired_token_is_reported_not_retried(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    sandbox.expire_token(SHOP_ID)

    error = await tiktok_error(client.search_returns(CREDS))

    assert error.token_expired
    assert error.code == 105002
    assert not error.retryable
    assert len(sandbox.calls) == 1


async def test_refresh_gives_a_working_token_and_retires_the_old_one(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    sandbox.expire_token(SHOP_ID)

    grant = await client.refresh_token(REFRESH_TOKEN)

    now = datetime.now(UTC)
    assert grant.access_token != ACCESS_TOKEN and grant.refresh_token != REFRESH_TOKEN
    assert abs(grant.access_token_expires_at - (now + timedelta(days=7))) < timedelta(minutes=1)
    assert abs(grant.refresh_token_expires_at - (now + timedelta(days=365))) < timedelta(minutes=1)
    assert grant.access_token_expires_at.tzinfo is not None
    fresh = Credentials(grant.access_token, CIPHER)
    assert (await client.search_returns(fresh)).returns == []
    old = await tiktok_error(client.search_returns(CREDS))
    assert old.code == codes.BAD_CREDENTIALS
    reused = await tiktok_error(client.refresh_token(REFRESH_TOKEN))
    assert reused.code == codes.BAD_REFRESH_TOKEN
    assert "sign" not in sandbox.calls[0].query  # the auth host's call is not signed


async def test_a_wrong_secret_is_a_bad_sign(base_url: str) -> None:
    async with make_client(base_url, app_secret="not-the-secret") as wrong:
        error = await tiktok_error(wrong.search_returns(CREDS))

    assert error.code == 106001
    assert not error.retryable


async def test_the_sandbox_checks_cipher_token_and_timestamp(
    sandbox: Sandbox, client: TikTokClient, base_url: str
) -> None:
    sandbox.add_shop("other", cipher="ROW_other", access_token="TTP_o", refresh_token="TTP_r")

    no_cipher = await tiktok_error(client.search_returns(Credentials(ACCESS_TOKEN, None)))
    other_shop = await tiktok_error(client.search_returns(Credentials("TTP_o", CIPHER)))
    unknown = await tiktok_error(client.search_returns(Credentials("TTP_nobody", CIPHER)))
    async with make_client(base_url, now=lambda: time.time() - 600) as late:
        await late.search_returns(CREDS)  # refused once, then corrected from TikTok's Date

    assert no_cipher.code == 106013
    assert other_shop.code == 101000
    assert unknown.code == codes.BAD_CREDENTIALS
    refused, corrected = sandbox.calls[-2:]
    assert (refused.code, corrected.code) == (codes.BAD_CREDENTIALS, 0)


async def test_errors_and_logs_never_carry_secrets(
    sandbox: Sandbox, client: TikTokClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.expire_token(SHOP_ID)
    sandbox.fail("/token/refresh", Fault.http(503))
    errors = [
        await tiktok_error(client.search_returns(CREDS)),
        await tiktok_error(client.refresh_token("TTP_wrong")),
    ]
    closed = f"http://127.0.0.1:{free_port()}"
    async with make_client(closed, max_retries=1) as nowhere:
        errors.append(await tiktok_error(nowhere.refresh_token(REFRESH_TOKEN)))
        errors.append(await tiktok_error(nowhere.decide(CREDS, "1", "approve", {}, "k")))

    assert errors[2].transport and errors[3].transport
    for error in errors:
        assert_no_secrets(
            error.describe(), str(error), repr(error), "".join(traceback.format_exception(error))
        )
    assert_no_secrets(caplog.text, repr(CREDS))
    assert any("retry 1 of" in record.getMessage() for record in caplog.records)


# --- webhooks --------------------------------------------------------------------------------


async def test_status_changes_are_pushed_as_signed_type_12_webhooks(sandbox: Sandbox) -> None:
    received: list[tuple[str, bytes]] = []

    async def receive(request: Request) -> Response:
        received.append((request.headers.get("authorization", ""), await request.body()))
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/webhooks/tiktok", receive, methods=["POST"])])
    sandbox.put_return(SHOP_ID, a_return("500", create_time=T0, update_time=T0))
    async with serving(receiver) as receiver_url, serving_sandbox(sandbox) as url:
        sandbox.webhook_url = f"{receiver_url}/webhooks/tiktok"
        async with make_client(url) as tiktok:
            await tiktok.decide(CREDS, "500", "approve", {"decision": "APPROVE_RETURN"}, "k")
        sandbox.set_status("500", tts.BUYER_SHIPPED_ITEM)
        await sandbox.wait_for_webhooks()

    assert len(received) == 2
    for signature, body in received:
        expected = hmac.new(APP_SECRET.encode(), APP_KEY.encode() + body, hashlib.sha256)
        assert signature == expected.hexdigest()
    pushed = [json.loads(body) for _, body in received]
    assert {p["type"] for p in pushed} == {12}
    assert pushed[0]["shop_id"] == SHOP_ID
    assert pushed[0]["tts_notification_id"] != pushed[1]["tts_notification_id"]
    data = pushed[0]["data"]
    assert data == {
        "order_id": "9500",
        "return_id": "500",
        "return_role": "SELLER",
        "return_type": "RETURN_AND_REFUND",
        "return_status": tts.AWAITING_BUYER_SHIP,
        "create_time": T0,
        "update_time": data["update_time"],
    }
    assert data["update_time"] > T0
    assert pushed[1]["data"]["return_status"] == tts.BUYER_SHIPPED_ITEM
    assert pushed[1]["data"]["return_role"] == "BUYER"


async def test_an_unreachable_webhook_url_never_breaks_the_sandbox(
    sandbox: Sandbox, client: TikTokClient
) -> None:
    sandbox.webhook_url = f"http://127.0.0.1:{free_port()}/webhooks/tiktok"
    sandbox.put_return(SHOP_ID, a_return("510"))

    await client.decide(CREDS, "510", "approve", {"decision": "APPROVE_RETURN"}, "k")
    await sandbox.wait_for_webhooks()

    assert sandbox.get_return("510")["return_status"] == tts.AWAITING_BUYER_SHIP
    assert [push.error for push in sandbox.webhooks] == ["ConnectError"]


# --- the control routes ----------------------------------------------------------------------


async def test_the_control_routes_drive_the_sandbox_over_http(
    sandbox: Sandbox, base_url: str
) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http:
        shop = (await http.post("/sandbox/shops", json={"shop_id": "77"})).json()
        put = await http.post(
            "/sandbox/returns", json={"shop_id": "77", "return": {"return_id": "600"}}
        )
        await http.post(
            "/sandbox/faults",
            json={"path_contains": SEARCH, "faults": [{"kind": "code", "code": 36009003}]},
        )
        async with make_client(base_url) as tiktok:
            page = await tiktok.search_returns(Credentials(shop["access_token"], shop["cipher"]))
        calls = (await http.get("/sandbox/calls")).json()
        fetched = (await http.get("/sandbox/returns/600")).json()
        expired = await http.post("/sandbox/shops/77/expire-token")
        missing = await http.get("/sandbox/returns/nope")
        no_route = await http.get("/product/202309/products")
        wrong_method = await http.get("/return_refund/202309/returns/search")
        bad_fault = await http.post(
            "/sandbox/faults", json={"path_contains": "x", "faults": [{"kind": "boom"}]}
        )

    assert put.status_code == 201
    assert fetched["return_status"] == tts.PENDING
    assert fetched["refund_amount"]["currency"] == "IDR"
    assert [r["return_id"] for r in page.returns] == ["600"]
    assert [c["code"] for c in calls] == [36009003, 0]
    assert expired.status_code == 200
    assert sandbox.shops["77"].access_expires_at < time.time()
    assert missing.status_code == 404
    assert (no_route.status_code, no_route.json()["code"]) == (404, 36009009)
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, 36009010)
    assert bad_fault.status_code == 400


@pytest.mark.live  # the sandbox in a process of its own
def test_run_sandbox_serves_until_stopped() -> None:
    port = free_port()
    script = (
        "from devtools.sandbox import run_sandbox\n"
        f"run_sandbox(host='127.0.0.1', port={port}, app_key={APP_KEY!r},"
        f" app_secret={APP_SECRET!r}, webhook_url=None, log=print)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-u", "-c", script], stdout=subprocess.PIPE, text=True
    )
    try:
        shop = eventually(
            lambda: httpx.post(f"http://127.0.0.1:{port}/sandbox/shops", json={"shop_id": "1"}),
            what="the sandbox process adds a shop",
            seconds=10,
            every=0.05,
            ignoring=(httpx.TransportError,),
        ).json()
        assert shop["shop_id"] == "1"
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)

    assert f"TikTok sandbox on http://127.0.0.1:{port}" in output
    assert APP_SECRET not in output
