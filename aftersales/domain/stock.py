"""Stock-in rules, pure (docs/stock.md): what a stock-in request may move, given what came back.

The hard rule: per SKU, the units stocked in (GOOD and DAMAGED together, over every call) never
exceed the units returned, so retries and double clicks cannot inflate stock. When a parcel's
contents are unknown (an abnormal return reported without items, or a return whose items TikTok
never sent) there is nothing to cap against: such a stock-in is only accepted with an
idempotency key, which is then the protection against counting one parcel twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aftersales.domain.errors import Invalid, InvalidQuantity
from aftersales.domain.model import StockCondition

MAX_LINES = 100
MAX_SKU_LENGTH = 100
MAX_LINE_QUANTITY = 100_000
MAX_KEY_LENGTH = 120
MAX_CODE_LENGTH = 64
MAX_NAME_LENGTH = 200
MAX_ADDRESS_LENGTH = 1000


@dataclass(frozen=True)
class StockLine:
    sku: str
    quantity: int
    condition: StockCondition


@dataclass(frozen=True)
class NewWarehouse:
    code: str
    name: str
    address: str | None = None


def validate_warehouse(code: str, name: str, address: str | None) -> NewWarehouse:
    """Trimmed, checked warehouse fields. Codes are the seller's own short references."""
    code, name = code.strip(), name.strip()
    if not code:
        raise Invalid("a warehouse needs a code", field="code")
    if len(code) > MAX_CODE_LENGTH:
        raise Invalid(f"a warehouse code has at most {MAX_CODE_LENGTH} characters", field="code")
    if not name:
        raise Invalid("a warehouse needs a name", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise Invalid(f"a warehouse name has at most {MAX_NAME_LENGTH} characters", field="name")
    address = (address or "").strip() or None
    if address is not None and len(address) > MAX_ADDRESS_LENGTH:
        raise Invalid(
            f"a warehouse address has at most {MAX_ADDRESS_LENGTH} characters", field="address"
        )
    return NewWarehouse(code, name, address)


def validate_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key:
        raise Invalid("idempotencyKey, when given, must not be blank", field="idempotencyKey")
    if len(key) > MAX_KEY_LENGTH:
        raise Invalid(
            f"idempotencyKey has at most {MAX_KEY_LENGTH} characters", field="idempotencyKey"
        )
    return key


def validate_lines(lines: Sequence[StockLine]) -> list[StockLine]:
    """Well-formed lines, each (sku, condition) once: repeated lines are added together."""
    if not lines:
        raise Invalid("give at least one line to stock in", field="lines")
    if len(lines) > MAX_LINES:
        raise Invalid(f"at most {MAX_LINES} lines per stock-in", field="lines")
    merged: dict[tuple[str, StockCondition], int] = {}
    for i, line in enumerate(lines):
        sku = line.sku.strip()
        if not sku or len(sku) > MAX_SKU_LENGTH:
            raise Invalid(
                f"line {i + 1}: a SKU is 1 to {MAX_SKU_LENGTH} characters", field=f"lines.{i}.sku"
            )
        if line.quantity <= 0:
            raise InvalidQuantity(
                f"line {i + 1} ({sku}): quantity must be at least 1, got {line.quantity}",
                field=f"lines.{i}.quantity",
            )
        if line.quantity > MAX_LINE_QUANTITY:
            raise InvalidQuantity(
                f"line {i + 1} ({sku}): at most {MAX_LINE_QUANTITY} units per line",
                field=f"lines.{i}.quantity",
            )
        merged[(sku, line.condition)] = merged.get((sku, line.condition), 0) + line.quantity
    return [StockLine(sku, qty, cond) for (sku, cond), qty in merged.items()]


def plan_stock_in(
    lines: Sequence[StockLine],
    returned: Mapping[str, int],
    stocked: Mapping[str, int],
) -> list[StockLine]:
    """The movements to make. `returned` is units per SKU that came back (empty: contents
    unknown, no cap); `stocked` is units per SKU already stocked in by earlier calls."""
    planned = validate_lines(lines)
    if not returned:
        return planned
    asked: dict[str, int] = {}
    for line in planned:
        asked[line.sku] = asked.get(line.sku, 0) + line.quantity
    for i, line in enumerate(lines):
        sku = line.sku.strip()
        if sku not in returned:
            # Zero of it came back, so any quantity is beyond what was returned (docs/stock.md).
            known = ", ".join(sorted(returned))
            raise InvalidQuantity(
                f"line {i + 1}: SKU {sku!r} is not among the items of this return ({known}),"
                " so none of it can be stocked in",
                field=f"lines.{i}.sku",
            )
        remaining = returned[sku] - stocked.get(sku, 0)
        if asked[sku] > remaining:
            raise InvalidQuantity(
                f"SKU {sku}: {returned[sku]} returned and {stocked.get(sku, 0)} already stocked"
                f" in, so at most {max(remaining, 0)} more can be; this call asks for {asked[sku]}",
                field=f"lines.{i}.quantity",
            )
    return planned


def fingerprint(warehouse_id: int, lines: Sequence[StockLine]) -> str:
    """What a call asked for, order-insensitive: a replayed key must ask for the same thing."""
    canonical = sorted((line.sku, line.condition.value, line.quantity) for line in lines)
    raw = json.dumps([warehouse_id, canonical], separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def lines_to_json(lines: Sequence[StockLine]) -> list[dict[str, object]]:
    return [{"sku": x.sku, "quantity": x.quantity, "condition": x.condition.value} for x in lines]


def lines_from_json(raw: object) -> tuple[StockLine, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(
        StockLine(str(x["sku"]), int(x["quantity"]), StockCondition(x["condition"])) for x in raw
    )
