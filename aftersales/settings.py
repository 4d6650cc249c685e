"""Environment -> typed settings. The one place that reads os.environ."""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from aftersales.domain.model import DisputeWindows
from aftersales.store import urls

DEFAULT_DATABASE_URL = "sqlite://aftersales.sqlite3"
SECRET_NAMES = ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "LOGISTICS_WEBHOOK_SECRET")
# What production refuses to start without. LOGISTICS_WEBHOOK_SECRET is not among them: a seller
# without a tracking feed leaves it unset, and POST /webhooks/logistics is then off (404).
REQUIRED_IN_PRODUCTION = ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET")
# Production refuses shorter HMAC keys. TIKTOK_APP_KEY is not one: it names the app (TikTok's
# are about 13 characters) and travels in the clear in every signed message.
MIN_SECRET_BYTES = 16
SECRETS_FILE = "aftersales.secrets"
# The key that encrypts shop credentials at rest (aftersales/store/credentials.py). Apart from
# the three above: production needs it only once a shop has credentials.
SECRET_KEY_NAME = "AFTERSALES_SECRET_KEY"
FILE_SECRET_NAMES = (*SECRET_NAMES, SECRET_KEY_NAME)  # what the development file may hold
MIN_SECRET_KEY_CHARS = 32
DEFAULT_TIKTOK_AUTH_BASE_URL = "https://auth.tiktok-shops.com"
LOG_FORMATS = ("text", "json")
# Upper bounds of the numeric settings: far above any sensible value, and low enough that every
# deadline computed from them stays inside the dates a datetime (and the database) can hold.
MAX_WINDOW_SECONDS = 10 * 365 * 86400  # dispute windows: ten years
MAX_INTERVAL_SECONDS = 86400  # the sweep, the poll, the longest retry wait: a day
MAX_WEBHOOK_BYTES = 100 * 1024 * 1024


class ConfigError(Exception):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    environment: str = "development"
    tiktok_app_key: str | None = None
    tiktok_app_secret: str | None = None
    logistics_webhook_secret: str | None = None
    dispute_windows: DisputeWindows = field(
        default_factory=lambda: DisputeWindows(default=timedelta(hours=48))
    )
    sweep_interval: timedelta = timedelta(seconds=60)
    webhook_max_bytes: int = 1024 * 1024
    tiktok_api_base_url: str | None = None
    graphiql: bool = True
    # GRAPHQL_FAST_EXECUTION=off: graphql-core's own executor instead of api/fast_execution.py
    # (the same answers, slower), should a graphql-core or Strawberry upgrade break it.
    graphql_fast_execution: bool = True
    log_format: str = "text"  # LOG_FORMAT: `text`, or `json` (one object a line) for shippers
    tiktok_auth_base_url: str = DEFAULT_TIKTOK_AUTH_BASE_URL
    tiktok_poll_interval: timedelta = timedelta(seconds=300)
    tiktok_retry_max: timedelta = timedelta(seconds=600)
    # AFTERSALES_SECRET_KEY, split: the first encrypts, every one decrypts (key rotation). Each is
    # a Fernet key or a string of 32 characters or more (store/credentials.py derives a key).
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    # Development only: the key was generated into the local secrets file by this process, so
    # credentials already in the database were encrypted with another one (commands warn).
    secret_key_generated: bool = False
    # READ_TIMEOUT_SECONDS: how long a request's headers, then its body, may take to arrive.
    read_timeout: timedelta = timedelta(seconds=10)
    # OPERATOR_TOKEN: when set, /metrics, /health/jobs and /readyz need it as a bearer token.
    operator_token: str | None = field(default=None, repr=False)
    # Connecting a shop by OAuth (docs/connecting-a-shop.md): the app's service id in TikTok's
    # Partner Center, the authorization page (None: TikTok's, by region), and the public origin
    # whose /oauth/tiktok/callback is registered as the app's redirect URL.
    tiktok_service_id: str | None = None
    tiktok_authorize_url: str | None = None
    tiktok_redirect_base_url: str | None = None

    @property
    def sync_enabled(self) -> bool:
        """Whether shops with credentials talk to TikTok (TIKTOK_API_BASE_URL is set)."""
        return self.tiktok_api_base_url is not None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def missing_secrets(self) -> list[str]:
        values = (self.tiktok_app_key, self.tiktok_app_secret, self.logistics_webhook_secret)
        return [name for name, value in zip(SECRET_NAMES, values, strict=True) if not value]

    def check_production(self) -> None:
        """Production refuses to start without its secrets, or with HMAC keys short enough to
        guess; the message names them. Development fills the missing ones from its local file."""
        if not self.is_production:
            return
        missing = [name for name in self.missing_secrets() if name in REQUIRED_IN_PRODUCTION]
        if missing:
            raise ConfigError(
                f"refusing to start in production without {', '.join(missing)}:"
                " set them in the environment"
            )
        keys = {
            "TIKTOK_APP_SECRET": self.tiktok_app_secret or "",
            "LOGISTICS_WEBHOOK_SECRET": self.logistics_webhook_secret,
        }
        short = [
            f"{name} ({len(value.encode())} bytes)"
            for name, value in keys.items()
            if value is not None and len(value.encode()) < MIN_SECRET_BYTES
        ]
        if short:
            raise ConfigError(
                "refusing to start in production with secrets shorter than"
                f" {MIN_SECRET_BYTES} bytes: {', '.join(short)}; set long random values"
                " (for example from: openssl rand -hex 32)"
            )

    def secrets_file(self) -> Path:
        """Where development keeps its generated secrets: beside the SQLite database, or in
        the working directory for another database."""
        folder = Path.cwd()
        if self.database_url.startswith("sqlite://"):
            path = self.database_url.removeprefix("sqlite://").partition("?")[0]
            if path and path != ":memory:":
                folder = Path(path).parent
        return folder / SECRETS_FILE

    def with_local_secrets(self) -> tuple[Settings, LocalSecrets]:
        """Development only: the secrets missing from the environment, read from the local
        secrets file, which is created (mode 600) with random values for those it lacks. The
        environment always wins; production never reads or writes the file."""
        if self.is_production:
            raise ConfigError(
                "missing secrets in production: "
                + ", ".join(self.missing_secrets())
                + " (set them in the environment)"
            )
        path = self.secrets_file()
        kept = _read_secrets(path)
        generated = [name for name in self.missing_secrets() if not kept.get(name)]
        if generated:
            kept |= {name: secrets.token_hex(16) for name in generated}
            _write_secrets(path, kept)
        filled = replace(
            self,
            tiktok_app_key=self.tiktok_app_key or kept.get("TIKTOK_APP_KEY"),
            tiktok_app_secret=self.tiktok_app_secret or kept.get("TIKTOK_APP_SECRET"),
            logistics_webhook_secret=self.logistics_webhook_secret
            or kept.get("LOGISTICS_WEBHOOK_SECRET"),
        )
        return filled, LocalSecrets(path, generated)

    def with_local_secret_key(self) -> tuple[Settings, LocalSecrets]:
        """AFTERSALES_SECRET_KEY when the environment has none. Development takes it from the
        local secrets file, generating it there (a Fernet key) the first time; production
        refuses, naming the variable. The key itself is never printed."""
        if self.secret_keys:
            return self, LocalSecrets(self.secrets_file(), [])
        if self.is_production:
            raise ConfigError(missing_secret_key("production needs it to encrypt"))
        path = self.secrets_file()
        kept = _read_secrets(path)
        generated = []
        if not kept.get(SECRET_KEY_NAME):
            kept[SECRET_KEY_NAME] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
            _write_secrets(path, kept)
            generated.append(SECRET_KEY_NAME)
        keys = parse_secret_keys(kept[SECRET_KEY_NAME], where=f"{SECRET_KEY_NAME} in {path}")
        filled = replace(self, secret_keys=keys, secret_key_generated=bool(generated))
        return filled, LocalSecrets(path, generated)


def missing_secret_key(why: str) -> str:
    """The message for a missing AFTERSALES_SECRET_KEY; `why` completes "production needs it
    to encrypt": "... shop credentials at rest"."""
    return (
        f"{SECRET_KEY_NAME} is not set: {why} the TikTok shop credentials stored in the database;"
        f" set it in the environment (a Fernet key, or any random string of"
        f" {MIN_SECRET_KEY_CHARS} characters or more, for example from: openssl rand -hex 32)"
    )


def parse_secret_keys(raw: str, *, where: str = SECRET_KEY_NAME) -> tuple[str, ...]:
    """`AFTERSALES_SECRET_KEY`: a comma-separated list of keys, the first one encrypting, all of
    them decrypting. Each is a Fernet key or a string of at least 32 characters. Messages say
    which entry is wrong, never what it holds."""
    entries = tuple(part.strip() for part in raw.split(","))
    if not any(entries):
        return ()
    for number, entry in enumerate(entries, start=1):
        if not entry:
            raise ConfigError(f"{where}: key {number} of {len(entries)} is empty")
        if len(entry) < MIN_SECRET_KEY_CHARS:  # a Fernet key is 44 characters
            raise ConfigError(
                f"{where}: key {number} of {len(entries)} is {len(entry)} characters long;"
                f" give a Fernet key or a random string of {MIN_SECRET_KEY_CHARS} characters"
                " or more (for example from: openssl rand -hex 32)"
            )
    if len(set(entries)) != len(entries):
        raise ConfigError(f"{where}: the same key is listed twice")
    return entries


@dataclass(frozen=True)
class LocalSecrets:
    path: Path
    generated: list[str]  # created just now; the others were already in the file


def _read_secrets(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read the development secrets in {path}: {exc}") from None
    found = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() in FILE_SECRET_NAMES and value.strip():
            found[name.strip()] = value.strip()
    return found


def _write_secrets(path: Path, values: dict[str, str]) -> None:
    lines = [
        "# Development secrets of the aftersales service, generated once and reused by every",
        "# command. Never used in production (AFTERSALES_ENV=production). Keep this file private.",
        *(f"{name}={values[name]}" for name in FILE_SECRET_NAMES if name in values),
    ]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)  # an older file may have been created with wider permissions
    except OSError as exc:
        raise ConfigError(f"cannot write the development secrets to {path}: {exc}") from None


def _whole_number(
    env: Mapping[str, str], name: str, default: int, maximum: int, unit: str = "bytes"
) -> int:
    """A whole number of `unit` from 1 to `maximum`; unset or empty is `default`."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)  # more than 4300 digits is a ValueError too
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of {unit}, got {raw[:40]!r}") from None
    if not 1 <= value <= maximum:
        raise ConfigError(f"{name} must be from 1 to {maximum}, got {raw[:40]}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: int, maximum: int) -> timedelta:
    return timedelta(seconds=_whole_number(env, name, default, maximum, "seconds"))


def _base_url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    """An http(s) base URL without a trailing slash; unset or empty is `default`."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        parts = urlsplit(raw)
    except ValueError:  # an unclosed IPv6 bracket, say
        raise ConfigError(f"{name} is not a URL, got {raw!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{name} must be an http:// or https:// URL such as https://example.com, got {raw!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must be a base URL, without ?query or #fragment, got {raw!r}")
    try:
        parts.port  # noqa: B018  (raises on a port out of range or not a number)
    except ValueError:
        raise ConfigError(f"{name} has a bad port, got {raw!r}") from None
    return raw.rstrip("/")


def _switch(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise ConfigError(f"{name} must be 'on' or 'off', got {raw!r}")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (case does not matter); unset or empty is the first."""
    raw = env.get(name, "").strip()
    if not raw:
        return choices[0]
    if raw.lower() not in choices:
        allowed = " or ".join(repr(choice) for choice in choices)
        raise ConfigError(f"{name} must be {allowed}, got {raw!r}")
    return raw.lower()


def _region_windows(raw: str) -> dict[str, timedelta]:
    """`ID=86400,TH=172800` -> per-region dispute windows."""
    windows: dict[str, timedelta] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        region, sep, seconds = part.partition("=")
        if not sep or not region.strip().isalpha() or not seconds.strip().isdigit():
            raise ConfigError(
                f"DISPUTE_WINDOW_REGION_SECONDS must look like 'ID=86400,TH=172800', got {part!r}"
            )
        if not 1 <= int(seconds) <= MAX_WINDOW_SECONDS:
            raise ConfigError(
                f"DISPUTE_WINDOW_REGION_SECONDS: {region.strip()}'s window must be from 1 to"
                f" {MAX_WINDOW_SECONDS} seconds (ten years), got {seconds.strip()[:40]}"
            )
        windows[region.strip().upper()] = timedelta(seconds=int(seconds))
    return windows


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    environment = env.get("AFTERSALES_ENV", "development").strip() or "development"
    if environment not in ("development", "production"):
        raise ConfigError(
            f"AFTERSALES_ENV must be 'development' or 'production', got {environment!r}"
        )
    url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
    if url.startswith("postgresql://"):  # the spelling libpq and most tools use
        url = "postgres://" + url.removeprefix("postgresql://")
    if not url.startswith(("sqlite://", "postgres://")):
        raise ConfigError(
            f"DATABASE_URL must start with sqlite:// or postgres://, got {url.split('://')[0]!r}"
        )
    try:
        urls.check(url)
    except urls.BadDatabaseUrl as exc:
        raise ConfigError(str(exc)) from None
    return Settings(
        database_url=url,
        environment=environment,
        tiktok_app_key=env.get("TIKTOK_APP_KEY") or None,
        tiktok_app_secret=env.get("TIKTOK_APP_SECRET") or None,
        logistics_webhook_secret=env.get("LOGISTICS_WEBHOOK_SECRET") or None,
        dispute_windows=DisputeWindows(
            default=_seconds(env, "DISPUTE_WINDOW_SECONDS", 172800, MAX_WINDOW_SECONDS),
            by_region=_region_windows(env.get("DISPUTE_WINDOW_REGION_SECONDS", "")),
        ),
        sweep_interval=_seconds(env, "SWEEP_INTERVAL_SECONDS", 60, MAX_INTERVAL_SECONDS),
        webhook_max_bytes=_whole_number(env, "WEBHOOK_MAX_BYTES", 1024 * 1024, MAX_WEBHOOK_BYTES),
        tiktok_api_base_url=_base_url(env, "TIKTOK_API_BASE_URL", None),
        graphiql=_switch(env, "GRAPHIQL", default=environment != "production"),
        graphql_fast_execution=_switch(env, "GRAPHQL_FAST_EXECUTION", default=True),
        log_format=_choice(env, "LOG_FORMAT", LOG_FORMATS),
        tiktok_auth_base_url=_base_url(env, "TIKTOK_AUTH_BASE_URL", DEFAULT_TIKTOK_AUTH_BASE_URL)
        or DEFAULT_TIKTOK_AUTH_BASE_URL,
        tiktok_poll_interval=_seconds(
            env, "TIKTOK_POLL_INTERVAL_SECONDS", 300, MAX_INTERVAL_SECONDS
        ),
        tiktok_retry_max=_seconds(env, "TIKTOK_RETRY_MAX_SECONDS", 600, MAX_INTERVAL_SECONDS),
        secret_keys=parse_secret_keys(env.get(SECRET_KEY_NAME, "")),
        read_timeout=_seconds(env, "READ_TIMEOUT_SECONDS", 10, MAX_INTERVAL_SECONDS),
        operator_token=env.get("OPERATOR_TOKEN", "").strip() or None,
        tiktok_service_id=env.get("TIKTOK_SERVICE_ID", "").strip() or None,
        tiktok_authorize_url=_base_url(env, "TIKTOK_AUTHORIZE_URL", None),
        tiktok_redirect_base_url=_base_url(env, "TIKTOK_REDIRECT_BASE_URL", None),
    )
