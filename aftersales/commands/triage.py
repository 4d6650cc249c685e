"""Sellers' rules: editing them, and their one evaluation when a request arrives (SPEC §13).

`evaluate` runs in the unit of work that created the request (a delivery's, or a poll's), so the
request and the rule's decision and its push to TikTok commit together, once: a concurrent copy
of the report loses the insert and never evaluates. A request whose thin report waits for the
fetch of its full return is created with a mark instead, which `after_fetch` clears by a
conditional update in the fetch's unit of work; only the one that clears it evaluates.
A rule acts through the seller's own command (`seller.decide_in`) with actor SYSTEM, source
RULE and the rule's name; a refusal is recorded as a RULE_FAILED history entry, never raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from aftersales.commands import seller
from aftersales.commands.retry import Lost
from aftersales.domain import tags as tag_rules
from aftersales.domain import triage
from aftersales.domain.errors import DomainError, Invalid, NotFound
from aftersales.domain.model import (
    Actor,
    AfterSaleStatus,
    ChangeAction,
    DisputeWindows,
    EventSource,
)
from aftersales.domain.triage import Actions, Conditions, Rule
from aftersales.store.uow import Tx, reading, uow

# --- Editing -------------------------------------------------------------------------------


async def _check_shops(seller_id: int, shop_ids: Sequence[str] | None) -> tuple[str, ...] | None:
    if shop_ids is None:
        return None
    async with reading() as r:
        own = {s.shop_id for s in await r.shops.shops_of(seller_id)}
    for n, shop_id in enumerate(shop_ids):
        if shop_id not in own:
            raise NotFound(f"no shop {shop_id!r} of this seller", field=f"shopIds.{n}")
    if not shop_ids:
        raise Invalid("shopIds lists no shop: leave it out for every shop", field="shopIds")
    return tuple(dict.fromkeys(shop_ids))


async def create_rule(
    seller_id: int,
    *,
    name: str,
    shop_ids: Sequence[str] | None,
    when: Conditions,
    then: Actions,
    enabled: bool,
    now: datetime,
) -> Rule:
    name, when, then = triage.check(name, when, then)
    shops = await _check_shops(seller_id, shop_ids)
    async with uow() as tx:
        await tx.rules.lock_seller(seller_id)
        held = await tx.rules.of_seller(seller_id)
        if len(held) >= triage.MAX_RULES:
            raise Invalid(f"a seller has at most {triage.MAX_RULES} rules", field="name")
        rule_id = await tx.rules.add(
            seller_id,
            name=name,
            shop_ids=shops,
            when=when,
            then=then,
            enabled=enabled,
            position=len(held) + 1,
            at=now,
        )
        return await _one(tx, seller_id, rule_id)


async def update_rule(
    seller_id: int,
    rule_id: int,
    *,
    name: str | None = None,
    shop_ids: Sequence[str] | None = None,
    all_shops: bool = False,
    when: Conditions | None = None,
    then: Actions | None = None,
    enabled: bool | None = None,
) -> Rule:
    """Change what is given; `all_shops` sets the rule back to every shop."""
    shops = await _check_shops(seller_id, shop_ids)
    async with uow() as tx:
        await tx.rules.lock_seller(seller_id)
        rule = await _one(tx, seller_id, rule_id)
        new_name, new_when, new_then = triage.check(
            rule.name if name is None else name,
            rule.when if when is None else when,
            rule.then if then is None else then,
        )
        rule = replace(
            rule,
            name=new_name,
            when=new_when,
            then=new_then,
            enabled=rule.enabled if enabled is None else enabled,
            shop_ids=None if all_shops else (shops if shops is not None else rule.shop_ids),
        )
        await tx.rules.change(seller_id, rule)
        return await _one(tx, seller_id, rule_id)


async def delete_rule(seller_id: int, rule_id: int) -> Rule:
    async with uow() as tx:
        await tx.rules.lock_seller(seller_id)
        rule = await _one(tx, seller_id, rule_id)
        await tx.rules.delete(seller_id, rule_id)
        await tx.rules.renumber(seller_id, [r.id for r in await tx.rules.of_seller(seller_id)])
        return rule


async def move_rule(seller_id: int, rule_id: int, position: int) -> Rule:
    """Put the rule at `position` (1 is the first), the others keeping their order."""
    async with uow() as tx:
        await tx.rules.lock_seller(seller_id)
        held = await tx.rules.of_seller(seller_id)
        ids = [r.id for r in held]
        if rule_id not in ids:
            raise NotFound("no rule with this id", field="id")
        if not 1 <= position <= len(ids):
            raise Invalid(f"position must be between 1 and {len(ids)}", field="position")
        ids.remove(rule_id)
        ids.insert(position - 1, rule_id)
        await tx.rules.renumber(seller_id, ids)
        return await _one(tx, seller_id, rule_id)


async def _one(tx: Tx, seller_id: int, rule_id: int) -> Rule:
    for rule in await tx.rules.of_seller(seller_id):
        if rule.id == rule_id:
            return rule
    raise NotFound("no rule with this id", field="id")


# --- Evaluation ----------------------------------------------------------------------------


async def after_fetch(
    tx: Tx, sale_id: int, *, now: datetime, windows: DisputeWindows, push: bool
) -> triage.Plan | None:
    """A fetched return: if its request was created waiting for this fetch (its thin report
    lacked amounts or lines), the rules' one evaluation of it, claimed by clearing its mark;
    nothing for any other request, or one evaluated already."""
    if not await tx.rules.claim(sale_id):
        return None
    return await evaluate(tx, sale_id, now=now, windows=windows, push=push)


async def evaluate(
    tx: Tx, sale_id: int, *, now: datetime, windows: DisputeWindows, push: bool
) -> triage.Plan | None:
    """The rules' evaluation of a request that arrived pending, in the unit of work that
    created it (or claimed its mark): nothing when it is no longer PENDING_REQUEST."""
    sale = await tx.sales.by_id(sale_id)
    if sale is None or sale.status is not AfterSaleStatus.PENDING_REQUEST:
        return None
    rules = await tx.rules.of_shop(sale.shop.id)
    if not rules:
        return None
    facts = triage.Facts(
        type=sale.type,
        reason=sale.reason,
        refund_requested=sale.refund_requested,
        currency=sale.currency,
        skus=await tx.sales.skus(sale.id),
        region=sale.shop.region,
        shop_id=sale.shop.shop_id,
    )
    plan = triage.plan(rules, facts)
    if plan.tags:
        await _tag(tx, sale_id, plan.tags, now=now)
    if plan.accept is not None:
        name, action = plan.accept
        try:
            async with tx.savepoint() as inner:
                current = await inner.sales.by_id(sale_id)
                assert current is not None
                await seller.decide_in(
                    inner,
                    current,
                    seller.Decision(action),
                    now=now,
                    windows=windows,
                    source=EventSource.RULE,
                    push=push,
                    actor=Actor.SYSTEM,
                    actor_name=name,
                )
        except DomainError as exc:
            await _failed(tx, sale_id, name, exc.message, now=now)
        except Lost:
            await _failed(tx, sale_id, name, "the after-sale changed meanwhile", now=now)
    for name, note in plan.notes:
        await _record(tx, sale_id, name, ChangeAction.ADD_NOTE, None, now=now)
        await tx.sales.add_note(sale_id, note, at=now)
    return plan


async def _tag(tx: Tx, sale_id: int, tags: Sequence[tuple[str, str]], *, now: datetime) -> None:
    held = await tx.tags.keys(sale_id)
    adding: list[tuple[str, str]] = []
    for name, tag in tags:
        key = tag_rules.key(tag)
        if key in held or any(k == key for k, _ in adding):
            continue
        if len(held) + len(adding) >= tag_rules.MAX_TAGS:
            await _failed(tx, sale_id, name, f"already {tag_rules.MAX_TAGS} tags", now=now)
            continue
        adding.append((key, tag))
    await tx.tags.add(sale_id, adding)


async def _failed(tx: Tx, sale_id: int, rule: str, error: str, *, now: datetime) -> None:
    await _record(
        tx, sale_id, rule, ChangeAction.RULE_FAILED, {"rule": rule, "error": error}, now=now
    )


async def _record(
    tx: Tx,
    sale_id: int,
    rule: str,
    action: ChangeAction,
    detail: dict[str, str] | None,
    *,
    now: datetime,
) -> None:
    """A history entry of the rule's that keeps the status (the after-sale is held by this
    transaction already: its version check cannot be lost to another writer)."""
    sale = await tx.sales.by_id(sale_id)
    assert sale is not None
    touched = await tx.sales.touch(
        sale,
        at=now,
        actor=Actor.SYSTEM,
        action=action,
        source=EventSource.RULE,
        detail=detail,
        actor_name=rule,
    )
    if not touched:
        raise Lost
