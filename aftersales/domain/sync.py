"""What a seller decision sends to TikTok, and when a failed call is tried again
(docs/tiktok-sync.md). Pure: the dispatcher (aftersales/tiktok/dispatch.py) makes the calls.

Every status-changing seller action on a syncing shop becomes one call to TikTok's Approve or
Reject endpoint, with the decision value of TikTok's table below; notes, label reprints, stock-in
and abnormal returns stay local.
"""

from __future__ import annotations

import enum
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from aftersales.domain import money
from aftersales.domain.errors import Invalid
from aftersales.domain.model import SellerAction

A = SellerAction

# How long a call keeps being retried before it is given up as FAILED.
GIVE_UP_AFTER = timedelta(hours=24)
FIRST_DELAY = timedelta(seconds=1)
BACKOFF_CAP = timedelta(seconds=60)
MAX_COMMENT = 1000  # TikTok's reject `comment`: longer seller reasons are cut, never refused
MAX_ERROR = 1000  # characters of a `syncError` / `last_error` kept
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class SyncStatus(enum.Enum):
    """Where the last decision pushed to TikTok stands."""

    LOCAL_ONLY = "LOCAL_ONLY"  # the shop does not sync: nothing is sent
    PENDING = "PENDING"  # queued or being retried
    SYNCED = "SYNCED"  # TikTok accepted it
    FAILED = "FAILED"  # TikTok refused it, or 24 hours of retries ran out


class CallKind(enum.Enum):
    DECISION = "DECISION"  # push a seller decision (approve / reject)
    FETCH = "FETCH"  # fetch a return's full object (Search Returns by id)


class CallStatus(enum.Enum):
    PENDING = "PENDING"
    SYNCED = "SYNCED"  # a decision TikTok accepted
    DONE = "DONE"  # a fetch made and applied
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"  # a decision never sent: its request was superseded (domain/edits.py)


# action -> (endpoint, TikTok's decision value)
_CALLS: dict[SellerAction, tuple[str, str]] = {
    A.ACCEPT_RETURN: ("approve", "APPROVE_RETURN"),
    A.REJECT_RETURN: ("reject", "REJECT_RETURN"),
    A.OFFER_PARTIAL_REFUND: ("approve", "OFFER_PARTIAL_REFUND"),
    A.CONFIRM_RECEIPT: ("approve", "APPROVE_RECEIVED_PACKAGE"),
    A.REJECT_RECEIPT: ("reject", "REJECT_RECEIVED_PACKAGE"),
    A.ACCEPT_REFUND: ("approve", "APPROVE_REFUND"),
    A.REJECT_REFUND: ("reject", "REJECT_REFUND"),
    A.ACCEPT_EXCHANGE: ("approve", "APPROVE_REPLACEMENT"),
    A.REFUSE_EXCHANGE: ("reject", "REJECT_REPLACEMENT"),
    A.ISSUE_FULL_REFUND: ("approve", "ISSUE_REPLACEMENT_REFUND"),
    # Cancellations have endpoints of their own (…/cancellations/{cancel_id}/approve|reject),
    # whose bodies carry no decision: the `decision` column only tells the dispatcher which.
    A.APPROVE_CANCELLATION: ("approve", "APPROVE_CANCELLATION"),
    A.REJECT_CANCELLATION: ("reject", "REJECT_CANCELLATION"),
}
APPROVE_CANCELLATION = "APPROVE_CANCELLATION"
CANCELLATION_DECISIONS = frozenset({APPROVE_CANCELLATION, "REJECT_CANCELLATION"})
# The `decision` of a FETCH call that fetches a cancellation (Search Cancellations by id).
FETCH_CANCELLATION = "FETCH_CANCELLATION"
# Approve Cancellation's answer when the order has already shipped: TikTok did not cancel it.
ALREADY_SHIPPED = 25001045

REJECTIONS = frozenset(action for action, (verb, _) in _CALLS.items() if verb == "reject")


@dataclass(frozen=True)
class DecisionCall:
    """One call to TikTok: POST /return_refund/202309/returns/{return_id}/{verb}."""

    verb: str  # "approve" | "reject"
    decision: str
    body: dict[str, Any]


def is_pushed(action: SellerAction) -> bool:
    return action in _CALLS


def check_reason_code(action: SellerAction, reason_code: str | None, *, syncing: bool) -> None:
    """A rejection on a syncing shop needs one of TikTok's reason codes (`rejectReasons`)."""
    if action in REJECTIONS and syncing and not (reason_code and reason_code.strip()):
        raise Invalid(
            "this shop syncs with TikTok: a rejection needs a reasonCode from rejectReasons",
            field="reasonCode",
        )
    if reason_code is not None and len(reason_code) > 255:
        raise Invalid("reasonCode is at most 255 characters", field="reasonCode")


def decision_call(
    action: SellerAction,
    *,
    reason_code: str | None = None,
    comment: str | None = None,
    amount: Decimal | None = None,
    currency: str | None = None,
) -> DecisionCall:
    """The call that tells TikTok about `action` (SPEC's table of decisions)."""
    verb, decision = _CALLS[action]
    body: dict[str, Any] = {"decision": decision}
    if decision in CANCELLATION_DECISIONS:
        body = {}
    if verb == "reject":
        body["reject_reason"] = (reason_code or "").strip()
        if comment and comment.strip():
            body["comment"] = comment.strip()[:MAX_COMMENT]
    if action is A.OFFER_PARTIAL_REFUND:
        if amount is None or not currency:
            raise Invalid(
                "a partial refund sent to TikTok needs the amount and the currency of the request",
                field="amount",
            )
        # Exactly the currency's digits (CLDR): "40000" IDR, "12.50" MYR (domain/money.py).
        body["partial_refund"] = {"amount": money.wire(amount, currency), "currency": currency}
    return DecisionCall(verb=verb, decision=decision, body=body)


# --- idempotency keys (issue 17) ------------------------------------------------------------


def idempotency_key(
    install_id: str, return_id: str, version: int, action: SellerAction, attempt: int = 1
) -> str:
    """`{installId}-{return_id}-v{version}-{action}-{attempt}`: this install's random id (so two
    installs, or one after a database reset, never share a key), TikTok's return, the version
    the decision produced, the action, and the attempt (`retrySync` starts the next one). Sent
    unchanged on every retry within an attempt, so TikTok applies the decision once. At most
    255 characters: the install id is 16 and a return id at most 64."""
    key = f"{install_id}-{return_id}-v{version}-{action.value.lower()}-{attempt}"
    return key[:255]


def next_attempt_key(key: str) -> str:
    """The key of the next attempt of the same decision: its attempt number plus one (a key
    made before attempts were numbered gets `-2`)."""
    head, _, attempt = key.rpartition("-")
    if head and attempt.isdigit():
        return f"{head}-{int(attempt) + 1}"
    return f"{key[:253]}-2"


# --- end of idempotency keys -------------------------------------------------------------------


def retry_delay(
    attempts: int, *, ceiling: timedelta, rng: random.Random | None = None
) -> timedelta:
    """How long to wait after the `attempts`-th failed try (1, 2, ...): 1 s doubling up to 60 s,
    with jitter, then every `ceiling` (TIKTOK_RETRY_MAX_SECONDS)."""
    rng = rng or random.Random()
    base = FIRST_DELAY * (2 ** max(0, attempts - 1))
    if base > BACKOFF_CAP:
        if attempts > 7:  # 1, 2, 4, 8, 16, 32, 60 s, then the ceiling
            return ceiling
        base = BACKOFF_CAP
    return timedelta(seconds=base.total_seconds() * rng.uniform(0.5, 1.0))


def gives_up(first_queued_at: datetime, now: datetime) -> bool:
    return now - first_queued_at >= GIVE_UP_AFTER


def readable(text: str, limit: int = MAX_ERROR) -> str:
    """An error text safe to store and show, whatever TikTok (or a bug) put in it: NUL and other
    control characters become spaces (PostgreSQL refuses NUL in text), lone surrogates "?"
    (they cannot be encoded), and it is cut to `limit` characters."""
    cleaned = _CONTROL.sub(" ", text.encode("utf-8", "replace").decode("utf-8"))
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
