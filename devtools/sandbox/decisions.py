"""Seller decisions as TikTok takes them: which decision applies to which return type and status,
the status it moves the return to, and TikTok's refusal when it does not apply
(docs/tiktok-sandbox.md, "Decisions")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from aftersales.domain import money
from devtools.sandbox.envelope import (
    APPROVED_ALREADY,
    BAD_PARAM,
    CANCELLED_ALREADY,
    CANNOT_APPROVE_APPLICATION,
    CANNOT_APPROVE_RECEIVE,
    QUICK_REFUND,
    WRONG_TYPE,
    Answer,
    refuse,
)
from devtools.sandbox.statuses import (
    ALL_TYPES,
    APPROVED_STATUSES,
    AWAITING_BUYER_RESPONSE,
    AWAITING_BUYER_SHIP,
    BUYER_SHIPPED_ITEM,
    CANCELLED_STATUSES,
    PENDING,
    REFUND,
    REJECT_REASON_NAMES,
    REJECT_RECEIVE_PACKAGE,
    REJECTED,
    REPLACEMENT,
    REPLACEMENT_COMPLETE,
    REPLACEMENT_PENDING,
    REPLACEMENT_REFUND_SUCCESS,
    REPLACEMENT_REJECT,
    RETURN_AND_REFUND,
    SUCCESS,
)

Verb = Literal["approve", "reject"]


@dataclass(frozen=True)
class Rule:
    """What a decision needs and does: its verb, the return types and statuses it applies to."""

    verb: Verb
    types: frozenset[str]
    from_statuses: frozenset[str]
    to_status: str
    receive: bool = False


def _rule(verb: Verb, types: set[str] | frozenset[str], froms: set[str], to: str) -> Rule:
    return Rule(verb, frozenset(types), frozenset(froms), to)


def _receive(verb: Verb, to: str) -> Rule:
    return Rule(verb, frozenset({RETURN_AND_REFUND}), frozenset({BUYER_SHIPPED_ITEM}), to, True)


DECISIONS: dict[str, Rule] = {
    "APPROVE_RETURN": _rule("approve", {RETURN_AND_REFUND}, {PENDING}, AWAITING_BUYER_SHIP),
    "REJECT_RETURN": _rule("reject", {RETURN_AND_REFUND}, {PENDING}, REJECTED),
    "APPROVE_REFUND": _rule("approve", {REFUND}, {PENDING}, SUCCESS),
    "REJECT_REFUND": _rule("reject", {REFUND}, {PENDING}, REJECTED),
    "OFFER_PARTIAL_REFUND": _rule(
        "approve", ALL_TYPES, {PENDING, REPLACEMENT_PENDING}, AWAITING_BUYER_RESPONSE
    ),
    "APPROVE_RECEIVED_PACKAGE": _receive("approve", SUCCESS),
    "REJECT_RECEIVED_PACKAGE": _receive("reject", REJECT_RECEIVE_PACKAGE),
    "APPROVE_REPLACEMENT": _rule(
        "approve", {REPLACEMENT}, {REPLACEMENT_PENDING}, REPLACEMENT_COMPLETE
    ),
    "REJECT_REPLACEMENT": _rule("reject", {REPLACEMENT}, {REPLACEMENT_PENDING}, REPLACEMENT_REJECT),
    "ISSUE_REPLACEMENT_REFUND": _rule(
        "approve", {REPLACEMENT}, {REPLACEMENT_PENDING}, REPLACEMENT_REFUND_SUCCESS
    ),
}


def check_decision(obj: Mapping[str, Any], verb: str, body: Any) -> Answer | Rule:
    """The rule a decision follows, or TikTok's refusal of it."""
    if not isinstance(body, dict):
        return refuse(BAD_PARAM, "invalid param: the body must be a JSON object")
    decision = body.get("decision")
    rule = DECISIONS.get(decision) if isinstance(decision, str) else None
    if rule is None or rule.verb != verb:
        return refuse(BAD_PARAM, f"invalid param: decision is not one the {verb} call takes")
    refused = _check_params(rule, body)
    if refused is not None:
        return refused
    if obj.get("return_type") not in rule.types:
        return refuse(WRONG_TYPE, "decision not match reverse type")
    if decision == "REJECT_RECEIVED_PACKAGE" and obj.get("is_quick_refund") is True:
        return refuse(QUICK_REFUND, "quick refund order, the seller cannot reject the package")
    return _check_status(obj.get("return_status"), rule) or rule


def _check_params(rule: Rule, body: Mapping[str, Any]) -> Answer | None:
    reason = body.get("reject_reason")
    if rule.verb == "reject" and not (isinstance(reason, str) and reason in REJECT_REASON_NAMES):
        return refuse(
            BAD_PARAM,
            "invalid param: reject_reason must be a name from Get Reject Reasons",
        )
    if rule.to_status == AWAITING_BUYER_RESPONSE:
        offer = body.get("partial_refund")
        if not isinstance(offer, dict) or not offer.get("amount") or not offer.get("currency"):
            return refuse(BAD_PARAM, "invalid param: partial_refund{amount, currency} required")
        return _check_amount(offer["amount"], offer["currency"])
    return None


def _check_amount(amount: Any, currency: Any) -> Answer | None:
    """An amount is a decimal string with exactly the currency's digits ("40000" IDR, "12.50"
    MYR): the stand-in is strict where TikTok's tolerance is not known."""
    if not isinstance(amount, str) or not isinstance(currency, str):
        return refuse(BAD_PARAM, "invalid param: partial_refund amount and currency are strings")
    try:
        value = Decimal(amount)
    except InvalidOperation:
        return refuse(BAD_PARAM, "invalid param: partial_refund.amount is not a decimal")
    places = money.digits(currency)
    if not value.is_finite() or value <= 0 or value.as_tuple().exponent != -places:
        return refuse(
            BAD_PARAM,
            f"invalid param: partial_refund.amount must have {places} decimals in {currency}",
        )
    return None


def _check_status(status: Any, rule: Rule) -> Answer | None:
    if status in rule.from_statuses:
        return None
    if status in CANCELLED_STATUSES:
        return refuse(CANCELLED_ALREADY, "reverse already cancelled")
    if status in APPROVED_STATUSES and not (rule.receive and status == BUYER_SHIPPED_ITEM):
        return refuse(APPROVED_ALREADY, "Aftersales has been approved and cannot be rejected")
    if rule.receive:
        return refuse(CANNOT_APPROVE_RECEIVE, "reverse status cannot approve receive")
    return refuse(CANNOT_APPROVE_APPLICATION, "reverse status cannot approve application")
