"""Realistic webhook traffic for `aftersales simulate`: whole after-sale lifecycles as TikTok
and the logistics feed would send them. Pure: bodies are built from a seeded `random.Random`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

REGIONS = ("ID", "MY", "TH", "VN", "PH", "SG")
CURRENCIES = {"ID": "IDR", "MY": "MYR", "TH": "THB", "VN": "VND", "PH": "PHP", "SG": "SGD"}
CARRIERS = ("J&T Express", "SPX Express", "Ninja Van", "Flash Express", "Kerry Express")
PRODUCTS = (("MUG-BLUE", "Blue mug"), ("TSHIRT-M", "T-shirt M"), ("CASE-IP15", "Phone case"))
REASONS = ("Item damaged", "Wrong size", "Not as described", "Changed my mind")
ABNORMAL = ("REFUSED_BY_BUYER", "PLATFORM_RECALL", "BUYER_UNREACHABLE", "LOGISTICS_ISSUE")


@dataclass(frozen=True)
class SimShop:
    shop_id: str
    region: str
    name: str


@dataclass(frozen=True)
class Delivery:
    source: str  # "tiktok" | "logistics"
    body: bytes
    scenario: str
    at: int  # when what it reports happened, Unix seconds


def shops(count: int, seed: int) -> list[SimShop]:
    """`count` shops, the first in ID (exchanges are accepted there), then other regions."""
    base = 7494049642640000000 + (seed % 1000) * 1000
    return [
        SimShop(str(base + n), REGIONS[n % len(REGIONS)], f"Sim shop {n + 1}") for n in range(count)
    ]


def _body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


class Traffic:
    def __init__(self, shops: list[SimShop], rng: random.Random, start: datetime) -> None:
        self.shops = shops
        self.rng = rng
        self.clock = int(start.timestamp())
        self.next_id = rng.randrange(576000000000000000, 577000000000000000)
        self.events = 0

    def _id(self) -> str:
        self.next_id += self.rng.randrange(1, 1000)
        return str(self.next_id)

    def _tick(self) -> int:
        self.clock += self.rng.randrange(60, 3600)
        return self.clock

    def _tiktok(self, shop: SimShop, data: dict[str, Any], type_: int = 12) -> bytes:
        envelope: dict[str, Any] = {"type": type_}
        if self.rng.random() > 0.05:  # a few come without an id: deduped by body hash
            envelope["tts_notification_id"] = self._id()
        envelope |= {"shop_id": shop.shop_id, "timestamp": self.clock, "data": data}
        return _body(envelope)

    def _parcel(self, shop: SimShop, status: str, **fields: Any) -> bytes:
        self.events += 1
        at = datetime.fromtimestamp(self._tick(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {"event_id": f"trk-{self.next_id}-{self.events}", "occurred_at": at}
        return _body(event | {"shop_id": shop.shop_id, "status": status} | fields)

    def lifecycle(self, shop: SimShop, scenario: str) -> list[Delivery]:
        """One after-sale's deliveries, in the order they happened."""
        # Read the clock after each step is drawn: it is the time of that step's event.
        steps = self._steps(shop, scenario)
        return [Delivery(source, body, scenario, self.clock) for source, body in steps]

    def _steps(self, shop: SimShop, scenario: str) -> Iterator[tuple[str, bytes]]:
        rng = self.rng
        currency = CURRENCIES[shop.region]
        order_id, return_id = self._id(), self._id()
        sku, name = rng.choice(PRODUCTS)
        units = rng.randrange(1, 4)
        unit = rng.choice(("19.90", "45.00", "120.50")) if currency != "IDR" else "150000"
        total = str(Decimal(unit) * units)
        created = self._tick()
        return_type = {"refund": "REFUND", "exchange": "REPLACEMENT"}.get(
            scenario.split("-")[0], "RETURN_AND_REFUND"
        )

        if scenario.startswith("cancel-"):
            yield from self._cancellation(shop, scenario, order_id, created)
            return

        def report(status: str, role: str = "BUYER", **extra: Any) -> tuple[str, bytes]:
            data = {
                "order_id": order_id,
                "return_id": return_id,
                "return_role": role,
                "return_type": return_type,
                "return_status": status,
                "create_time": created,
                "update_time": self._tick(),
            }
            return "tiktok", self._tiktok(shop, data | extra)

        if scenario == "abnormal":
            tracking = f"JX{rng.randrange(10**9, 10**10)}"
            carrier = rng.choice(CARRIERS)
            yield (
                "logistics",
                self._parcel(
                    shop,
                    "RETURN_TO_SENDER",
                    order_id=order_id,
                    return_id=None,
                    tracking_number=tracking,
                    carrier=carrier,
                    abnormal_reason=rng.choice(ABNORMAL),
                    items=[{"sku": sku, "quantity": units}],
                ),
            )
            for status in ("IN_TRANSIT", "DELIVERED")[: rng.randrange(1, 3)]:
                yield (
                    "logistics",
                    self._parcel(
                        shop, status, order_id=order_id, tracking_number=tracking, carrier=carrier
                    ),
                )
            return
        pending = (
            "REPLACEMENT_REQUEST_PENDING"
            if return_type == "REPLACEMENT"
            else "RETURN_OR_REFUND_REQUEST_PENDING"
        )
        yield report(
            pending,
            refund_amount={"currency": currency, "refund_total": total},
            return_reason_text=rng.choice(REASONS),
            return_line_items=[
                {
                    "sku_id": self._id(),
                    "seller_sku": sku,
                    "product_name": name,
                    "refund_amount": {"currency": currency, "refund_total": unit},
                }
                for _ in range(units)
            ],
            seller_next_action_response=[
                {"action": "SELLER_RESPOND_RETURN", "deadline": created + 172800}
            ],
        )
        if scenario == "return-full":
            tracking = f"RT{rng.randrange(10**9, 10**10)}"
            carrier = rng.choice(CARRIERS)
            yield report("AWAITING_BUYER_SHIP", role="SELLER")
            yield report(
                "BUYER_SHIPPED_ITEM", return_tracking_number=tracking, return_provider_name=carrier
            )
            for status in ("IN_TRANSIT", "DELIVERED"):
                yield (
                    "logistics",
                    self._parcel(
                        shop,
                        status,
                        order_id=order_id,
                        return_id=return_id,
                        tracking_number=tracking,
                        carrier=carrier,
                    ),
                )
            yield report("RETURN_OR_REFUND_REQUEST_SUCCESS", role="SELLER")
        elif scenario == "return-shipped":
            yield report("AWAITING_BUYER_SHIP", role="SELLER")
            yield report("BUYER_SHIPPED_ITEM", return_tracking_number=f"RT{self._id()[-10:]}")
        elif scenario == "return-dispute":
            yield report("REFUND_OR_RETURN_REQUEST_REJECT", role="SELLER")
            yield report("REFUND_OR_RETURN_REQUEST_REJECT", arbitration_status="IN_PROGRESS")
        elif scenario == "refund-partial":
            offer = {"currency": currency, "amount": unit}
            yield report("AWAITING_BUYER_RESPONSE", role="SELLER", partial_refund=offer)
            if rng.random() < 0.5:
                yield report("RETURN_OR_REFUND_REQUEST_SUCCESS")
            else:
                yield report("AWAITING_BUYER_RESPONSE", buyer_rejected_partial_refund=True)
        elif scenario == "refund-cancelled":
            yield report("RETURN_OR_REFUND_REQUEST_CANCEL")
        elif scenario == "refund-edited":
            # The buyer edits the request: TikTok opens a new return naming the old one (a
            # relay's full object), and the old request is superseded.
            yield report(
                pending,
                return_id=self._id(),
                pre_return_id=return_id,
                refund_amount={"currency": currency, "refund_total": total},
                return_reason_text=rng.choice(REASONS),
            )
        elif scenario == "refund-accepted":
            yield report("RETURN_OR_REFUND_REQUEST_COMPLETE", role="SYSTEM")
        elif scenario == "exchange-done":
            done = (
                "REPLACEMENT_REQUEST_COMPLETE"
                if shop.region == "ID"
                else "REPLACEMENT_REQUEST_REFUND_SUCCESS"
            )
            yield report(done, role="SELLER")
        # "return-pending", "refund-pending" and "exchange-pending" stay with the seller.

    def _cancellation(
        self, shop: SimShop, scenario: str, order_id: str, created: int
    ) -> Iterator[tuple[str, bytes]]:
        """A buyer's cancellation (type 11, ordered by the envelope's timestamp): pending, then
        withdrawn by the buyer, approved by TikTok on its own, or left with the seller."""
        cancel_id = self._id()

        def report(status: str) -> tuple[str, bytes]:
            data = {
                "order_id": order_id,
                "cancel_id": cancel_id,
                "cancel_status": status,
                "cancellations_role": "BUYER",
                "create_time": created,
            }
            return "tiktok", self._tiktok(shop, data, 11)

        yield report("CANCELLATION_REQUEST_PENDING")
        if scenario == "cancel-withdrawn":
            self._tick()
            yield report("CANCELLATION_REQUEST_CANCELLED")
        elif scenario == "cancel-auto-approved":
            self._tick()
            yield report("CANCELLATION_REQUEST_SUCCESS")
        # "cancel-pending" stays with the seller.

    def noise(self, shop: SimShop) -> Delivery:
        """A topic that changes nothing: a cancellation the seller started (type 11, recorded)
        or an order status change (type 1)."""
        if self.rng.random() < 0.5:
            data = {
                "order_id": self._id(),
                "cancellations_role": "SELLER",
                "cancel_status": "CANCELLATION_REQUEST_PENDING",
                "cancel_id": self._id(),
                "create_time": self._tick(),
            }
            return Delivery("tiktok", self._tiktok(shop, data, 11), "cancellation", self.clock)
        data = {
            "order_id": self._id(),
            "order_status": "AWAITING_SHIPMENT",
            "is_on_hold_order": False,
            "update_time": self._tick(),
        }
        return Delivery("tiktok", self._tiktok(shop, data, 1), "order-status", self.clock)


SCENARIOS = (
    "return-pending",
    "return-full",
    "return-shipped",
    "return-dispute",
    "refund-partial",
    "refund-cancelled",
    "refund-edited",
    "refund-accepted",
    "refund-pending",
    "exchange-done",
    "exchange-pending",
    "abnormal",
    "cancel-pending",
    "cancel-withdrawn",
    "cancel-auto-approved",
)


def plan(
    traffic: Traffic, count: int, *, duplicate_rate: float, shuffle_rate: float
) -> list[Delivery]:
    """About `count` deliveries: lifecycles interleaved, some repeated, some out of order."""
    rng = traffic.rng
    out: list[Delivery] = []
    n = 0
    while len(out) < count:
        shop = traffic.shops[n % len(traffic.shops)]
        out.extend(traffic.lifecycle(shop, SCENARIOS[n % len(SCENARIOS)]))
        if n % 4 == 3:
            out.append(traffic.noise(shop))
        n += 1
    out = out[:count]
    for i in range(len(out) - 1):  # swap neighbours: deliveries arrive out of order
        if rng.random() < shuffle_rate:
            out[i], out[i + 1] = out[i + 1], out[i]
    for i in sorted(rng.sample(range(len(out)), int(len(out) * duplicate_rate)), reverse=True):
        later = min(len(out), i + rng.randrange(1, 20))  # TikTok retries a little later
        out.insert(later, out[i])
    return out


def plan_until(
    shops: list[SimShop],
    seed: int,
    count: int,
    end: datetime,
    *,
    duplicate_rate: float,
    shuffle_rate: float,
) -> list[Delivery]:
    """`plan`, with every timeline over by `end`: nothing is dated after it, the last event at it.

    How long the timelines span depends on the draws, so they are drawn twice from the same
    seed: once to measure the span, then again, identical, starting that long before `end`.
    """

    def draw(start: datetime) -> list[Delivery]:
        traffic = Traffic(shops, random.Random(seed), start)
        return plan(traffic, count, duplicate_rate=duplicate_rate, shuffle_rate=shuffle_rate)

    span = max(delivery.at for delivery in draw(end)) - int(end.timestamp())
    return draw(end - timedelta(seconds=span))


Signer = Callable[[Delivery], dict[str, str]]
