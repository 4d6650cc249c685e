"""Stock-in rules, pure (docs/stock.md): what a stock-in request may move, given what came back.

The hard rule: per SKU, the units stocked in (GOOD and DAMAGED together, over every call) never
exceed the units returned, so retries and double clicks cannot inflate stock. When a parcel's
contents are unknown (an abnormal return reported without items, or a return whose items TikTok
never sent) there is nothing to cap against: such a stock-in is only accepted with an
idempotency key, which is then the protection against counting one parcel twice.

Whatever the contents, no counter may pass `MAX_LEVEL`: an inventory level (sellable or damaged)
and an after-sale's units stocked in of one SKU are read through GraphQL's 32-bit `Int`, so a
stock-in that would take one past it is refused rather than break every read of it.
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
# Units per line, of a stock-in and of a parcel's items in the logistics feed alike.
MAX_LINE_QUANTITY = 10_000
# The most any stock counter may hold: GraphQL's Int is a signed 32-bit integer.
MAX_LEVEL = 2**31 - 1
MAX_KEY_LENGTH = 120
MAX_CODE_LENGTH = 64
# Warehouses a seller may have: every list of them stays one bounded answer.
MAX_WAREHOUSES = 200
MAX_NAME_LENGTH = 200
# What the "RETURN TO" block of a 4 x 6 inch label holds in full (api/labels/pdf.py).
MAX_ADDRESS_LINES = 8
MAX_ADDRESS_LENGTH = 400


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
    if address is not None:
        _check_address(address)
    return NewWarehouse(code, name, address)


def _check_address(address: str) -> None:
    """The address prints on 4 x 6 inch return labels, in full or not at all: refuse what the
    label cannot hold rather than print part of it."""
    lines = len(address.splitlines())
    if lines > MAX_ADDRESS_LINES or len(address) > MAX_ADDRESS_LENGTH:
        raise Invalid(
            f"a warehouse address must fit on a 4x6 inch return label: at most"
            f" {MAX_ADDRESS_LINES} lines and {MAX_ADDRESS_LENGTH} characters in all (long lines"
            f" wrap); this one has {lines} lines and {len(address)} characters",
            field="address",
        )


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
                f"line {i + 1} ({sku}): at most {MAX_LINE_QUANTITY:,} units per line,"
                f" got {line.quantity:,}",
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
    unknown, no cap but `MAX_LEVEL`); `stocked` is units per SKU already stocked in by earlier
    calls."""
    planned = validate_lines(lines)
    asked: dict[str, int] = {}
    for line in planned:
        asked[line.sku] = asked.get(line.sku, 0) + line.quantity
    for i, line in enumerate(lines):
        sku = line.sku.strip()
        if stocked.get(sku, 0) + asked[sku] > MAX_LEVEL:
            raise InvalidQuantity(
                f"SKU {sku}: {stocked.get(sku, 0):,} units already stocked in for this"
                f" after-sale; {asked[sku]:,} more would pass the most that can be counted"
                f" ({MAX_LEVEL:,})",
                field=f"lines.{i}.quantity",
            )
        if not returned:
            continue
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


def require_key_for_unknown_contents(returned: Mapping[str, int], key: str | None) -> None:
    """Without items there is nothing to cap a stock-in against: the idempotency key is then
    the only protection against counting one parcel twice, so it is required."""
    if not returned and key is None:
        raise Invalid(
            "this parcel's contents are unknown, so nothing caps what is stocked in: send an"
            " idempotencyKey (one per parcel scan), so that a retried call is not counted twice",
            field="idempotencyKey",
        )


def check_levels(
    lines: Sequence[StockLine], levels: Mapping[str, tuple[int, int]], *, warehouse: str
) -> None:
    """No inventory level may pass `MAX_LEVEL`. `lines` are the call's (valid) lines; `levels`
    is (sellable, damaged) per SKU in the warehouse now (a SKU it does not name holds nothing)."""
    adding: dict[tuple[str, StockCondition], int] = {}
    first: dict[tuple[str, StockCondition], int] = {}
    for i, line in enumerate(lines):
        key = (line.sku.strip(), line.condition)
        adding[key] = adding.get(key, 0) + line.quantity
        first.setdefault(key, i)
    for (sku, condition), quantity in adding.items():
        sellable, damaged = levels.get(sku, (0, 0))
        good = condition is StockCondition.GOOD
        held = sellable if good else damaged
        if held + quantity > MAX_LEVEL:
            raise InvalidQuantity(
                f"SKU {sku}: warehouse {warehouse} holds {held:,}"
                f" {'sellable' if good else 'damaged'} units; {quantity:,} more would pass the"
                f" most a level can hold ({MAX_LEVEL:,})",
                field=f"lines.{first[(sku, condition)]}.quantity",
            )


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
