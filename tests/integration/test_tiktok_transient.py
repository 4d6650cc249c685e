"""What real shops meet on the wire (docs/tiktok-sync.md, "What real shops need besides"): the
"internal error, try again" codes retried, retries told to the caller and named plainly, a
clock off by more than TikTok allows corrected from its `Date` header, and an access token
TikTok calls invalid refreshed once. Against the stand-in TikTok over real HTTP."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator

import pytest

from aftersales.tiktok.client import RETRYABLE_CODES, Credentials, TikTokClient, TikTokError
from devtools.sandbox import Fault, Sandbox, build_sandbox
from devtools.sandbox import envelope as codes
from tests.support.sandbox import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    CIPHER,
    REFRESH_TOKEN,
    SHOP_ID,
    serving_sandbox,
)

CREDS = Credentials(ACCESS_TOKEN, CIPHER)
SEARCH = "/returns/search"


def make_client(base_url: str, **overrides: object) -> TikTokClient:
    options: dict[str, object] = {
        "base_url": base_url,
        "auth_base_url": base_url,
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "timeout": 2.0,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
    }
    return TikTokClient(**(options | overrides))  # type: ignore[arg-type]


@pytest.fixture
def sandbox() -> Sandbox:
    box = build_sandbox(APP_KEY, APP_SECRET)
    box.add_shop(SHOP_ID, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN)
    return box


@pytest.fixture
async def base_url(sandbox: Sandbox) -> AsyncIterator[str]:
    async with serving_sandbox(sandbox) as url:
        yield url


@pytest.mark.parametrize("code", [25020008, 25001028, 25007002, 25001058, 36009002])
async def test_tiktoks_try_again_codes_are_retried(
    sandbox: Sandbox, base_url: str, code: int
) -> None:
    sandbox.fail(SEARCH, Fault.code(code, "Internal error. Please try again"))

    async with make_client(base_url, max_retries=1) as tiktok:
        page = await tiktok.search_returns(CREDS)

    assert code in RETRYABLE_CODES
    assert page.returns == []
    assert [c.code for c in sandbox.calls] == [code, 0]


async def test_each_retry_inside_a_call_is_told_with_a_plain_reason(
    sandbox: Sandbox, base_url: str
) -> None:
    pending = {
        "return_type": "RETURN_AND_REFUND",
        "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
    }
    sandbox.put_return(SHOP_ID, {"return_id": "501", "order_id": "9501", **pending})
    sandbox.fail("/approve", Fault.http(429), Fault.code(25020008, "Internal error."))
    told: list[str] = []

    async def on_retry(error: TikTokError) -> None:
        told.append(error.describe())

    async with make_client(base_url, max_retries=2) as tiktok:
        body = {"decision": "APPROVE_RETURN"}
        await tiktok.decide(CREDS, "501", "approve", body, "install-501-v2-accept-1",
                            on_retry=on_retry)  # fmt: skip

    assert told == ["HTTP 429 (rate limited)", "TikTok 25020008: Internal error."]
    keys = {c.idempotency_key for c in sandbox.calls}
    assert keys == {"install-501-v2-accept-1"}  # one attempt: every retry reuses its key


async def test_a_clock_60_seconds_fast_is_corrected_after_one_refusal(
    sandbox: Sandbox, base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "aftersales.tiktok")

    async with make_client(base_url, now=lambda: time.time() + 60, max_retries=0) as fast:
        first = await fast.search_returns(CREDS)
        second = await fast.search_returns(CREDS)  # the offset is kept: no refusal this time

    assert first.returns == second.returns == []
    assert [c.code for c in sandbox.calls] == [codes.BAD_CREDENTIALS, 0, 0]
    stamps = [int(c.query["timestamp"]) for c in sandbox.calls]
    assert abs(stamps[1] - time.time()) < 5 and abs(stamps[2] - time.time()) < 5
    # The Date header has whole seconds: the skew logged is 60 s or 61 s.
    skews = [re.search(r"clock is \+(\d+)s off", r.getMessage()) for r in caplog.records]
    assert [int(m.group(1)) for m in skews if m] in ([60], [61])


async def test_a_refused_timestamp_is_corrected_once_only(sandbox: Sandbox, base_url: str) -> None:
    message = "Invalid timestamp. The value of the timestamp query parameter must not exceed"
    sandbox.fail(SEARCH, Fault.code(codes.BAD_CREDENTIALS, message),
                 Fault.code(codes.BAD_CREDENTIALS, message))  # fmt: skip

    async with make_client(base_url, max_retries=3) as tiktok:
        with pytest.raises(TikTokError) as refused:
            await tiktok.search_returns(CREDS)

    assert refused.value.code == codes.BAD_CREDENTIALS and not refused.value.retryable
    assert len(sandbox.calls) == 2


@pytest.mark.parametrize(
    ("message", "skewed", "invalid_token"),
    [
        ("Invalid timestamp. The timestamp is not an integer.", True, False),
        ("Invalid credentials. The x-tts-access-token header is invalid.", False, True),
        ("Invalid credentials. Invalid app_key query parameter.", False, False),
    ],
)
def test_which_36009004_it_is_reads_from_its_message(
    message: str, skewed: bool, invalid_token: bool
) -> None:
    error = TikTokError(message, code=codes.BAD_CREDENTIALS)

    assert (error.clock_skewed, error.token_invalid) == (skewed, invalid_token)
