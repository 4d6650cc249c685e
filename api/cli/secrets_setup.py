"""The secrets a command needs, resolved: production refuses to go on without them, development
takes the missing ones from its local secrets file and says where (never what)."""

from __future__ import annotations

from aftersales.settings import SECRET_KEY_NAME, Settings, missing_secret_key
from aftersales.store.credentials import Vault
from api.cli.runner import UserFacingError


def with_secrets(settings: Settings) -> Settings:
    """The webhook secrets, for the commands that sign or check webhooks. Production refuses to
    go on without them; development takes the missing ones from its local secrets file
    (created once, mode 600, beside the SQLite database) and says where it is. The policy is
    Settings.check_production's."""
    settings.check_production()
    if not settings.missing_secrets() or settings.is_production:
        return settings  # production without a tracking feed: its endpoint is off
    filled, local = settings.with_local_secrets()
    done = "generated local secrets in" if local.generated else "local secrets from"
    print(
        f"development mode: {done} {local.path}"
        " (the environment overrides them; production never uses the file)",
        flush=True,
    )
    return filled


def with_secret_key(settings: Settings) -> Settings:
    """AFTERSALES_SECRET_KEY for `serve`. Development takes a missing one from the local secrets
    file (generated there the first time, and then said); production goes on without it only
    while no shop has credentials (checked once the database is open)."""
    if settings.secret_keys or settings.is_production:
        return settings
    filled, local = settings.with_local_secret_key()
    if local.generated:
        print(
            f"development mode: generated {SECRET_KEY_NAME} (the key that encrypts shop"
            f" credentials) in {local.path}",
            flush=True,
        )
    return filled


def vault_for(settings: Settings) -> tuple[Settings, Vault]:
    """The key that encrypts shop credentials (AFTERSALES_SECRET_KEY), and the settings that
    hold it. Production refuses to go on without it; development takes it from the local
    secrets file, generating it there the first time, and says where (never what)."""
    if not settings.secret_keys:
        if settings.is_production:
            raise UserFacingError(
                "refusing to store TikTok shop credentials in production: "
                + missing_secret_key("production needs it to encrypt")
            )
        settings, local = settings.with_local_secret_key()
        done = "generated" if local.generated else "took"
        print(
            f"development mode: {done} {SECRET_KEY_NAME} (the key that encrypts shop"
            f" credentials) in {local.path} (the environment overrides it; production never"
            " uses the file)",
            flush=True,
        )
    vault = Vault.from_settings_keys(settings.secret_keys)
    assert vault is not None
    return settings, vault
