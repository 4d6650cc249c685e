"""The TikTok sync end to end against the stand-in API over real loopback HTTP, on both
databases: decisions pushed once (across a crash and with two dispatchers), retries, token
refresh, refused decisions corrected from a fetch, thin webhooks filled, polling, backfill, and
local-only shops that send nothing (docs/tiktok-sync.md)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.errors import Invalid
from aftersales.domain.model import AfterSaleStatus, EventSource, SellerAction
from aftersales.settings import load_settings
from aftersales.store.credentials import Vault
from aftersales.store.models import AfterSale, Shop, TikTokCall, WebhookDelivery
from aftersales.tiktok import dispatch, imports
from aftersales.tiktok.client import TikTokClient
from aftersales.tiktok.link import Link, refresh_due
from devtools.sandbox import Fault, Sandbox
from tests.support.builders import (
    WINDOWS,
    Seller,
    make_sale,
    make_seller,
    seller_id_of,
    unique_id,
)
from tests.support.clock import Clock
from tests.support.door import read, write
from tests.support.eventually import eventually_async
from tests.support.http import AppClient
from tests.support.sandbox import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    CIPHER,
    REFRESH_TOKEN,
    serving_sandbox,
)
from tests.support.webhooks import envelope, return_data
from webhooks.signing import tiktok_signature

credentials = write("credentials")
queries = read("sales")

A = SellerAction
S = AfterSaleStatus
REASON = "seller_reject_apply_product_has_been_used"


class Time:
    """The stand-in's and the client's clock (Unix seconds): real, moved on when told."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class World:
    sandbox: Sandbox
    link: Link
    seller: Seller
    seller_id: int
    shop_pk: int
    clock: Clock
    time: Time
    base_url: str
    key: str

    def put(self, status: str, *, return_type: str = "RETURN_AND_REFUND", **extra: Any) -> str:
        """A return on TikTok's side, with two lines and an amount; its id."""
        return_id = extra.pop("return_id", unique_id())
        line = {"sku_id": "111", "seller_sku": "MUG-1", "product_name": "Blue mug"}
        self.sandbox.put_return(
            self.seller.shop_id,
            {
                "return_id": return_id,
                "order_id": unique_id(),
                "return_type": return_type,
                "return_status": status,
                "role": "BUYER",
                "refund_amount": {"currency": "IDR", "refund_total": "80000.00"},
                "return_line_items": [
                    dict(line, refund_amount={"currency": "IDR", "refund_total": "40000.00"}),
                    dict(line, refund_amount={"currency": "IDR", "refund_total": "40000.00"}),
                ],
                "return_reason_text": "Arrived broken",
                **extra,
            },
        )
        self.time.advance(1)
        return return_id

    async def imported(self, return_id: str) -> int:
        """Fetch the return from TikTok into our database; the after-sale's id."""
        creds = await self.link.shop(self.shop_pk)
        assert creds is not None
        await imports.fetch(self.link, creds, return_id)
        return await _row(self, return_id)

    async def decide(self, sale_id: int, action: SellerAction, **kwargs: Any) -> None:
        await seller_commands.decide(
            self.seller_id,
            sale_id,
            Decision(action, **kwargs),
            now=self.clock.now(),
            windows=WINDOWS,
            push=True,
        )

    def decisions(self) -> list[Any]:
        return [c for c in self.sandbox.calls if c.path.endswith(("/approve", "/reject"))]


async def _sale(world: World, return_id: str) -> Any:
    row = await _row(world, return_id)
    record = await queries.get_sale(world.seller_id, row)
    assert record is not None
    return record


async def _row(world: World, return_id: str) -> int:
    found = await AfterSale.filter(return_id=return_id).first()
    assert found is not None, f"no after-sale for return {return_id}"
    return found.id


@pytest.fixture
async def world(database: str, clock: Clock) -> AsyncIterator[World]:
    ttime = Time()
    sandbox = Sandbox(APP_KEY, APP_SECRET, now=ttime)
    seller = await make_seller(region="ID")
    sandbox.add_shop(
        seller.shop_id, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN
    )
    key = Fernet.generate_key().decode()
    vault = Vault([key])
    await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        shop_cipher=CIPHER,
        now=clock.now(),
    )
    shop = await Shop.get(shop_id=seller.shop_id)
    async with serving_sandbox(sandbox) as base_url:
        client = TikTokClient(
            base_url=base_url,
            auth_base_url=base_url,
            app_key=APP_KEY,
            app_secret=APP_SECRET,
            timeout=1.0,
            max_retries=0,
            now=ttime,
        )
        link = Link(client=client, vault=vault, windows=WINDOWS, clock=clock.now)
        try:
            yield World(
                sandbox,
                link,
                seller,
                await seller_id_of(seller),
                shop.id,
                clock,
                ttime,
                base_url,
                key,
            )
        finally:
            await link.aclose()


# action, return_type, TikTok status before, verb, body sent (besides what each row adds)
TABLE = [
    (A.ACCEPT_RETURN, "RETURN_AND_REFUND", "RETURN_OR_REFUND_REQUEST_PENDING", "approve",
     {"decision": "APPROVE_RETURN"}, S.AWAITING_BUYER_SHIPMENT),
    (A.REJECT_RETURN, "RETURN_AND_REFUND", "RETURN_OR_REFUND_REQUEST_PENDING", "reject",
     {"decision": "REJECT_RETURN", "reject_reason": REASON, "comment": "Used"}, S.REJECTED),
    (A.OFFER_PARTIAL_REFUND, "RETURN_AND_REFUND", "RETURN_OR_REFUND_REQUEST_PENDING", "approve",
     {"decision": "OFFER_PARTIAL_REFUND",
      "partial_refund": {"amount": "40000", "currency": "IDR"}}, S.AWAITING_BUYER_RESPONSE),
    (A.CONFIRM_RECEIPT, "RETURN_AND_REFUND", "BUYER_SHIPPED_ITEM", "approve",
     {"decision": "APPROVE_RECEIVED_PACKAGE"}, S.REFUNDED),
    (A.REJECT_RECEIPT, "RETURN_AND_REFUND", "BUYER_SHIPPED_ITEM", "reject",
     {"decision": "REJECT_RECEIVED_PACKAGE", "reject_reason": REASON, "comment": "Used"},
     S.RECEIPT_REJECTED),
    (A.ACCEPT_REFUND, "REFUND", "RETURN_OR_REFUND_REQUEST_PENDING", "approve",
     {"decision": "APPROVE_REFUND"}, S.REFUNDED),
    (A.REJECT_REFUND, "REFUND", "RETURN_OR_REFUND_REQUEST_PENDING", "reject",
     {"decision": "REJECT_REFUND", "reject_reason": REASON, "comment": "Used"}, S.REJECTED),
    (A.ACCEPT_EXCHANGE, "REPLACEMENT", "REPLACEMENT_REQUEST_PENDING", "approve",
     {"decision": "APPROVE_REPLACEMENT"}, S.EXCHANGE_ACCEPTED),
    (A.REFUSE_EXCHANGE, "REPLACEMENT", "REPLACEMENT_REQUEST_PENDING", "reject",
     {"decision": "REJECT_REPLACEMENT", "reject_reason": REASON, "comment": "Used"}, S.REJECTED),
    (A.ISSUE_FULL_REFUND, "REPLACEMENT", "REPLACEMENT_REQUEST_PENDING", "approve",
     {"decision": "ISSUE_REPLACEMENT_REFUND"}, S.REFUNDED),
]  # fmt: skip


def _kwargs(action: SellerAction) -> dict[str, Any]:
    if action is A.OFFER_PARTIAL_REFUND:
        return {"amount": Decimal("40000")}
    if action in (A.REJECT_RETURN, A.REJECT_RECEIPT, A.REJECT_REFUND, A.REFUSE_EXCHANGE):
        return {"reason": "Used", "reason_code": REASON}
    return {}


@pytest.mark.parametrize(
    ("action", "return_type", "before", "verb", "body", "after"),
    TABLE,
    ids=[row[0].value for row in TABLE],
)
async def test_each_decision_is_sent_once_with_its_call_and_key(
    world: World,
    action: SellerAction,
    return_type: str,
    before: str,
    verb: str,
    body: dict[str, Any],
    after: AfterSaleStatus,
) -> None:
    return_id = world.put(before, return_type=return_type)
    sale_id = await world.imported(return_id)
    await world.decide(sale_id, action, **_kwargs(action))
    pending = await _sale(world, return_id)
    assert (pending.status, pending.sync_status) == (after, "PENDING")

    run = await dispatch.dispatch(world.link)
    await dispatch.dispatch(world.link)  # nothing left: nothing sent twice

    assert run.synced == 1
    [call] = world.decisions()
    assert call.method == "POST"
    assert call.path == f"/return_refund/202309/returns/{return_id}/{verb}"
    assert call.body == body
    key = rf"[A-Za-z0-9_]{{16}}-{return_id}-v[0-9]+-{action.value.lower()}-1"
    assert call.idempotency_key and re.fullmatch(key, call.idempotency_key)
    assert call.code == 0 and call.changed
    done = await _sale(world, return_id)
    assert (done.status, done.sync_status, done.sync_error, done.sync_attempts) == (
        after,
        "SYNCED",
        None,
        1,
    )


async def test_a_rejection_on_a_syncing_shop_needs_a_reason_code(world: World) -> None:
    sale_id = await world.imported(world.put("RETURN_OR_REFUND_REQUEST_PENDING"))
    with pytest.raises(Invalid) as refused:
        await world.decide(sale_id, A.REJECT_RETURN, reason="Used")
    assert refused.value.field == "reasonCode"
    assert await TikTokCall.filter(kind="DECISION").count() == 0


async def test_a_local_only_shop_sends_nothing(world: World) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    sale_id = await world.imported(return_id)
    # Without the TikTok API configured (push=False), as in local-only mode.
    await seller_commands.decide(
        world.seller_id, sale_id, Decision(A.ACCEPT_RETURN), now=world.clock.now(), windows=WINDOWS
    )
    # A shop without credentials, with the API configured.
    other = await make_seller(region="ID")
    other_sale = await make_sale(other)
    await seller_commands.decide(
        await seller_id_of(other),
        other_sale,
        Decision(A.ACCEPT_RETURN),
        now=world.clock.now(),
        windows=WINDOWS,
        push=True,
    )
    await dispatch.dispatch(world.link)
    assert world.decisions() == []
    assert await TikTokCall.filter(kind="DECISION").count() == 0
    assert (await _sale(world, return_id)).sync_status == "LOCAL_ONLY"


async def test_a_lost_answer_is_sent_again_with_the_same_key_and_applied_once(
    world: World,
) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    sale_id = await world.imported(return_id)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    world.sandbox.fail("/approve", Fault.delay(1.5))  # applied, but answered after our timeout

    first = await dispatch.dispatch(world.link)
    assert first.retrying == 1
    waiting = await _sale(world, return_id)
    assert waiting.sync_status == "PENDING" and "timed out" in (waiting.sync_error or "")

    await eventually_async(world.decisions, what="the stand-in finishes applying the first call")
    world.clock.advance(seconds=3)
    second = await dispatch.dispatch(world.link)
    assert second.synced == 1
    calls = world.decisions()
    assert len(calls) == 2 and calls[0].idempotency_key == calls[1].idempotency_key
    assert [c.changed for c in calls] == [True, False]  # TikTok applied it once
    assert (await _sale(world, return_id)).sync_status == "SYNCED"


async def test_a_dispatcher_killed_mid_call_is_taken_over_after_its_lease(world: World) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    sale_id = await world.imported(return_id)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    world.sandbox.fail("/approve", Fault.delay(0.5))

    killed = asyncio.create_task(dispatch.dispatch(world.link))
    # The call is in flight: the stand-in holds it for 0.5 s and shows nothing until it answers,
    # so there is nothing to poll; 0.2 s is well inside the hold.
    await asyncio.sleep(0.2)
    killed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await killed
    await eventually_async(world.decisions, what="the stand-in applies the abandoned call")

    assert (await dispatch.dispatch(world.link)).total == 0  # still leased
    world.clock.advance(seconds=world.link.lease.total_seconds() + 1)
    assert (await dispatch.dispatch(world.link)).synced == 1
    calls = world.decisions()
    assert len({c.idempotency_key for c in calls}) == 1
    assert sum(c.changed for c in calls) == 1


async def test_two_dispatchers_send_each_decision_once(world: World) -> None:
    sale_ids = []
    for _ in range(6):
        sale_ids.append(await world.imported(world.put("RETURN_OR_REFUND_REQUEST_PENDING")))
    for sale_id in sale_ids:
        await world.decide(sale_id, A.ACCEPT_RETURN)
    other = Link(client=world.link.client, vault=world.link.vault, windows=WINDOWS,
                 clock=world.clock.now)  # fmt: skip

    runs = await asyncio.gather(
        dispatch.dispatch(world.link, limit=4), dispatch.dispatch(other, limit=4)
    )
    runs += [await dispatch.dispatch(world.link)]

    assert sum(r.synced for r in runs) == 6
    keys = [c.idempotency_key for c in world.decisions()]
    assert len(keys) == 6 and len(set(keys)) == 6


async def test_429_is_retried_with_backoff_and_ends_synced(world: World) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    await world.decide(await world.imported(return_id), A.ACCEPT_RETURN)
    world.sandbox.fail("/approve", Fault.http(429), Fault.code(36009002, "rate limited"))

    await dispatch.dispatch(world.link)
    first = await _sale(world, return_id)
    assert (first.sync_status, first.sync_attempts) == ("PENDING", 1)
    assert "429" in (first.sync_error or "")
    assert (await dispatch.dispatch(world.link)).total == 0  # not before its backoff
    world.clock.advance(seconds=1)
    await dispatch.dispatch(world.link)
    second = await _sale(world, return_id)
    assert (second.sync_status, second.sync_error) == ("PENDING", "TikTok 36009002: rate limited")
    world.clock.advance(seconds=2)
    await dispatch.dispatch(world.link)
    done = await _sale(world, return_id)
    assert (done.sync_status, done.sync_attempts) == ("SYNCED", 3)


async def test_retries_stop_after_24_hours_as_failed(world: World) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    await world.decide(await world.imported(return_id), A.ACCEPT_RETURN)
    world.sandbox.fail("/approve", *[Fault.http(503)] * 3)
    await dispatch.dispatch(world.link)
    world.clock.advance(hours=24)
    await dispatch.dispatch(world.link)
    failed = await _sale(world, return_id)
    assert failed.sync_status == "FAILED"
    assert "gave up after 24 hours" in (failed.sync_error or "")


async def test_an_expired_token_is_refreshed_and_the_call_made_again(world: World) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    await world.decide(await world.imported(return_id), A.ACCEPT_RETURN)
    world.sandbox.expire_token(world.seller.shop_id)

    assert (await dispatch.dispatch(world.link)).synced == 1
    codes = [c.code for c in world.decisions()]
    assert codes == [105002, 0]
    creds = await world.link.shop(world.shop_pk)
    assert creds is not None and creds.access_token != ACCESS_TOKEN
    assert creds.access_token == world.sandbox.shops[world.seller.shop_id].access_token
    stored = await Shop.get(id=world.shop_pk)
    assert creds.access_token not in (stored.access_token or "")  # encrypted at rest


async def test_a_refused_decision_gives_way_to_a_newer_tiktok_status(
    world: World,
) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    sale_id = await world.imported(return_id)
    # The buyer cancels on TikTok (by TikTok's clock, after the seller's decision below: the
    # test's clock is weeks behind the stand-in's); its webhook is lost. The seller accepts.
    world.sandbox.set_status(return_id, "RETURN_OR_REFUND_REQUEST_CANCEL")
    await world.decide(sale_id, A.ACCEPT_RETURN)

    run = await dispatch.dispatch(world.link)

    assert run.failed == 1
    [call] = await TikTokCall.filter(kind="DECISION")
    assert (call.status, (call.last_error or "")[:10]) == ("FAILED", "TikTok 250")
    sale = await _sale(world, return_id)
    # TikTok's newer status is the after-sale's: the FAILED state ended with it (no longer the
    # seller's decision to retry), and history says where it came from.
    assert (sale.status, sale.sync_status, sale.sync_error) == (S.REQUEST_CLOSED, "SYNCED", None)
    history = await queries.history_by_sale([sale_id])
    last = history[sale_id][-1]
    assert (last.to_status, last.source) == (S.REQUEST_CLOSED, EventSource.TIKTOK_API)


async def test_retry_sync_queues_a_failed_decision_again(world: World) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    sale_id = await world.imported(return_id)
    await world.decide(sale_id, A.ACCEPT_RETURN)
    world.sandbox.fail("/approve", Fault.code(36004001, "something TikTok-side"))
    await dispatch.dispatch(world.link)
    assert (await _sale(world, return_id)).sync_status == "FAILED"

    await seller_commands.retry_sync(world.seller_id, sale_id, now=world.clock.now())
    assert (await _sale(world, return_id)).sync_status == "PENDING"
    await dispatch.dispatch(world.link)
    assert (await _sale(world, return_id)).sync_status == "SYNCED"
    with pytest.raises(Invalid):
        await seller_commands.retry_sync(world.seller_id, sale_id, now=world.clock.now())


async def test_a_thin_webhook_leads_to_a_fetch_that_fills_lines_and_amount(
    world: World, database: str
) -> None:
    from api.app import create_app

    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    settings = load_settings(
        {
            "DATABASE_URL": database,
            "TIKTOK_APP_KEY": APP_KEY,
            "TIKTOK_APP_SECRET": APP_SECRET,
            "LOGISTICS_WEBHOOK_SECRET": "test-logistics-secret",
            "TIKTOK_API_BASE_URL": world.base_url,
        }
    )
    app = create_app(settings, clock=world.clock.now, manage_database=False, run_jobs=False)
    thin = return_data("RETURN_OR_REFUND_REQUEST_PENDING", return_id=return_id)
    body = envelope(world.seller.shop_id, thin, notification_id=unique_id())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        answer = await client.post(
            "/webhooks/tiktok",
            content=body,
            headers={"Authorization": tiktok_signature(APP_KEY, APP_SECRET, body)},
        )
    assert answer.status_code == 200
    before = await _sale(world, return_id)
    assert before.refund_requested is None
    assert await TikTokCall.filter(kind="FETCH", return_id=return_id).count() == 1

    assert (await dispatch.dispatch(world.link)).synced == 1

    after = await _sale(world, return_id)
    assert (after.refund_requested, after.currency, after.reason) == (
        Decimal("80000.00"),
        "IDR",
        "Arrived broken",
    )
    items = (await queries.items_by_sale([after.id]))[after.id]
    assert [(i.sku, i.quantity) for i in items] == [("MUG-1", 2)]


async def test_polling_reconciles_a_lifecycle_whose_webhooks_were_all_dropped(
    world: World,
) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    first = await imports.poll(world.link)
    assert first.shops == 1 and first.returns >= 1
    assert (await _sale(world, return_id)).status is S.PENDING_REQUEST

    world.sandbox.set_status(return_id, "AWAITING_BUYER_SHIP", role="SELLER")
    world.time.advance(5)
    world.sandbox.set_status(return_id, "BUYER_SHIPPED_ITEM")
    world.time.advance(5)
    world.clock.advance(seconds=world.link.poll_interval.total_seconds())
    second = await imports.poll(world.link)

    assert second.shops == 1
    sale = await _sale(world, return_id)
    assert sale.status is S.SHIPPED_BY_BUYER
    history = await queries.history_by_sale([sale.id])
    assert {h.source for h in history[sale.id]} == {EventSource.TIKTOK_API}


async def test_sync_since_imports_a_shops_history_page_by_page(world: World) -> None:
    ids = [world.put("RETURN_OR_REFUND_REQUEST_PENDING") for _ in range(120)]
    creds = await world.link.shop(world.shop_pk)
    assert creds is not None

    run = await imports.sync_shop(world.link, creds, since=world.clock.now() - timedelta(days=30))

    # Three pages of returns, then one (empty) page of Search Cancellations over the same window.
    assert (run.pages, run.returns) == (4, 120)
    for return_id in (ids[0], ids[59], ids[-1]):
        assert (await _sale(world, return_id)).refund_requested == Decimal("80000.00")
    searches = [c for c in world.sandbox.calls if c.path.endswith("/returns/search")]
    assert [bool(c.query.get("page_token")) for c in searches] == [False, True, True]


SALE = """query($id: ID!) { afterSale(id: $id) { status syncStatus syncError syncAttempts } }"""
REASONS = """query($id: ID!) { rejectReasons(id: $id) { code text } }"""
REJECT = """mutation($input: RejectInput!) { rejectReturn(input: $input) {
  afterSale { status syncStatus } userErrors { code field message } } }"""
RETRY = """mutation($id: ID!) { retrySync(input: {id: $id}) {
  afterSale { syncStatus } userErrors { code field message } } }"""
SYNC_SHOP = """mutation($shop: String!, $since: DateTime) {
  syncShop(input: {shopId: $shop, since: $since}) { started userErrors { code field } } }"""


@asynccontextmanager
async def graphql_app(
    world: World, database: str, *, syncing: bool
) -> AsyncIterator[tuple[AppClient, Link | None]]:
    """The ASGI app with its lifespan run (which builds the TikTok link from the settings)."""
    from api.app import create_app

    env = {
        "DATABASE_URL": database,
        "TIKTOK_APP_KEY": APP_KEY,
        "TIKTOK_APP_SECRET": APP_SECRET,
        "LOGISTICS_WEBHOOK_SECRET": "test-logistics-secret",
        "AFTERSALES_SECRET_KEY": world.key,
    }
    if syncing:
        env["TIKTOK_API_BASE_URL"] = world.base_url
    settings = load_settings(env)
    asgi = create_app(settings, clock=world.clock.now, manage_database=False, run_jobs=False)
    async with (
        asgi.router.lifespan_context(asgi),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=asgi), base_url="http://testserver"
        ) as client,
    ):
        yield AppClient(client=client, settings=settings, clock=world.clock), asgi.state.tiktok


async def test_graphql_shows_the_sync_and_takes_reason_codes(world: World, database: str) -> None:
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    sale_id = str(await world.imported(return_id))
    async with graphql_app(world, database, syncing=True) as (app, link):
        token = world.seller.token
        shown = await app.gql(SALE, {"id": sale_id}, token=token)
        assert shown["afterSale"]["syncStatus"] == "LOCAL_ONLY"
        reasons = (await app.gql(REASONS, {"id": sale_id}, token=token))["rejectReasons"]
        assert {"code": REASON, "text": "[id-ID] The product has been used"} in reasons

        missing = await app.gql(REJECT, {"input": {"id": sale_id, "reason": "Used"}}, token=token)
        [error] = missing["rejectReturn"]["userErrors"]
        assert (error["code"], error["field"]) == ("VALIDATION", ["input", "reasonCode"])

        given = {"id": sale_id, "reason": "Used", "reasonCode": REASON}
        done = await app.gql(REJECT, {"input": given}, token=token)
        assert done["rejectReturn"]["afterSale"] == {"status": "REJECTED", "syncStatus": "PENDING"}
        await dispatch.dispatch(world.link)
        shown = await app.gql(SALE, {"id": sale_id}, token=token)
        assert shown["afterSale"] == {
            "status": "REJECTED",
            "syncStatus": "SYNCED",
            "syncError": None,
            "syncAttempts": 1,
        }
        [call] = world.decisions()
        assert call.body == {
            "decision": "REJECT_RETURN",
            "reject_reason": REASON,
            "comment": "Used",
        }

        retried = await app.gql(RETRY, {"id": sale_id}, token=token)
        assert retried["retrySync"]["userErrors"][0]["code"] == "VALIDATION"

        more = [world.put("RETURN_OR_REFUND_REQUEST_PENDING") for _ in range(3)]
        synced = await app.gql(
            SYNC_SHOP, {"shop": world.seller.shop_id, "since": "2026-01-01T00:00:00Z"}, token=token
        )
        assert synced["syncShop"] == {"started": True, "userErrors": []}
        assert link is not None
        await link.syncs.idle()
        assert (await _sale(world, more[-1])).refund_requested == Decimal("80000.00")
        unknown = await app.gql(SYNC_SHOP, {"shop": "999"}, token=token)
        assert unknown["syncShop"]["userErrors"] == [
            {"code": "NOT_FOUND", "field": ["input", "shopId"]}
        ]


async def test_graphql_in_local_only_mode_has_no_reasons_and_no_sync(
    world: World, database: str
) -> None:
    sale_id = str(await world.imported(world.put("RETURN_OR_REFUND_REQUEST_PENDING")))
    async with graphql_app(world, database, syncing=False) as (app, _):
        token = world.seller.token
        assert (await app.gql(REASONS, {"id": sale_id}, token=token))["rejectReasons"] == []
        done = await app.gql(REJECT, {"input": {"id": sale_id, "reason": "Used"}}, token=token)
        assert done["rejectReturn"]["afterSale"] == {
            "status": "REJECTED",
            "syncStatus": "LOCAL_ONLY",
        }
        synced = await app.gql(SYNC_SHOP, {"shop": world.seller.shop_id}, token=token)
        assert synced["syncShop"]["userErrors"] == [
            {"code": "VALIDATION", "field": ["input", "shopId"]}
        ]
    assert world.decisions() == []


async def test_the_token_job_refreshes_tokens_that_expire_within_a_day(world: World) -> None:
    soon = world.clock.now() + timedelta(hours=3)
    await credentials.set_credentials(
        world.link.vault,
        world.seller.shop_id,
        access_token=None,
        refresh_token=None,
        shop_cipher=None,
        access_token_expires_at=soon,
        now=world.clock.now(),
    )

    assert await refresh_due(world.link) == 1

    creds = await world.link.shop(world.shop_pk)
    on_tiktok = world.sandbox.shops[world.seller.shop_id]
    assert creds is not None and creds.access_token == on_tiktok.access_token != ACCESS_TOKEN
    assert creds.refresh_token == on_tiktok.refresh_token != REFRESH_TOKEN
    assert creds.access_token_expires_at is not None
    assert creds.access_token_expires_at.timestamp() == on_tiktok.access_expires_at
    # A week ahead now: nothing is due; and the new token works.
    assert await refresh_due(world.link) == 0
    return_id = world.put("RETURN_OR_REFUND_REQUEST_PENDING")
    assert await world.imported(return_id) > 0


async def test_a_malformed_return_object_is_logged_rejected_and_changes_nothing(
    world: World,
) -> None:
    return_id = world.put(
        "RETURN_OR_REFUND_REQUEST_PENDING",
        refund_amount={"currency": "IDR", "refund_total": "a lot"},
    )
    creds = await world.link.shop(world.shop_pk)
    assert creds is not None

    run = await imports.fetch(world.link, creds, return_id)

    assert run.outcomes == {"rejected": 1}
    assert await AfterSale.filter(return_id=return_id).count() == 0
    [logged] = await WebhookDelivery.filter(source="tiktok_api", outcome="rejected")
    assert "refund_amount.refund_total" in (logged.reason or "") and return_id in logged.body
