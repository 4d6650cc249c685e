"""Environment -> typed settings. The one place that reads os.environ."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from aftersales.domain.model import DisputeWindows

DEFAULT_DATABASE_URL = "sqlite://aftersales.sqlite3"
SECRET_NAMES = ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "LOGISTICS_WEBHOOK_SECRET")
SECRETS_FILE = "aftersales.secrets"
LOG_FORMATS = ("text", "json")


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
    log_format: str = "text"  # LOG_FORMAT: `text`, or `json` (one object a line) for shippers

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def missing_secrets(self) -> list[str]:
        values = (self.tiktok_app_key, self.tiktok_app_secret, self.logistics_webhook_secret)
        return [name for name, value in zip(SECRET_NAMES, values, strict=True) if not value]

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
        if sep and name.strip() in SECRET_NAMES and value.strip():
            found[name.strip()] = value.strip()
    return found


def _write_secrets(path: Path, values: dict[str, str]) -> None:
    lines = [
        "# Development secrets of the aftersales service, generated once and reused by every",
        "# command. Never used in production (AFTERSALES_ENV=production). Keep this file private.",
        *(f"{name}={values[name]}" for name in SECRET_NAMES if name in values),
    ]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)  # an older file may have been created with wider permissions
    except OSError as exc:
        raise ConfigError(f"cannot write the development secrets to {path}: {exc}") from None


def _seconds(env: Mapping[str, str], name: str, default: int) -> timedelta:
    raw = env.get(name, "").strip()
    if not raw:
        return timedelta(seconds=default)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than zero, got {value}")
    return timedelta(seconds=value)


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
    return Settings(
        database_url=url,
        environment=environment,
        tiktok_app_key=env.get("TIKTOK_APP_KEY") or None,
        tiktok_app_secret=env.get("TIKTOK_APP_SECRET") or None,
        logistics_webhook_secret=env.get("LOGISTICS_WEBHOOK_SECRET") or None,
        dispute_windows=DisputeWindows(
            default=_seconds(env, "DISPUTE_WINDOW_SECONDS", 172800),
            by_region=_region_windows(env.get("DISPUTE_WINDOW_REGION_SECONDS", "")),
        ),
        sweep_interval=_seconds(env, "SWEEP_INTERVAL_SECONDS", 60),
        webhook_max_bytes=int(_seconds(env, "WEBHOOK_MAX_BYTES", 1024 * 1024).total_seconds()),
        tiktok_api_base_url=env.get("TIKTOK_API_BASE_URL") or None,
        graphiql=_switch(env, "GRAPHIQL", default=environment != "production"),
        log_format=_choice(env, "LOG_FORMAT", LOG_FORMATS),
    )
