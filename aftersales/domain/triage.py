"""Rules that act on a request when it arrives (SPEC §13), pure: what a rule is, whether it
matches a request, and what the matching rules do together.

Every enabled matching rule applies, in `position` order: tags and notes add up, the first
`accept` is applied and later ones are skipped. A rule never rejects, and never acts on an
abnormal return (it has no accept: `ACCEPTS` has no entry for it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from aftersales.domain import tags as tag_rules
from aftersales.domain.errors import Invalid
from aftersales.domain.model import AfterSaleType, SellerAction

# What `accept` means for each type: the seller action a rule's accept applies. The one table to
# extend when a type is added.
ACCEPTS: dict[AfterSaleType, SellerAction] = {
    AfterSaleType.RETURN_AND_REFUND: SellerAction.ACCEPT_RETURN,
    AfterSaleType.REFUND_ONLY: SellerAction.ACCEPT_REFUND,
    AfterSaleType.EXCHANGE: SellerAction.ACCEPT_EXCHANGE,
    AfterSaleType.CANCELLATION: SellerAction.APPROVE_CANCELLATION,
}

MAX_NAME = 100
MAX_NOTE = 2000
MAX_RULES = 100  # per seller
MAX_LIST = 100  # items in one condition's list
MAX_SKU = 100  # as a line's sku


@dataclass(frozen=True)
class Conditions:
    """When a rule matches; a condition left out (None) matches everything."""

    types: tuple[AfterSaleType, ...] | None = None
    reason_contains: str | None = None
    max_amount: Decimal | None = None
    max_currency: str | None = None
    skus: tuple[str, ...] | None = None
    regions: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Actions:
    accept: bool = False
    tag: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    position: int
    enabled: bool
    shop_ids: tuple[str, ...] | None  # TikTok shop ids; None: every shop, present and future
    when: Conditions
    then: Actions


@dataclass(frozen=True)
class Facts:
    """What rules look at in a request."""

    type: AfterSaleType
    reason: str | None
    refund_requested: Decimal | None
    currency: str | None
    skus: frozenset[str]
    region: str
    shop_id: str


@dataclass
class Plan:
    """What the matching rules do together."""

    accept: tuple[str, SellerAction] | None = None  # (the rule's name, the action)
    skipped_accepts: list[str] = field(default_factory=list)  # rules whose accept came later
    tags: list[tuple[str, str]] = field(default_factory=list)  # (rule name, tag)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (rule name, note)
    matched: list[str] = field(default_factory=list)  # the names of the rules that matched


def folded(text: str) -> str:
    return text.casefold()


def matches(rule: Rule, facts: Facts) -> bool:
    if not rule.enabled:
        return False
    if rule.shop_ids is not None and facts.shop_id not in rule.shop_ids:
        return False
    when = rule.when
    if when.types is not None and facts.type not in when.types:
        return False
    if when.reason_contains is not None and folded(when.reason_contains) not in folded(
        facts.reason or ""
    ):
        return False
    if when.max_amount is not None:
        if facts.refund_requested is None or facts.currency != when.max_currency:
            return False
        if facts.refund_requested > when.max_amount:
            return False
    if when.skus is not None and not facts.skus & set(when.skus):
        return False
    return when.regions is None or facts.region.upper() in when.regions


def plan(rules: Iterable[Rule], facts: Facts) -> Plan:
    """The rules in position order, what those that match do."""
    result = Plan()
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if not matches(rule, facts):
            continue
        result.matched.append(rule.name)
        if rule.then.accept:
            action = ACCEPTS.get(facts.type)
            if action is not None and result.accept is None:
                result.accept = (rule.name, action)
            else:
                result.skipped_accepts.append(rule.name)
        if rule.then.tag:
            result.tags.append((rule.name, rule.then.tag))
        if rule.then.note:
            result.notes.append((rule.name, rule.then.note))
    return result


def check(name: str, when: Conditions, then: Actions) -> tuple[str, Conditions, Actions]:
    """A rule's parts cleaned (trimmed, upper-cased regions and currency), or `Invalid`."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(f"a rule's name must be 1 to {MAX_NAME} characters", field="name")
    tag = then.tag
    if tag is not None:
        ((_, tag),) = tag_rules.clean([tag], field="then.tag")
    note = then.note.strip() if then.note is not None else None
    if note is not None and not 1 <= len(note) <= MAX_NOTE:
        raise Invalid(f"a rule's note must be 1 to {MAX_NOTE} characters", field="then.note")
    if not then.accept and tag is None and note is None:
        raise Invalid("a rule needs an action: accept, tag or note", field="then")
    reason = when.reason_contains
    if reason is not None and not reason.strip():
        raise Invalid("reasonContains needs some text", field="when.reasonContains")
    if when.max_amount is not None:
        if not when.max_amount.is_finite() or when.max_amount < 0:
            raise Invalid("maxAmount must be a positive amount", field="when.maxAmount.amount")
        if not when.max_currency or len(when.max_currency.strip()) != 3:
            raise Invalid("maxAmount needs a 3-letter currency", field="when.maxAmount.currency")
    for name_, values in (("types", when.types), ("skus", when.skus), ("regions", when.regions)):
        if values is not None and not 1 <= len(values) <= MAX_LIST:
            raise Invalid(f"{name_} must list 1 to {MAX_LIST} values", field=f"when.{name_}")
    for n, sku in enumerate(when.skus or ()):
        if not 1 <= len(sku.strip()) <= MAX_SKU:
            raise Invalid(f"a SKU must be 1 to {MAX_SKU} characters", field=f"when.skus.{n}")
    for n, region in enumerate(when.regions or ()):
        if len(region.strip()) != 2:
            raise Invalid("a region is a 2-letter code", field=f"when.regions.{n}")
    cleaned = Conditions(
        types=when.types,
        reason_contains=reason,
        max_amount=when.max_amount,
        max_currency=when.max_currency.strip().upper() if when.max_currency else None,
        skus=_strings(when.skus),
        regions=None if when.regions is None else tuple(r.strip().upper() for r in when.regions),
    )
    return name, cleaned, Actions(accept=then.accept, tag=tag, note=note)


def _strings(values: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(v.strip() for v in values)
