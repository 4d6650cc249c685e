"""`DATABASE_URL`, read: checked (one message naming what is wrong), described without its
password, and turned into what Tortoise and asyncpg accept. Standard library only, so settings
can check a URL without loading the ORM."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# What managed PostgreSQL providers hand out, libpq's spelling, translated for asyncpg below.
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# Query options asyncpg (through Tortoise) takes as they are.
PASSED_AS_IS = ("password", "user", "min_size", "max_size", "application_name", "schema")
KNOWN_OPTIONS = ("sslmode", "connect_timeout", *PASSED_AS_IS)
MAX_CONNECT_TIMEOUT = 3600


class BadDatabaseUrl(Exception):
    """DATABASE_URL cannot be used; the message says why (never with the password)."""


def describe(url: str) -> str:
    """The URL without its password, wherever it is (`user:pw@` or `?password=`)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "(not a URL)"
    where, _, query = rest.partition("?")
    if "@" in where:
        creds, _, host = where.rpartition("@")
        where = f"{creds.split(':')[0]}:***@{host}" if ":" in creds else f"{creds}@{host}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", query)
    return f"{scheme}://{where}" + (f"?{query}" if query else "")


def passwords(url: str) -> list[str]:
    """The passwords the URL carries (to mask them in a driver's message, should it repeat one)."""
    try:
        parts = urlsplit(url)
        given = [parts.password or ""]
    except ValueError:
        return []
    given += [value for name, value in parse_qsl(parts.query) if name == "password"]
    return [password for password in given if password]


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def check(url: str) -> None:
    """Raise BadDatabaseUrl for a URL no driver could open."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not a number or out of range)
    except ValueError as exc:
        raise BadDatabaseUrl(f"DATABASE_URL {describe(url)} is malformed: {exc}") from None
    if parts.scheme == "sqlite":
        path = url.removeprefix("sqlite://").partition("?")[0]
        if not path:
            raise BadDatabaseUrl(
                "DATABASE_URL sqlite:// names no file: give one, such as"
                " sqlite://aftersales.sqlite3"
            )
        return
    options = parse_qsl(parts.query, keep_blank_values=True)
    for name, value in options:
        if name not in KNOWN_OPTIONS:
            raise BadDatabaseUrl(
                f"DATABASE_URL {describe(url)}: unknown option ?{name}= (known: "
                + ", ".join(KNOWN_OPTIONS)
                + ")"
            )
        if name == "sslmode" and value not in SSLMODES:
            raise BadDatabaseUrl(
                f"DATABASE_URL: sslmode must be one of {', '.join(SSLMODES)}, got {value[:40]!r}"
            )
        if name == "connect_timeout" and not (
            value.isdigit() and 1 <= int(value) <= MAX_CONNECT_TIMEOUT
        ):
            raise BadDatabaseUrl(
                f"DATABASE_URL: connect_timeout must be whole seconds from 1 to"
                f" {MAX_CONNECT_TIMEOUT}, got {value[:40]!r}"
            )


def for_postgres(url: str) -> tuple[str, dict[str, object]]:
    """The URL without the libpq options asyncpg spells otherwise, and those options in
    asyncpg's words: `sslmode` is its `ssl`, `connect_timeout` its `timeout`."""
    parts = urlsplit(url)
    kept: list[tuple[str, str]] = []
    extra: dict[str, object] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "sslmode":
            extra["ssl"] = value
        elif name == "connect_timeout":
            extra["timeout"] = int(value)
        else:
            kept.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(kept))), extra
