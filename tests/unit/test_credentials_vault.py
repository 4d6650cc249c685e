"""The key that encrypts shop credentials at rest, and the settings of the TikTok sync."""

from __future__ import annotations

import base64
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from aftersales.settings import (
    DEFAULT_TIKTOK_AUTH_BASE_URL,
    SECRET_KEY_NAME,
    SECRET_NAMES,
    ConfigError,
    load_settings,
)
from aftersales.store.credentials import CredentialsError, ShopCredentials, Vault, fernet_key

PLAIN = "ROW_access-token-of-the-shop-0123456789"
PASSPHRASE = "correct horse battery staple and more"  # 37 characters: derived with HKDF


def test_a_token_round_trips_and_is_not_stored_in_the_clear() -> None:
    vault = Vault([Fernet.generate_key().decode()])

    sealed = vault.encrypt(PLAIN)

    assert PLAIN not in sealed
    assert vault.decrypt(sealed) == PLAIN
    assert vault.encrypt(PLAIN) != sealed  # a fresh IV each time


def test_rotation_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_with_old = Vault([old]).encrypt(PLAIN)

    rotated = Vault([new, old])
    sealed_with_new = rotated.encrypt(PLAIN)

    assert rotated.decrypt(sealed_with_old) == PLAIN
    assert Vault([new]).decrypt(sealed_with_new) == PLAIN  # encrypted with the first one
    with pytest.raises(CredentialsError):
        Vault([old]).decrypt(sealed_with_new)


def test_a_wrong_key_is_a_clear_error_that_never_shows_the_value_or_the_keys() -> None:
    right, wrong = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed = Vault([right]).encrypt(PLAIN)

    with pytest.raises(CredentialsError) as caught:
        Vault([wrong]).decrypt(sealed)

    message = str(caught.value)
    assert "AFTERSALES_SECRET_KEY" in message and "cannot be decrypted" in message
    for secret in (PLAIN, sealed, right, wrong):
        assert secret not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_garbage_in_the_column_is_the_same_clear_error() -> None:
    with pytest.raises(CredentialsError, match="cannot be decrypted"):
        Vault([PASSPHRASE]).decrypt("not a fernet token")


def test_a_plain_string_key_is_derived_with_hkdf_sha256() -> None:
    expected = base64.urlsafe_b64encode(
        HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=None,
            info=b"aftersales shop credentials v1",
        ).derive(PASSPHRASE.encode())
    )

    assert fernet_key(PASSPHRASE) == expected
    sealed = Vault([PASSPHRASE]).encrypt(PLAIN)
    assert Fernet(expected).decrypt(sealed.encode()).decode() == PLAIN
    assert Vault([PASSPHRASE + " "]).decrypt(sealed) == PLAIN  # surrounding spaces don't count


def test_a_fernet_key_is_used_as_it_is() -> None:
    key = Fernet.generate_key()

    assert fernet_key(key.decode()) == key
    assert Fernet(key).decrypt(Vault([key.decode()]).encrypt(PLAIN).encode()).decode() == PLAIN


def test_a_short_key_or_no_key_is_refused_without_showing_it() -> None:
    with pytest.raises(CredentialsError, match="31 characters") as caught:
        Vault(["k" * 31])
    assert "k" * 31 not in str(caught.value)
    with pytest.raises(CredentialsError):
        Vault([])


def test_a_vault_from_the_settings_keys() -> None:
    first, second = Fernet.generate_key().decode(), PASSPHRASE

    from_tuple = Vault.from_settings_keys((first, second))
    from_text = Vault.from_settings_keys(f" {first} , {second} ")

    assert Vault.from_settings_keys(None) is None
    assert Vault.from_settings_keys(()) is None
    assert Vault.from_settings_keys(" , ") is None
    assert from_tuple is not None and from_text is not None
    assert from_text.decrypt(Vault([second]).encrypt(PLAIN)) == PLAIN
    assert Vault([first]).decrypt(from_tuple.encrypt(PLAIN)) == PLAIN
    assert first not in repr(from_tuple)


def test_shop_credentials_never_show_their_tokens() -> None:
    creds = ShopCredentials(
        shop_pk=1,
        shop_id="7000",
        region="ID",
        access_token="ROW_secret_access",
        refresh_token="ROW_secret_refresh",
        shop_cipher="GCP_cipher",
        access_token_expires_at=datetime(2026, 12, 1, tzinfo=UTC),
        refresh_token_expires_at=None,
    )

    shown = repr(creds) + str(creds) + f"{creds}" + repr([creds])

    assert "ROW_secret_access" not in shown and "ROW_secret_refresh" not in shown
    assert "7000" in shown and "<hidden>" in shown


# --- Settings ---------------------------------------------------------------------------------


def test_the_sync_settings_have_defaults() -> None:
    settings = load_settings({})

    assert settings.tiktok_api_base_url is None and not settings.sync_enabled
    assert settings.tiktok_auth_base_url == DEFAULT_TIKTOK_AUTH_BASE_URL
    assert settings.tiktok_poll_interval == timedelta(seconds=300)
    assert settings.tiktok_retry_max == timedelta(seconds=600)
    assert settings.secret_keys == ()


def test_the_sync_settings_are_read() -> None:
    key = Fernet.generate_key().decode()
    settings = load_settings(
        {
            "TIKTOK_API_BASE_URL": "http://127.0.0.1:9000/",
            "TIKTOK_AUTH_BASE_URL": " https://auth.example.test/base/ ",
            "TIKTOK_POLL_INTERVAL_SECONDS": "60",
            "TIKTOK_RETRY_MAX_SECONDS": "120",
            "AFTERSALES_SECRET_KEY": f"{key}, {PASSPHRASE}",
        }
    )

    assert settings.tiktok_api_base_url == "http://127.0.0.1:9000" and settings.sync_enabled
    assert settings.tiktok_auth_base_url == "https://auth.example.test/base"
    assert settings.tiktok_poll_interval == timedelta(seconds=60)
    assert settings.tiktok_retry_max == timedelta(seconds=120)
    assert settings.secret_keys == (key, PASSPHRASE)
    assert key not in repr(settings) and PASSPHRASE not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "phrase"),
    [
        ("TIKTOK_API_BASE_URL", "ftp://example.test", "http:// or https://"),
        ("TIKTOK_API_BASE_URL", "example.test", "http:// or https://"),
        ("TIKTOK_AUTH_BASE_URL", "https://", "http:// or https://"),
        ("TIKTOK_AUTH_BASE_URL", "https://a.test/?x=1", "without ?query"),
        ("TIKTOK_API_BASE_URL", "http://a.test:99999", "bad port"),
        ("TIKTOK_POLL_INTERVAL_SECONDS", "5m", "whole number of seconds"),
        ("TIKTOK_POLL_INTERVAL_SECONDS", "0", "from 1 to"),
        ("TIKTOK_RETRY_MAX_SECONDS", "-1", "from 1 to"),
    ],
)
def test_bad_sync_settings_are_named(name: str, value: str, phrase: str) -> None:
    with pytest.raises(ConfigError, match=name) as caught:
        load_settings({name: value})

    assert phrase in str(caught.value)


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ("short-key-of-31-characters-xxxx", "key 1 of 1 is 31 characters long"),
        (f"{PASSPHRASE},", "key 2 of 2 is empty"),
        (f"{PASSPHRASE},{PASSPHRASE}", "the same key is listed twice"),
    ],
)
def test_a_bad_secret_key_is_named_without_showing_it(value: str, phrase: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"AFTERSALES_SECRET_KEY": value})

    message = str(caught.value)
    assert "AFTERSALES_SECRET_KEY" in message and phrase in message
    assert PASSPHRASE not in message and "short-key" not in message


def test_an_empty_secret_key_counts_as_unset() -> None:
    assert load_settings({"AFTERSALES_SECRET_KEY": " "}).secret_keys == ()


def _development(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite://{tmp_path / 'a.sqlite3'}", **env}


def test_development_generates_the_secret_key_once_into_the_local_secrets_file(
    tmp_path: Path,
) -> None:
    first, made = load_settings(_development(tmp_path)).with_local_secret_key()
    again, reread = load_settings(_development(tmp_path)).with_local_secret_key()

    assert made.path == tmp_path / "aftersales.secrets"
    assert made.generated == [SECRET_KEY_NAME] and reread.generated == []
    assert len(first.secret_keys) == 1 and again.secret_keys == first.secret_keys
    assert Vault(first.secret_keys).encrypt(PLAIN)  # a usable key
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600


def test_the_key_and_the_webhook_secrets_share_the_file_without_losing_each_other(
    tmp_path: Path,
) -> None:
    keyed, _ = load_settings(_development(tmp_path)).with_local_secret_key()

    webhooks, made = load_settings(_development(tmp_path)).with_local_secrets()
    keyed_again, _ = load_settings(_development(tmp_path)).with_local_secret_key()

    assert made.generated == list(SECRET_NAMES)  # the key is not one of those three
    assert keyed_again.secret_keys == keyed.secret_keys
    assert webhooks.secret_keys == ()  # `with_local_secrets` is about the webhook secrets only
    text = made.path.read_text()
    assert all(f"{name}=" in text for name in (*SECRET_NAMES, SECRET_KEY_NAME))


def test_the_environment_key_wins_and_the_file_is_left_alone(tmp_path: Path) -> None:
    settings = load_settings(_development(tmp_path, AFTERSALES_SECRET_KEY=PASSPHRASE))

    filled, local = settings.with_local_secret_key()

    assert filled.secret_keys == (PASSPHRASE,) and local.generated == []
    assert not (tmp_path / "aftersales.secrets").exists()


def test_production_never_generates_the_secret_key_and_names_it(tmp_path: Path) -> None:
    (tmp_path / "aftersales.secrets").write_text(f"{SECRET_KEY_NAME}={PASSPHRASE}\n")
    settings = load_settings(_development(tmp_path, AFTERSALES_ENV="production"))

    with pytest.raises(ConfigError, match=SECRET_KEY_NAME) as caught:
        settings.with_local_secret_key()

    assert PASSPHRASE not in str(caught.value)
    # Production's missing secrets are still the three webhook ones.
    assert settings.missing_secrets() == list(SECRET_NAMES)


def test_a_bad_key_in_the_local_file_is_named_by_the_file(tmp_path: Path) -> None:
    path = tmp_path / "aftersales.secrets"
    path.write_text(f"{SECRET_KEY_NAME}=too-short\n")

    with pytest.raises(ConfigError, match=r"aftersales\.secrets") as caught:
        load_settings(_development(tmp_path)).with_local_secret_key()

    assert "too-short" not in str(caught.value)
