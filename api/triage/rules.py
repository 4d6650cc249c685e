"""Sellers' rules (docs/triage.md): `rules`, `previewRule`, and `createRule`, `updateRule`,
`deleteRule`, `moveRule`, each returning `{ rule userErrors }`. Resolvers are thin: input ->
command (aftersales/commands/triage.py) -> payload."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal

import strawberry

from aftersales.commands import triage as commands
from aftersales.domain import triage
from aftersales.domain.errors import DomainError, NotFound
from aftersales.domain.model import AfterSaleType
from aftersales.store import queries
from aftersales.store.uow import reading
from api.context import Info
from api.errors import UserError, graphql_error, user_error
from api.ids import parse_id
from api.sales.queries import AfterSaleConnection, page_of
from api.sales.types import Money


@strawberry.input
class MoneyInput:
    amount: Decimal
    currency: str


@strawberry.input(description="When a rule matches; a condition left out matches everything.")
class RuleConditionsInput:
    types: list[AfterSaleType] | None = None
    reason_contains: str | None = strawberry.field(
        default=None, description="A case-insensitive substring of the request's `reason`."
    )
    max_amount: MoneyInput | None = strawberry.field(
        default=None,
        description="Matches when refundRequested is in this currency and at most this amount.",
    )
    skus: list[str] | None = strawberry.field(
        default=None, description="Matches when any line's sku is listed."
    )
    regions: list[str] | None = strawberry.field(default=None, description="The shop's region.")


@strawberry.input(description="What a matching rule does (at least one).")
class RuleActionsInput:
    accept: bool = strawberry.field(
        default=False,
        description="Accept the request (ACCEPT_RETURN, ACCEPT_REFUND or ACCEPT_EXCHANGE by"
        " its type); the first matching rule's accept wins.",
    )
    tag: str | None = None
    note: str | None = None


@strawberry.input
class CreateRuleInput:
    name: str
    then: RuleActionsInput
    shop_ids: list[str] | None = strawberry.field(
        default=None, description="TikTok shop ids; left out: every shop, present and future."
    )
    when: RuleConditionsInput | None = None
    enabled: bool = True


@strawberry.input(description="What is given changes; `shopIds: null` means every shop.")
class UpdateRuleInput:
    id: strawberry.ID
    name: str | None = None
    shop_ids: list[str] | None = strawberry.UNSET
    when: RuleConditionsInput | None = None
    then: RuleActionsInput | None = None
    enabled: bool | None = None


@strawberry.input
class RuleIdInput:
    id: strawberry.ID


@strawberry.input
class MoveRuleInput:
    id: strawberry.ID
    position: int = strawberry.field(description="1 is the first rule.")


@strawberry.type
class RuleConditions:
    types: list[AfterSaleType] | None
    reason_contains: str | None
    max_amount: Money | None
    skus: list[str] | None
    regions: list[str] | None


@strawberry.type
class RuleActions:
    accept: bool
    tag: str | None
    note: str | None


@strawberry.type
class Rule:
    id: strawberry.ID
    name: str
    position: int
    enabled: bool
    shop_ids: list[str] | None
    when: RuleConditions
    then: RuleActions

    @classmethod
    def of(cls, rule: triage.Rule) -> Rule:
        when = rule.when
        return cls(
            id=strawberry.ID(str(rule.id)),
            name=rule.name,
            position=rule.position,
            enabled=rule.enabled,
            shop_ids=None if rule.shop_ids is None else list(rule.shop_ids),
            when=RuleConditions(
                types=None if when.types is None else list(when.types),
                reason_contains=when.reason_contains,
                max_amount=None
                if when.max_amount is None
                else Money(amount=when.max_amount, currency=when.max_currency or ""),
                skus=None if when.skus is None else list(when.skus),
                regions=None if when.regions is None else list(when.regions),
            ),
            then=RuleActions(accept=rule.then.accept, tag=rule.then.tag, note=rule.then.note),
        )


@strawberry.type
class RulePayload:
    rule: Rule | None
    user_errors: list[UserError]


def conditions(given: RuleConditionsInput | None) -> triage.Conditions:
    if given is None:
        return triage.Conditions()
    amount = given.max_amount
    return triage.Conditions(
        types=None if given.types is None else tuple(given.types),
        reason_contains=given.reason_contains,
        max_amount=None if amount is None else amount.amount,
        max_currency=None if amount is None else amount.currency,
        skus=None if given.skus is None else tuple(given.skus),
        regions=None if given.regions is None else tuple(given.regions),
    )


def actions(given: RuleActionsInput) -> triage.Actions:
    return triage.Actions(accept=given.accept, tag=given.tag, note=given.note)


async def _payload(run: Callable[[], Awaitable[triage.Rule]]) -> RulePayload:
    try:
        return RulePayload(rule=Rule.of(await run()), user_errors=[])
    except DomainError as exc:
        return RulePayload(rule=None, user_errors=[user_error(exc)])


def _rule_id(raw: strawberry.ID) -> int:
    rule_id = parse_id(raw)
    if rule_id is None:
        raise NotFound("no rule with this id", field="id")
    return rule_id


@strawberry.type
class RuleMutation:
    @strawberry.mutation(description="A rule acting on each new request as it arrives.")
    async def create_rule(self, info: Info, input: CreateRuleInput) -> RulePayload:
        ctx = info.context
        return await _payload(
            lambda: commands.create_rule(
                ctx.seller_id,
                name=input.name,
                shop_ids=input.shop_ids,
                when=conditions(input.when),
                then=actions(input.then),
                enabled=input.enabled,
                now=ctx.clock(),
            )
        )

    @strawberry.mutation
    async def update_rule(self, info: Info, input: UpdateRuleInput) -> RulePayload:
        seller_id = info.context.seller_id
        every_shop = input.shop_ids is None
        given_shops = None if input.shop_ids in (None, strawberry.UNSET) else input.shop_ids
        return await _payload(
            lambda: commands.update_rule(
                seller_id,
                _rule_id(input.id),
                name=input.name,
                shop_ids=given_shops,
                all_shops=every_shop,
                when=None if input.when is None else conditions(input.when),
                then=None if input.then is None else actions(input.then),
                enabled=input.enabled,
            )
        )

    @strawberry.mutation
    async def delete_rule(self, info: Info, input: RuleIdInput) -> RulePayload:
        seller_id = info.context.seller_id
        return await _payload(lambda: commands.delete_rule(seller_id, _rule_id(input.id)))

    @strawberry.mutation
    async def move_rule(self, info: Info, input: MoveRuleInput) -> RulePayload:
        seller_id = info.context.seller_id
        return await _payload(
            lambda: commands.move_rule(seller_id, _rule_id(input.id), input.position)
        )


@strawberry.type
class RulePreview:
    """What a rule would have matched among the after-sales created since then (whatever
    their status now), changing nothing."""

    flt: strawberry.Private[queries.SaleFilter]

    @strawberry.field
    async def count(self, info: Info) -> int:
        page = await page_of(info, self.flt, first=0, after=None)
        return page.total_count

    @strawberry.field
    async def after_sales(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> AfterSaleConnection:
        return await page_of(info, self.flt, first=first, after=after)


@strawberry.type
class RuleQuery:
    @strawberry.field(description="The caller's rules, in the order they apply.")
    async def rules(self, info: Info) -> list[Rule]:
        async with reading() as r:
            return [Rule.of(rule) for rule in await r.rules.of_seller(info.context.seller_id)]

    @strawberry.field(description="What this rule would have matched since `since` (newest first).")
    async def preview_rule(
        self, info: Info, rule: CreateRuleInput, since: datetime | None = None
    ) -> RulePreview:
        try:
            name, when, then = triage.check(rule.name, conditions(rule.when), actions(rule.then))
        except DomainError as exc:
            raise graphql_error(exc) from None
        shops = None if rule.shop_ids is None else tuple(rule.shop_ids)
        matching = triage.Rule(0, name, 0, True, shops, when, then)
        return RulePreview(flt=queries.SaleFilter(rule=matching, created_since=since))
