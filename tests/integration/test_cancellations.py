"""Cancellations end to end (docs/lifecycle.md, docs/tiktok-sync.md), on both databases: the
stand-in TikTok pushes real signed type-11 webhooks to the service served over loopback HTTP,
the seller decides through GraphQL, the outbox pushes the decision to the stand-in, and the poll
repairs what a lost webhook missed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from tortoise import connections
from tortoise.transactions import in_transaction

from aftersales.commands.sweep import sweep_expired_disputes
from aftersales.domain.model import AfterSaleStatus
from aftersales.settings import load_settings
from aftersales.store.credentials import Vault
from aftersales.store.models import AfterSale, Shop, WebhookDelivery
from aftersales.tiktok import dispatch, imports
from aftersales.tiktok.client import TikTokClient, TikTokError
from aftersales.tiktok.link import Link
from devtools.sandbox import Fault, Sandbox
from tests.support.builders import WINDOWS, Seller, make_seller
from tests.support.clock import Clock
from tests.support.door import read, write
from tests.support.http import AppClient
from tests.support.sandbox import (
    ACCESS_TOKEN,
    APP_KEY,
    APP_SECRET,
    CIPHER,
    REFRESH_TOKEN,
    serving,
    serving_sandbox,
)

credentials = write("credentials")
queries = read("sales")
S = AfterSaleStatus
REASON = "seller_reject_apply_package_has_been_shipped"

SALE = """query($id: ID!) { afterSale(id: $id) {
  type status returnId returnStatus disputeStatus disputeDeadline platformStatus mustNotShip
  syncStatus syncError availableActions refundRequested { amount currency }
  refundAmount { amount } items { sku quantity } sellerResponseDeadline
  history { actor action fromStatus toStatus source } } }"""
APPROVE = """mutation($input: AfterSaleIdInput!) { approveCancellation(input: $input) {
  afterSale { status mustNotShip syncStatus } userErrors { code field message } } }"""
REJECT = """mutation($input: RejectInput!) { rejectCancellation(input: $input) {
  afterSale { status syncStatus } userErrors { code field message } } }"""
APPROVE_BULK = """mutation($input: BulkIdsInput!) { approveCancellationBulk(input: $input) {
  results { id afterSale { status mustNotShip } userErrors { code } } } }"""
REJECT_BULK = """mutation($input: BulkRejectInput!) { rejectCancellationBulk(input: $input) {
  results { id afterSale { status } userErrors { code } } } }"""
MUST_NOT_SHIP = """query($ship: Boolean) {
  afterSales(type: CANCELLATION, mustNotShip: $ship, first: 100) {
    totalCount edges { node { returnId mustNotShip } } } }"""
COUNTS = """query { afterSaleCounts(type: CANCELLATION) { status count } }"""
REASONS = """query($id: ID!) { rejectReasons(id: $id) { code text } }"""


@dataclass
class World:
    sandbox: Sandbox
    link: Link
    seller: Seller
    clock: Clock
    app: AppClient

    def start(self, *, role: str = "BUYER", webhook: bool = True, **extra: Any) -> str:
        """A cancellation started on TikTok's side (a type 11 pushed unless `webhook` False)."""
        self.clock.advance(seconds=1)
        obj = self.sandbox.put_cancellation(
            self.seller.shop_id,
            {"role": role, "refund_amount": {"currency": "IDR", "refund_total": "50000"}, **extra},
            webhook=webhook,
        )
        return str(obj["cancel_id"])

    def move(self, cancel_id: str, status: str, *, webhook: bool = True) -> None:
        self.clock.advance(seconds=1)
        self.sandbox.move_cancellation(cancel_id, status, webhook=webhook)

    async def delivered(self) -> None:
        await self.sandbox.wait_for_webhooks()

    async def sale(self, cancel_id: str) -> dict[str, Any]:
        row = await AfterSale.get(return_id=cancel_id)
        data = await self.app.gql(SALE, {"id": str(row.id)}, token=self.seller.token)
        return dict(data["afterSale"], id=str(row.id))

    async def dispatch(self) -> None:
        self.clock.advance(seconds=1)
        await dispatch.dispatch(self.link)
        await self.delivered()

    def decisions(self) -> list[Any]:
        return [c for c in self.sandbox.calls if c.path.endswith(("/approve", "/reject"))]


async def _world(database: str, clock: Clock, region: str) -> AsyncIterator[World]:
    sandbox = Sandbox(APP_KEY, APP_SECRET, now=lambda: clock.now().timestamp())
    seller = await make_seller(region=region)
    sandbox.add_shop(
        seller.shop_id,
        cipher=CIPHER,
        access_token=ACCESS_TOKEN,
        refresh_token=REFRESH_TOKEN,
        region=region,
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
    from api.app import create_app

    async with serving_sandbox(sandbox) as base_url:
        settings = load_settings(
            {
                "DATABASE_URL": database,
                "TIKTOK_APP_KEY": APP_KEY,
                "TIKTOK_APP_SECRET": APP_SECRET,
                "LOGISTICS_WEBHOOK_SECRET": "test-logistics-secret",
                "AFTERSALES_SECRET_KEY": key,
                "TIKTOK_API_BASE_URL": base_url,
            }
        )
        asgi = create_app(settings, clock=clock.now, manage_database=False, run_jobs=False)
        async with (
            asgi.router.lifespan_context(asgi),
            serving(asgi) as service_url,
            httpx.AsyncClient(base_url=service_url) as http,
        ):
            sandbox.webhook_url = f"{service_url}/webhooks/tiktok"
            client = TikTokClient(
                base_url=base_url,
                auth_base_url=base_url,
                app_key=APP_KEY,
                app_secret=APP_SECRET,
                timeout=2.0,
                max_retries=0,
                now=lambda: clock.now().timestamp(),
            )
            link = Link(client=client, vault=vault, windows=WINDOWS, clock=clock.now)
            try:
                yield World(sandbox, link, seller, clock, AppClient(http, settings, clock))
            finally:
                await link.aclose()


@pytest.fixture
async def world(database: str, clock: Clock) -> AsyncIterator[World]:
    async for each in _world(database, clock, "ID"):
        yield each


@pytest.fixture
async def us_world(database: str, clock: Clock) -> AsyncIterator[World]:
    async for each in _world(database, clock, "US"):
        yield each


def _last(sale: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = sale["history"][-1]
    return entry


async def test_a_webhook_cancellation_approved_by_the_seller_is_pushed_and_must_not_ship(
    world: World,
) -> None:
    cancel_id = world.start()
    await world.delivered()

    created = await world.sale(cancel_id)
    assert (created["type"], created["status"], created["returnId"]) == (
        "CANCELLATION",
        "PENDING_REQUEST",
        cancel_id,
    )
    assert (created["returnStatus"], created["disputeStatus"], created["mustNotShip"]) == (
        "OTHER",
        "NONE",
        False,
    )
    assert created["availableActions"] == [
        "APPROVE_CANCELLATION",
        "REJECT_CANCELLATION",
        "ADD_NOTE",
    ]
    assert _last(created)["actor"] == "BUYER"
    await world.dispatch()  # the thin type 11 queued a Search Cancellations fetch
    fetched = await world.sale(cancel_id)
    assert fetched["refundRequested"] == {"amount": "50000.00", "currency": "IDR"}
    assert fetched["items"] == [{"sku": "SKU-SANDBOX-1", "quantity": 1}]
    assert fetched["sellerResponseDeadline"] is not None

    done = await world.app.gql(APPROVE, {"input": {"id": fetched["id"]}}, token=world.seller.token)
    assert done["approveCancellation"]["afterSale"] == {
        "status": "REFUNDED",
        "mustNotShip": True,
        "syncStatus": "PENDING",
    }
    await world.dispatch()

    [call] = world.decisions()
    assert call.path == f"/return_refund/202309/cancellations/{cancel_id}/approve"
    assert call.body == {}
    key = rf"[A-Za-z0-9_]{{16}}-{cancel_id}-v[0-9]+-approve_cancellation-1"
    assert call.idempotency_key and re.fullmatch(key, call.idempotency_key)
    assert call.code == 0 and call.changed
    after = await world.sale(cancel_id)
    assert (after["status"], after["syncStatus"], after["mustNotShip"]) == (
        "REFUNDED",
        "SYNCED",
        True,
    )
    assert after["refundAmount"] == {"amount": "50000.00"}
    assert after["platformStatus"] == "CANCELLATION_REQUEST_SUCCESS"
    shipped = await world.app.gql(MUST_NOT_SHIP, {"ship": True}, token=world.seller.token)
    assert shipped["afterSales"]["edges"] == [
        {"node": {"returnId": cancel_id, "mustNotShip": True}}
    ]


async def test_a_rejection_with_a_reason_code_is_confirmed_by_tiktok_closing_it(
    world: World,
) -> None:
    cancel_id = world.start()
    await world.delivered()
    await world.dispatch()  # the fetch the thin type 11 queued
    sale = await world.sale(cancel_id)
    reasons = await world.app.gql(REASONS, {"id": sale["id"]}, token=world.seller.token)
    assert REASON in [r["code"] for r in reasons["rejectReasons"]]

    given = {"id": sale["id"], "reason": "Already packed", "reasonCode": REASON}
    done = await world.app.gql(REJECT, {"input": given}, token=world.seller.token)
    assert done["rejectCancellation"]["afterSale"] == {
        "status": "REJECTED",
        "syncStatus": "PENDING",
    }
    entries = len((await world.sale(cancel_id))["history"])
    await world.dispatch()  # TikTok closes it and pushes CANCELLED

    [call] = world.decisions()
    assert call.path == f"/return_refund/202309/cancellations/{cancel_id}/reject"
    assert call.body == {"reject_reason": REASON, "comment": "Already packed"}
    after = await world.sale(cancel_id)
    assert (after["status"], after["syncStatus"], after["platformStatus"]) == (
        "REJECTED",
        "SYNCED",
        "CANCELLATION_REQUEST_CANCELLED",
    )
    assert (after["disputeDeadline"], after["mustNotShip"]) == (None, False)
    assert len(after["history"]) == entries  # the confirmation adds no entry
    await sweep_expired_disputes(world.clock.now() + timedelta(days=365))
    assert (await world.sale(cancel_id))["status"] == "REJECTED"  # final: never swept


async def test_a_buyer_withdrawal_closes_the_request_as_the_buyer(world: World) -> None:
    cancel_id = world.start()
    world.move(cancel_id, "CANCELLATION_REQUEST_CANCELLED")
    await world.delivered()

    sale = await world.sale(cancel_id)

    assert sale["status"] == "REQUEST_CLOSED" and sale["mustNotShip"] is False
    assert _last(sale) == {
        "actor": "BUYER",
        "action": "PLATFORM_STATUS_REPORTED",
        "fromStatus": "PENDING_REQUEST",
        "toStatus": "REQUEST_CLOSED",
        "source": "TIKTOK_WEBHOOK",
    }


async def test_an_auto_approval_reported_by_tiktok_refunds_as_the_platform(world: World) -> None:
    cancel_id = world.start()
    world.move(cancel_id, "CANCELLATION_REQUEST_SUCCESS")
    await world.delivered()

    sale = await world.sale(cancel_id)

    assert (sale["status"], sale["mustNotShip"]) == ("REFUNDED", True)
    assert (_last(sale)["actor"], _last(sale)["toStatus"]) == ("PLATFORM", "REFUNDED")
    assert sale["availableActions"] == ["ADD_NOTE"]


async def test_a_lost_webhook_is_repaired_by_the_poll(world: World) -> None:
    cancel_id = world.start(webhook=False)
    world.move(cancel_id, "CANCELLATION_REQUEST_SUCCESS", webhook=False)
    assert await AfterSale.filter(return_id=cancel_id).count() == 0

    run = await imports.poll(world.link)

    assert run.shops == 1 and run.failed == 0
    sale = await world.sale(cancel_id)
    assert (sale["status"], sale["mustNotShip"], sale["type"]) == ("REFUNDED", True, "CANCELLATION")
    assert {h["source"] for h in sale["history"]} == {"TIKTOK_API"}
    searches = [c for c in world.sandbox.calls if c.path.endswith("/cancellations/search")]
    assert searches and all("update_time_ge" in c.body for c in searches)


async def test_a_seller_started_cancellation_is_recorded_and_makes_no_after_sale(
    world: World,
) -> None:
    cancel_id = world.start(role="SELLER")
    await world.delivered()
    system = world.start(role="SYSTEM", webhook=False)
    await imports.poll(world.link)

    assert await AfterSale.filter(return_id__in=[cancel_id, system]).count() == 0
    [delivery] = await WebhookDelivery.filter(source="tiktok", event_type="11")
    assert delivery.outcome == "recorded" and "seller" in (delivery.reason or "")
    fetched = await WebhookDelivery.filter(source="tiktok_api", outcome="recorded").count()
    assert fetched == 2  # both, seen by the poll (cancel_type CANCEL)


async def test_an_approval_answered_already_shipped_does_not_show_must_not_ship(
    world: World,
) -> None:
    cancel_id = world.start()
    await world.delivered()
    sale = await world.sale(cancel_id)
    world.sandbox.mark_shipped(cancel_id)

    await world.app.gql(APPROVE, {"input": {"id": sale["id"]}}, token=world.seller.token)
    await world.dispatch()

    [call] = world.decisions()
    assert call.code == 25001045
    after = await world.sale(cancel_id)
    assert (after["status"], after["syncStatus"], after["mustNotShip"]) == (
        "REFUNDED",
        "FAILED",
        False,
    )
    assert "already shipped" in after["syncError"] and "25001045" in after["syncError"]
    assert after["platformStatus"] == "CANCELLATION_REQUEST_PENDING"
    listed = await world.app.gql(MUST_NOT_SHIP, {"ship": True}, token=world.seller.token)
    assert listed["afterSales"]["totalCount"] == 0


async def test_a_us_shop_cannot_reject_a_cancellation(us_world: World) -> None:
    world = us_world
    cancel_id = world.start()
    await world.delivered()
    sale = await world.sale(cancel_id)
    assert "REJECT_CANCELLATION" not in sale["availableActions"]

    given = {"id": sale["id"], "reason": "Packed", "reasonCode": REASON}
    done = await world.app.gql(REJECT, {"input": given}, token=world.seller.token)

    [error] = done["rejectCancellation"]["userErrors"]
    assert error["code"] == "REGION_NOT_SUPPORTED"
    assert (await world.sale(cancel_id))["status"] == "PENDING_REQUEST"
    # TikTok refuses it too.
    creds = await world.link.shop((await Shop.get(shop_id=world.seller.shop_id)).id)
    assert creds is not None
    with pytest.raises(TikTokError) as refused:
        await world.link.client.decide(
            creds, cancel_id, "reject", {"reject_reason": REASON}, "k-1", cancellation=True
        )
    assert "US" in refused.value.message


async def test_counts_filters_and_bulk_forms_of_cancellations(world: World) -> None:
    ids = [world.start() for _ in range(3)]
    await world.delivered()
    rows = [str((await AfterSale.get(return_id=i)).id) for i in ids]

    approved = await world.app.gql(
        APPROVE_BULK, {"input": {"ids": rows[:2]}}, token=world.seller.token
    )
    rejected = await world.app.gql(
        REJECT_BULK,
        {"input": {"ids": rows[2:], "reason": "Packed", "reasonCode": REASON}},
        token=world.seller.token,
    )

    assert [r["afterSale"] for r in approved["approveCancellationBulk"]["results"]] == [
        {"status": "REFUNDED", "mustNotShip": True}
    ] * 2
    assert rejected["rejectCancellationBulk"]["results"][0]["afterSale"] == {"status": "REJECTED"}
    counts = await world.app.gql(COUNTS, token=world.seller.token)
    assert {(c["status"], c["count"]) for c in counts["afterSaleCounts"]} >= {
        ("REFUNDED", 2),
        ("REJECTED", 1),
    }
    must = await world.app.gql(MUST_NOT_SHIP, {"ship": True}, token=world.seller.token)
    assert must["afterSales"]["totalCount"] == 2
    other = await world.app.gql(MUST_NOT_SHIP, {"ship": False}, token=world.seller.token)
    assert other["afterSales"]["totalCount"] == 1


async def test_the_must_not_ship_list_is_read_through_its_partial_index(database: str) -> None:
    query = (
        "SELECT id FROM after_sale AS a WHERE a.shop_id = 1 AND a.type = 'CANCELLATION'"
        " AND a.must_not_ship = TRUE ORDER BY a.created_at DESC, a.id DESC LIMIT 21"
    )
    if database.startswith("postgres"):
        async with in_transaction("default") as tx:  # one connection: the SET holds for it
            await tx.execute_script("SET LOCAL enable_seqscan = off")  # a tiny table otherwise
            plan = await tx.execute_query_dict("EXPLAIN " + query)
        text = " ".join(str(v) for row in plan for v in row.values())
    else:
        conn = connections.get("default")
        plan = await conn.execute_query_dict("EXPLAIN QUERY PLAN " + query)
        text = " ".join(str(row.get("detail")) for row in plan)

    assert "after_sale_must_not_ship" in text, text


async def test_the_poll_mark_moves_only_when_the_cancellations_were_searched_too(
    world: World,
) -> None:
    shop = await Shop.get(shop_id=world.seller.shop_id)
    world.start(webhook=False)
    world.sandbox.fail("/cancellations/search", Fault.code(36009003, "busy"))

    failed = await imports.poll(world.link)

    assert failed.failed == 1
    assert (await Shop.get(id=shop.id)).synced_until is None  # the window is polled again
    world.clock.advance(seconds=world.link.poll_interval.total_seconds())
    repaired = await imports.poll(world.link)
    assert repaired.failed == 0
    assert (await Shop.get(id=shop.id)).synced_until is not None
    assert await AfterSale.filter(type="CANCELLATION").count() == 1
