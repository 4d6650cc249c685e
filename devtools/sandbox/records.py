"""What the sandbox holds besides returns: authorized shops and their tokens, authorization
codes, queued faults, and its record of every TikTok-route call and every webhook push."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from devtools.sandbox.statuses import DAY

ACCESS_TOKEN_LIFETIME = 7 * DAY
# The refresh token lives as long as the authorization (a year here): a fresh connection is
# CONNECTED, not already EXPIRING (which starts 30 days before its end).
REFRESH_TOKEN_LIFETIME = 365 * DAY


@dataclass
class Shop:
    """An authorized shop and its current tokens (expiries are Unix seconds)."""

    shop_id: str
    cipher: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: int
    refresh_expires_at: int
    name: str = "Sandbox shop"
    region: str = "ID"


@dataclass
class AuthCode:
    """An authorization code the authorize page issued: the shops it covers, single use."""

    shop_ids: tuple[str, ...]
    expires_at: int
    used: bool = False


@dataclass(frozen=True)
class Fault:
    """One injected failure, consumed by one matching request (see `Sandbox.fail`)."""

    kind: Literal["http", "code", "delay"]
    status: int = 200
    error_code: int | None = None
    message: str = ""
    seconds: float = 0.0
    retry_after: float | None = None

    @classmethod
    def http(cls, status: int, *, retry_after: float | None = None) -> Fault:
        """Answer with this HTTP status and a plain-text body, as a gateway would."""
        return cls("http", status=status, retry_after=retry_after)

    @classmethod
    def code(cls, code: int, message: str, *, status: int = 200) -> Fault:
        """Answer with TikTok's envelope carrying this code, changing nothing."""
        return cls("code", status=status, error_code=code, message=message)

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Wait this long, then handle the request normally (to provoke client timeouts)."""
        return cls("delay", seconds=seconds)

    @classmethod
    def from_json(cls, raw: Any) -> Fault:
        """A fault as `POST /sandbox/faults` spells it; ValueError says what is wrong."""
        if not isinstance(raw, dict):
            raise ValueError("each fault is an object with a kind")
        kind = raw.get("kind")
        if kind == "http":
            status = _whole(raw.get("status"), "an http fault's status", 200, 599)
            return cls.http(status, retry_after=_seconds(raw.get("retry_after"), "retry_after"))
        if kind == "code":
            message = raw.get("message", "")
            if not isinstance(message, str):
                raise ValueError("a code fault's message is a string")
            return cls.code(_whole(raw.get("code"), "a code fault's code", 0, 2**63 - 1), message)
        if kind == "delay":
            seconds = _seconds(raw.get("seconds"), "a delay fault's seconds")
            if seconds is None:
                raise ValueError("a delay fault's seconds is required")
            return cls.delay(seconds)
        raise ValueError("a fault's kind is http, code or delay")


def _whole(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{what} is a whole number from {low} to {high}")
    return value


def _seconds(value: Any, what: str) -> float | None:
    if value is None:
        return None
    # The comparison refuses NaN and infinity too, and never turns a huge integer into a float.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= DAY:
        raise ValueError(f"{what} is a number of seconds from 0 to {DAY}")
    return float(value)


@dataclass(frozen=True)
class Call:
    """One request the sandbox received and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    idempotency_key: str | None
    code: int | None  # the envelope code answered; None when a fault answered without one
    changed: bool
    http_status: int = 200

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WebhookPush:
    """One webhook (type 12, 11, 6 or 7) the sandbox tried to deliver."""

    body: bytes
    status: int | None
    error: str | None
