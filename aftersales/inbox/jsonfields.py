"""Reading untrusted JSON field by field: each reader returns a typed value or raises
`Malformed` naming the field. Pure.

Integers are kept as their digits (`JsonInt`, a `str`), so a 19-digit id sent as a number never
goes through a float or loses a digit; numbers with a fraction are `Decimal`s.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_ID_LENGTH = 64
# Unix seconds up to the end of year 9999: anything later is a unit mistake (milliseconds).
MAX_UNIX_SECONDS = 253402300799
# Every time a webhook carries must fall in these years (UTC), on every database alike.
FIRST_YEAR, LAST_YEAR = 1970, 9999

_ID = re.compile(r"^[0-9A-Za-z_.:-]{1,64}$")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


class Malformed(Exception):
    """The body is not what the sender promised; `reason` says which field and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JsonInt(str):
    """A JSON integer, kept as its digits."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or Malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8 text") from None
    try:
        value = json.loads(
            text, parse_int=JsonInt, parse_float=Decimal, parse_constant=_no_constants
        )
    except (ValueError, RecursionError) as exc:
        raise Malformed(f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Malformed("the body must be a JSON object")
    return value


def _absent(value: Any) -> bool:
    return value is None or (type(value) is str and value == "")


def obj(value: Any, where: str, *, required: bool = True) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise Malformed(f"{where} must be an object")
    return value


def array(value: Any, where: str, *, limit: int = 1000) -> list[Any] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise Malformed(f"{where} must be an array")
    if len(value) > limit:
        raise Malformed(f"{where} has more than {limit} entries")
    return value


def text(value: Any, where: str, *, limit: int, required: bool = False) -> str | None:
    """A string (not a number), at most `limit` characters; "" counts as absent."""
    if _absent(value):
        if required:
            raise Malformed(f"{where} is required")
        return None
    if type(value) is not str:
        raise Malformed(f"{where} must be a string")
    if len(value) > limit:
        raise Malformed(f"{where} is longer than {limit} characters")
    if "\x00" in value:
        raise Malformed(f"{where} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed(f"{where} is not valid Unicode text") from None
    return value


def identifier(value: Any, where: str, *, required: bool = True) -> str | None:
    """An id: a string of letters, digits and _.:- (a JSON integer is read as its digits)."""
    if _absent(value):
        if required:
            raise Malformed(f"{where} is required")
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise Malformed(f"{where} must be an id string of at most {MAX_ID_LENGTH} characters")
    return str(value)


def integer(value: Any, where: str, *, required: bool = True) -> int | None:
    if value is None and not required:
        return None
    if not isinstance(value, JsonInt) or len(value) > 20:
        raise Malformed(f"{where} must be an integer")
    return int(value)


def unix_time(value: Any, where: str, *, required: bool = True) -> datetime | None:
    """Unix seconds -> an aware UTC datetime (so in the years 1970 to 9999)."""
    seconds = integer(value, where, required=required)
    if seconds is None:
        return None
    if not 0 < seconds <= MAX_UNIX_SECONDS:
        raise Malformed(
            f"{where} must be a Unix time in seconds, in the years {FIRST_YEAR} to {LAST_YEAR}"
        )
    return datetime.fromtimestamp(seconds, UTC)


def iso_time(value: Any, where: str) -> datetime:
    """An ISO 8601 instant with its offset (`2026-11-20T10:00:00Z`) -> aware UTC datetime."""
    raw = text(value, where, limit=40, required=True)
    assert raw is not None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise Malformed(f"{where} must be an ISO 8601 time such as 2026-11-20T10:00:00Z") from None
    if parsed.tzinfo is None:
        raise Malformed(f"{where} must say its time zone (end it with Z for UTC)")
    try:
        utc = parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00 is in year 0, 9999-12-31T23:59-14:00 in 10000
        utc = None
    if utc is None or not FIRST_YEAR <= utc.year <= LAST_YEAR:
        raise Malformed(f"{where} must be a time in the years {FIRST_YEAR} to {LAST_YEAR} (UTC)")
    return utc


def amount(value: Any, where: str) -> Decimal | None:
    """A money amount: a decimal string (a JSON number is accepted), >= 0, 2 places at most."""
    if _absent(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | Decimal):
        raise Malformed(f'{where} must be a decimal string such as "12.50"')
    raw = str(value).strip()
    if not _AMOUNT.match(raw):
        raise Malformed(f'{where} must be a decimal string such as "12.50", got {raw[:30]!r}')
    try:
        return Decimal(raw)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise Malformed(f"{where} is not a decimal number") from None


def currency(value: Any, where: str) -> str | None:
    raw = text(value, where, limit=3)
    if raw is None:
        return None
    if not _CURRENCY.match(raw):
        raise Malformed(f"{where} must be a three-letter currency code")
    return raw.upper()


def boolean(value: Any, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise Malformed(f"{where} must be true or false")
    return value
