"""`aftersales simulate`: send realistic, correctly signed TikTok and logistics traffic to a
running service, then print a summary.

Deliveries for shops the service does not know wait until the shop is registered, so either
register the printed shops with `aftersales shops add`, or pass `--register` to register them
directly in the database named by DATABASE_URL (the one the service uses) before sending.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import time
from collections import Counter
from datetime import UTC, datetime

import httpx

from aftersales.commands import accounts
from aftersales.domain.errors import Conflict
from aftersales.inbox.replay import replay_waiting
from aftersales.settings import ConfigError, Settings
from aftersales.store import db
from devtools import traffic
from webhooks.signing import logistics_signature, tiktok_signature

MAX_DELIVERIES = 10_000_000  # what one run may plan (each is kept in memory until sent)
PATHS = {"tiktok": "/webhooks/tiktok", "logistics": "/webhooks/logistics"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Send signed TikTok and logistics webhooks (whole lifecycles of every after-sale type,"
        " duplicates, out-of-order deliveries) to a running service and print a summary."
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the service's base URL")
    parser.add_argument("--shops", type=int, default=3, help="how many shops (the first in ID)")
    parser.add_argument("--rate", type=float, default=20.0, help="deliveries per second (0: max)")
    amount = parser.add_mutually_exclusive_group()
    amount.add_argument(
        "--count",
        type=int,
        help="distinct deliveries to send (default 200); ~10%% repeats come on top",
    )
    amount.add_argument("--duration", type=float, help="seconds to send for, at --rate")
    parser.add_argument("--seed", type=int, help="repeat a run exactly (same ids: duplicates)")
    parser.add_argument("--seller", default="simulator", help="seller owning the shops")
    parser.add_argument(
        "--register",
        action="store_true",
        help="register the shops (and print a token) in DATABASE_URL's database before sending",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at most")


def _count(args: argparse.Namespace) -> int:
    if args.duration is not None:
        if args.rate <= 0:
            raise ConfigError("--duration needs a --rate above 0")
        planned = args.duration * args.rate  # float options take inf and nan too
        if not 0 < planned <= MAX_DELIVERIES:
            raise ConfigError(f"--duration times --rate must plan 1 to {MAX_DELIVERIES} deliveries")
        return max(1, int(planned))
    return int(args.count or 200)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """The `simulate` command handler."""
    key, secret = settings.tiktok_app_key, settings.tiktok_app_secret
    logistics_secret = settings.logistics_webhook_secret
    if not key or not secret or not logistics_secret:
        raise ConfigError(
            "simulate signs like TikTok and the logistics feed: set TIKTOK_APP_KEY,"
            " TIKTOK_APP_SECRET and LOGISTICS_WEBHOOK_SECRET to the service's values"
        )
    if args.shops < 1 or _count(args) < 1:
        raise ConfigError("--shops and --count must be at least 1")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise here
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**9)
    shops = traffic.shops(args.shops, seed)
    if args.register:
        asyncio.run(_register(shops, args.seller, settings))
    else:
        print("register the simulated shops so their deliveries apply (or pass --register):")
        for shop in shops:
            print(
                f"  aftersales shops add --seller {args.seller} --shop-id {shop.shop_id}"
                f" --region {shop.region} --name '{shop.name}'"
            )
    # Timelines end now: a service shows nothing as having happened in the future.
    plan = traffic.plan_until(
        shops, seed, _count(args), datetime.now(UTC), duplicate_rate=0.1, shuffle_rate=0.15
    )

    def sign(delivery: traffic.Delivery) -> dict[str, str]:
        if delivery.source == "tiktok":
            return {"Authorization": tiktok_signature(key, secret, delivery.body)}
        return {"X-Signature": logistics_signature(logistics_secret, delivery.body)}

    summary = asyncio.run(_send(args, plan, sign))
    print(summary.render(args.url, seed))
    return 0 if summary.ok else 1


async def _register(shops: list[traffic.SimShop], seller: str, settings: Settings) -> None:
    await db.migrate(settings.database_url)
    try:
        for shop in shops:
            try:
                await accounts.add_shop(seller, shop.shop_id, shop.region, shop.name)
                print(f"registered shop {shop.shop_id} ({shop.region}) for seller {seller!r}")
            except Conflict:
                print(f"shop {shop.shop_id} ({shop.region}) is already registered")
            await replay_waiting(
                shop.shop_id, now=datetime.now(UTC), windows=settings.dispute_windows
            )
        token = await accounts.create_token(seller)
        print(f"API token for seller {seller!r} (send it as 'Authorization: Bearer <token>'):")
        print(f"  {token}")
    finally:
        await db.close()


class Summary:
    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.sources: Counter[str] = Counter()
        self.scenarios: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.duplicates = 0
        self.elapsed = 0.0

    @property
    def ok(self) -> bool:
        return set(self.statuses) == {"200"}

    def render(self, url: str, seed: int) -> str:
        sent = sum(self.sources.values())
        ms = sorted(self.latencies) or [0.0]

        def pct(p: float) -> float:
            return ms[min(len(ms) - 1, int(p * len(ms)))] * 1000

        lines = [
            f"sent {sent} deliveries ({sent - self.duplicates} distinct + {self.duplicates}"
            f" repeats) to {url} in {self.elapsed:.1f} s"
            f" ({sent / max(self.elapsed, 1e-9):.0f}/s), seed {seed}",
            "  by source: " + ", ".join(f"{k} {v}" for k, v in sorted(self.sources.items())),
            "  scenarios: " + ", ".join(f"{k} {v}" for k, v in sorted(self.scenarios.items())),
            "  repeats are sent as TikTok retries; neighbours are swapped to arrive out of order",
            "  responses: " + ", ".join(f"{k} x{v}" for k, v in sorted(self.statuses.items())),
            f"  latency ms: p50 {pct(0.5):.1f}, p95 {pct(0.95):.1f}, max {ms[-1] * 1000:.1f}",
        ]
        return "\n".join(lines)


async def _send(
    args: argparse.Namespace,
    plan: list[traffic.Delivery],
    sign: traffic.Signer,
) -> Summary:
    summary = Summary()
    seen: set[bytes] = set()
    gate = asyncio.Semaphore(max(1, args.concurrency))
    began = time.perf_counter()

    async def one(client: httpx.AsyncClient, n: int, delivery: traffic.Delivery) -> None:
        if args.rate > 0:
            await asyncio.sleep(max(0.0, began + n / args.rate - time.perf_counter()))
        async with gate:
            sent = time.perf_counter()
            try:
                response = await client.post(
                    PATHS[delivery.source],
                    content=delivery.body,
                    headers={"Content-Type": "application/json", **sign(delivery)},
                )
                summary.statuses[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                summary.statuses[type(exc).__name__] += 1
            summary.latencies.append(time.perf_counter() - sent)

    for delivery in plan:
        summary.sources[delivery.source] += 1
        summary.scenarios[delivery.scenario] += delivery.body not in seen
        summary.duplicates += delivery.body in seen
        seen.add(delivery.body)
    async with httpx.AsyncClient(base_url=args.url, timeout=10.0) as client:
        await asyncio.gather(*(one(client, n, d) for n, d in enumerate(plan)))
    summary.elapsed = time.perf_counter() - began
    return summary
