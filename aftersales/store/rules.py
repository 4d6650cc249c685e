"""Sellers' rules (aftersales/domain/triage.py) and the after-sale's one evaluation mark.

Positions are 1, 2, ... per seller, rewritten whole when a rule is added, moved or deleted
(a seller has at most `MAX_RULES`), under a lock of the seller's row so that two edits at once
cannot give two rules one position."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from tortoise.expressions import Q, Subquery

from aftersales.domain.model import AfterSaleType
from aftersales.domain.triage import Actions, Conditions, Rule
from aftersales.store import sql
from aftersales.store.models import AfterSaleItem, TriageRule
from aftersales.store.sql import Connection, dialect

MAX_SHOP_ID = 64  # the shop table's shop_id column
_COLUMNS = ("id", "name", "position", "enabled", "shop_ids", "conditions", "accept", "tag", "note")


def _conditions(when: Conditions) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    if when.types is not None:
        stored["types"] = [t.value for t in when.types]
    if when.reason_contains is not None:
        stored["reasonContains"] = when.reason_contains
    if when.max_amount is not None:
        stored["maxAmount"] = {"amount": str(when.max_amount), "currency": when.max_currency}
    if when.skus is not None:
        stored["skus"] = list(when.skus)
    if when.regions is not None:
        stored["regions"] = list(when.regions)
    return stored


def _rule(row: Sequence[Any]) -> Rule:
    rule_id, name, position, enabled, shop_ids, stored, accept, tag, note = row
    stored = sql_json(stored) or {}
    shop_ids = sql_json(shop_ids)
    amount = stored.get("maxAmount")
    return Rule(
        id=int(rule_id),
        name=name,
        position=int(position),
        enabled=bool(enabled),
        shop_ids=None if shop_ids is None else tuple(shop_ids),
        when=Conditions(
            types=_tuple(stored.get("types"), AfterSaleType),
            reason_contains=stored.get("reasonContains"),
            max_amount=None if amount is None else Decimal(amount["amount"]),
            max_currency=None if amount is None else amount["currency"],
            skus=_tuple(stored.get("skus"), str),
            regions=_tuple(stored.get("regions"), str),
        ),
        then=Actions(accept=bool(accept), tag=tag, note=note),
    )


def sql_json(value: Any) -> Any:
    """A JSON column as read raw: SQLite and asyncpg give its text."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def _tuple(values: Any, kind: Any) -> tuple[Any, ...] | None:
    return None if values is None else tuple(kind(v) for v in values)


_SELECT = "SELECT " + ",".join(f'"{c}"' for c in _COLUMNS) + ' FROM "triage_rule"'


def rule_matches(conn: Connection, rule: Rule) -> Q:
    """`triage.matches` in SQL, but for `enabled` (a preview shows what the rule would do).
    (SQLite's LIKE folds ASCII letters only: elsewhere `reasonContains` is exact there.)"""
    q = Q()
    if rule.shop_ids is not None:
        # An id longer than the column names no shop (and Tortoise would refuse to send it).
        shop_ids = [i for i in rule.shop_ids if len(i) <= MAX_SHOP_ID]
        q &= Q(shop__shop_id__in=shop_ids) if shop_ids else Q(id__in=[])
    when = rule.when
    if when.types is not None:
        q &= Q(type__in=list(when.types))
    if when.reason_contains is not None:
        q &= Q(reason__icontains=when.reason_contains)
    if when.max_amount is not None:
        q &= Q(currency=when.max_currency, refund_requested__lte=when.max_amount)
    if when.skus is not None:
        q &= Q(
            id__in=Subquery(
                AfterSaleItem.filter(sku__in=list(when.skus)).using_db(conn).values("after_sale_id")
            )
        )
    if when.regions is not None:
        q &= Q(shop__region__in=list(when.regions))
    return q


class RuleReads:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def of_seller(self, seller_id: int) -> list[Rule]:
        found = await sql.select(
            self._conn, f'{_SELECT} WHERE "seller_id" = ? ORDER BY "position","id"', [seller_id]
        )
        return [_rule(row) for row in found]


class Rules(RuleReads):
    async def lock_seller(self, seller_id: int) -> None:
        """Hold the seller's row until the transaction ends (SQLite: one writer at a time)."""
        if dialect(self._conn) == "postgres":
            await sql.select(
                self._conn, 'SELECT 1 FROM "seller" WHERE "id" = ? FOR UPDATE', [seller_id]
            )

    async def of_shop(self, shop_pk: int) -> list[Rule]:
        """The enabled rules of the shop's seller, in order (each rule's own shops still apply)."""
        found = await sql.select(
            self._conn,
            f'{_SELECT} WHERE "seller_id" = (SELECT "seller_id" FROM "shop" WHERE "id" = ?)'
            ' AND "enabled" ORDER BY "position","id"',
            [shop_pk],
        )
        return [_rule(row) for row in found]

    async def add(
        self,
        seller_id: int,
        *,
        name: str,
        shop_ids: Sequence[str] | None,
        when: Conditions,
        then: Actions,
        enabled: bool,
        position: int,
        at: datetime,
    ) -> int:
        row = await TriageRule.create(
            using_db=self._conn,
            seller_id=seller_id,
            name=name,
            position=position,
            enabled=enabled,
            shop_ids=None if shop_ids is None else list(shop_ids),
            conditions=_conditions(when),
            accept=then.accept,
            tag=then.tag,
            note=then.note,
            created_at=at,
        )
        return int(row.id)

    async def change(self, seller_id: int, rule: Rule) -> None:
        await (
            TriageRule.filter(id=rule.id, seller_id=seller_id)
            .using_db(self._conn)
            .update(
                name=rule.name,
                enabled=rule.enabled,
                shop_ids=None if rule.shop_ids is None else list(rule.shop_ids),
                conditions=_conditions(rule.when),
                accept=rule.then.accept,
                tag=rule.then.tag,
                note=rule.then.note,
            )
        )

    async def delete(self, seller_id: int, rule_id: int) -> None:
        await TriageRule.filter(id=rule_id, seller_id=seller_id).using_db(self._conn).delete()

    async def renumber(self, seller_id: int, ids: Sequence[int]) -> None:
        """Positions 1, 2, ... in the order of `ids`."""
        for position, rule_id in enumerate(ids, start=1):
            await (
                TriageRule.filter(id=rule_id, seller_id=seller_id)
                .using_db(self._conn)
                .update(position=position)
            )

    async def claim(self, sale_id: int) -> bool:
        """Take the after-sale's one evaluation: True for exactly one caller, ever (the mark is
        cleared by a conditional update, which a concurrent writer waits on, then finds
        cleared)."""
        changed = await sql.execute(
            self._conn,
            'UPDATE "after_sale" SET "rules_pending" = ? WHERE "id" = ? AND "rules_pending" = ?',
            [False, sale_id, True],
        )
        return changed == 1
