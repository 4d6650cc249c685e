"""TikTok credentials through the real `aftersales` console script: set, rotated, cleared,
encrypted at rest, and never printed or logged."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from aftersales.settings import SECRET_KEY_NAME
from aftersales.store.credentials import Vault
from tests.e2e.test_cli import AFTERSALES, CLEARED, Cli, assert_clean_failure

pytestmark = pytest.mark.live  # the `aftersales` command runs as a process

ACCESS = "ROW_e2e-access-token-5f2a9c71d0b34e86"
REFRESH = "RFT_e2e-refresh-token-8c1d7e02a94f5b33"
CIPHER = "GCP_e2e_cipher"
SHOP = "7000"
SYNC_VARIABLES = (
    SECRET_KEY_NAME,
    "TIKTOK_API_BASE_URL",
    "TIKTOK_AUTH_BASE_URL",
    "TIKTOK_POLL_INTERVAL_SECONDS",
    "TIKTOK_RETRY_MAX_SECONDS",
    "LOG_FORMAT",
)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if k not in (*CLEARED, *SYNC_VARIABLES)}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    return Cli(cwd=tmp_path, env=env)


def run(cli: Cli, *args: str, stdin: str, **env: str) -> subprocess.CompletedProcess[str]:
    assert AFTERSALES
    return subprocess.run(
        [AFTERSALES, *args],
        cwd=cli.cwd,
        env={**cli.env, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_no_secret(*results: subprocess.CompletedProcess[str], secrets: tuple[str, ...]) -> None:
    for result in results:
        for secret in secrets:
            assert secret not in result.stdout + result.stderr


def stored(cli: Cli, shop_id: str = SHOP) -> dict[str, str | None]:
    with sqlite3.connect(cli.cwd / "cli.sqlite3") as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute(
            "SELECT access_token, refresh_token, shop_cipher, access_token_expires_at"
            " FROM shop WHERE shop_id = ?",
            (shop_id,),
        ).fetchone()
    return dict(row)


def local_key(cli: Cli) -> str:
    for line in (cli.cwd / "aftersales.secrets").read_text().splitlines():
        name, _, value = line.partition("=")
        if name == SECRET_KEY_NAME:
            return value
    raise AssertionError("no AFTERSALES_SECRET_KEY in the development secrets file")


def add_shop(cli: Cli, *extra: str, **env: str) -> subprocess.CompletedProcess[str]:
    return cli(
        "shops", "add", "--seller", "acme", "--shop-id", SHOP, "--region", "ID", *extra, **env
    )


def test_shops_add_with_credentials_stores_them_encrypted_and_never_prints_them(cli: Cli) -> None:
    added = add_shop(
        cli,
        "--access-token",
        ACCESS,
        "--refresh-token",
        REFRESH,
        "--shop-cipher",
        CIPHER,
        "--access-token-expires-at",
        "2026-12-01T09:00:00Z",
        LOG_FORMAT="json",
    )
    listed = cli("shops", "list")

    assert added.returncode == 0, added.stderr
    lines = added.stdout.splitlines()
    assert lines[0].startswith("development mode: generated AFTERSALES_SECRET_KEY")
    assert "registered shop 7000 (ID, 'Shop 7000') for new seller 'acme'" in added.stdout
    assert lines[-1] == (
        "credentials of shop 7000: access token, refresh token and shop cipher set"
        " (access token expires 2026-12-01 09:00 UTC);"
        " this shop syncs with TikTok when TIKTOK_API_BASE_URL is set"
    )
    row = stored(cli)
    assert ACCESS not in str(row) and REFRESH not in str(row)
    vault = Vault([local_key(cli)])
    assert row["access_token"] and vault.decrypt(row["access_token"]) == ACCESS
    assert row["refresh_token"] and vault.decrypt(row["refresh_token"]) == REFRESH
    assert row["shop_cipher"] == CIPHER
    header, shop, why = listed.stdout.splitlines()
    assert header.split() == [
        "SHOP", "ID", "SELLER", "REGION", "NAME", "TIKTOK", "CONNECTION", "AFTER-SALES"
    ]  # fmt: skip
    assert " credentials " in shop and " LOCAL_ONLY " in shop
    assert why == "shop 7000: LOCAL_ONLY: sync not configured: TIKTOK_API_BASE_URL is not set"
    assert_no_secret(added, listed, secrets=(ACCESS, REFRESH, local_key(cli)))


def test_a_shop_without_credentials_is_listed_local_only(cli: Cli) -> None:
    add_shop(cli)

    listed = cli("shops", "list")

    assert " local-only " in listed.stdout.splitlines()[1]
    assert not (cli.cwd / "aftersales.secrets").exists()  # no key needed, none generated


def test_shops_credentials_sets_rotates_and_clears(cli: Cli) -> None:
    add_shop(cli)

    first = cli("shops", "credentials", "--shop-id", SHOP, "--access-token", ACCESS)
    cipher = cli("shops", "credentials", "--shop-id", SHOP, "--shop-cipher", CIPHER)
    rotated = run(
        cli,
        "shops",
        "credentials",
        "--shop-id",
        SHOP,
        "--access-token",
        "-",
        "--refresh-token",
        "-",
        "--access-token-expires-at",
        "1796115600",
        stdin=f"ROW_rotated_token_from_stdin\n{REFRESH}\n",
        TIKTOK_API_BASE_URL="http://127.0.0.1:9",
    )
    after_rotation = stored(cli)
    cleared = cli("shops", "credentials", "--shop-id", SHOP, "--clear")
    listed = cli("shops", "list")

    assert first.returncode == 0, first.stderr
    assert "development mode: generated AFTERSALES_SECRET_KEY" in first.stdout
    assert first.stdout.splitlines()[-1] == (
        "credentials of shop 7000: access token set; it has no shop cipher, so it stays"
        " local-only (TikTok refuses calls without one): give --shop-cipher, or set"
        " TIKTOK_API_BASE_URL to look it up"
    )
    assert cipher.stdout.splitlines()[-1].startswith("credentials of shop 7000: shop cipher set;")
    assert "AFTERSALES_SECRET_KEY" not in cipher.stdout  # a shop cipher is not encrypted
    assert rotated.returncode == 0, rotated.stderr
    assert "development mode: took AFTERSALES_SECRET_KEY" in rotated.stdout
    assert rotated.stdout.splitlines()[-1] == (
        "credentials of shop 7000: access token and refresh token set"
        " (access token expires 2026-12-01 09:00 UTC);"
        " this shop syncs with TikTok (TIKTOK_API_BASE_URL is set)"
    )
    vault = Vault([local_key(cli)])
    assert after_rotation["access_token"]
    assert vault.decrypt(after_rotation["access_token"]) == "ROW_rotated_token_from_stdin"
    assert after_rotation["shop_cipher"] == CIPHER
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.strip() == (
        "credentials of shop 7000 removed: access token, refresh token and shop cipher;"
        " this shop is local-only now"
    )
    assert stored(cli) == {
        "access_token": None,
        "refresh_token": None,
        "shop_cipher": None,
        "access_token_expires_at": None,
    }
    assert " local-only " in listed.stdout.splitlines()[1]
    assert_no_secret(
        first,
        cipher,
        rotated,
        cleared,
        listed,
        secrets=(ACCESS, REFRESH, "ROW_rotated_token_from_stdin", local_key(cli)),
    )


def test_mistakes_are_one_error_line_without_the_token(cli: Cli) -> None:
    add_shop(cli)

    unknown = cli("shops", "credentials", "--shop-id", "404", "--access-token", ACCESS)
    nothing = cli("shops", "credentials", "--shop-id", SHOP)
    both = cli("shops", "credentials", "--shop-id", SHOP, "--clear", "--access-token", ACCESS)
    empty = cli("shops", "credentials", "--shop-id", SHOP, "--access-token", " ")
    no_stdin = run(cli, "shops", "credentials", "--shop-id", SHOP, "--access-token", "-", stdin="")
    bad_date = cli(
        "shops", "credentials", "--shop-id", SHOP, "--access-token-expires-at", "next tuesday"
    )
    long_cipher = cli("shops", "credentials", "--shop-id", SHOP, "--shop-cipher", "c" * 201)

    assert_clean_failure(unknown, "no shop '404'", "aftersales shops add")
    assert_clean_failure(nothing, "nothing to do", "--clear")
    assert_clean_failure(both, "--clear removes every credential")
    assert_clean_failure(empty, "--access-token is empty")
    assert_clean_failure(no_stdin, "--access-token -: nothing to read on stdin")
    assert bad_date.returncode == 2 and "is not a date and time" in bad_date.stderr
    assert_clean_failure(long_cipher, "the shop cipher is 201 characters long; at most 200")
    assert_no_secret(unknown, both, secrets=(ACCESS,))


def test_production_without_the_key_refuses_to_store_credentials_and_names_the_variable(
    cli: Cli,
) -> None:
    production = {"AFTERSALES_ENV": "production"}

    refused_add = add_shop(cli, "--access-token", ACCESS, **production)
    added = add_shop(cli, "--shop-cipher", CIPHER, **production)  # nothing to encrypt: fine
    refused_set = cli(
        "shops", "credentials", "--shop-id", SHOP, "--refresh-token", REFRESH, **production
    )
    key = Fernet.generate_key().decode()
    accepted = cli(
        "shops",
        "credentials",
        "--shop-id",
        SHOP,
        "--access-token",
        ACCESS,
        AFTERSALES_SECRET_KEY=key,
        **production,
    )

    for refused in (refused_add, refused_set):
        assert_clean_failure(
            refused,
            "refusing to store TikTok shop credentials in production",
            "AFTERSALES_SECRET_KEY is not set",
        )
        assert refused.stdout == ""
    assert "registered shop 7000" in added.stdout  # the refused add registered nothing
    assert accepted.returncode == 0, accepted.stderr
    assert "development mode" not in accepted.stdout
    assert not (cli.cwd / "aftersales.secrets").exists()
    stored_token = stored(cli)["access_token"]
    assert stored_token and Vault([key]).decrypt(stored_token) == ACCESS
    assert_no_secret(refused_add, refused_set, accepted, secrets=(ACCESS, REFRESH, key))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_production_serve_refuses_to_start_without_the_key_once_a_shop_has_credentials(
    cli: Cli,
) -> None:
    key = Fernet.generate_key().decode()
    production = {
        "AFTERSALES_ENV": "production",
        "TIKTOK_APP_KEY": "app-key",
        "TIKTOK_APP_SECRET": "s" * 32,
        "LOGISTICS_WEBHOOK_SECRET": "l" * 32,
    }
    add_shop(cli, "--access-token", ACCESS, AFTERSALES_SECRET_KEY=key, **production)

    serve = cli("serve", "--port", str(_free_port()), **production)

    assert_clean_failure(
        serve, "refusing to start in production", "AFTERSALES_SECRET_KEY is not set", "decrypt"
    )
    assert "serving GraphQL" not in serve.stdout
    assert_no_secret(serve, secrets=(ACCESS, key))


def test_a_bad_secret_key_stops_every_command_without_showing_it(cli: Cli) -> None:
    result = cli("shops", "list", AFTERSALES_SECRET_KEY="too-short-to-be-a-key")

    assert_clean_failure(result, "AFTERSALES_SECRET_KEY: key 1 of 1 is 21 characters long")
    assert "too-short-to-be-a-key" not in result.stderr


def test_the_sandbox_signs_with_the_app_key_and_secret_the_service_uses(cli: Cli) -> None:
    """Started from the service's folder in development, the sandbox takes the same generated
    TIKTOK_APP_KEY and TIKTOK_APP_SECRET from the local secrets file."""
    assert AFTERSALES
    cli("migrate")
    port = _free_port()
    process = subprocess.Popen(
        [AFTERSALES, "tiktok-sandbox", "--port", str(port)],
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(2)]
    finally:
        process.terminate()
        process.wait(timeout=15)

    secrets = dict(
        line.split("=", 1)
        for line in (cli.cwd / "aftersales.secrets").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert lines[0].startswith("development mode: generated local secrets in"), lines
    assert lines[1].strip() == (
        f"TikTok sandbox on http://127.0.0.1:{port} for app key {secrets['TIKTOK_APP_KEY']}"
    )
    assert secrets["TIKTOK_APP_SECRET"] not in "".join(lines)


def test_a_key_generated_beside_credentials_stored_with_another_warns(cli: Cli) -> None:
    first = add_shop(cli, "--access-token", ACCESS)
    (cli.cwd / "aftersales.secrets").unlink()  # as if run from another folder on PostgreSQL

    rotated = cli("shops", "credentials", "--shop-id", SHOP, "--shop-cipher", CIPHER)
    regenerated = cli("shops", "credentials", "--shop-id", SHOP, "--refresh-token", REFRESH)
    again = cli("shops", "credentials", "--shop-id", SHOP, "--refresh-token", REFRESH)

    assert first.returncode == 0 and "warning" not in first.stderr, first.stderr
    assert "warning" not in rotated.stderr  # no token given: no key needed, none generated
    assert regenerated.returncode == 0, regenerated.stderr
    assert regenerated.stderr.startswith(f"warning: {SECRET_KEY_NAME} was generated just now")
    assert "already have credentials encrypted with another key" in regenerated.stderr
    assert again.stderr == ""  # the key is the file's now: generated once, said once


def _locale(cli: Cli) -> str | None:
    database = cli.database_url.removeprefix("sqlite://")
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT locale FROM shop WHERE shop_id = ?", (SHOP,)).fetchone()
    return None if row is None else row[0]


def test_a_shops_locale_is_set_at_add_or_later_and_a_bad_one_registers_nothing(cli: Cli) -> None:
    refused = add_shop(cli, "--locale", "not a tag")
    assert_clean_failure(refused, "locale", "id-ID")
    assert "registered" not in refused.stdout

    added = add_shop(cli, "--locale", "ms_my")
    assert added.returncode == 0, added.stderr
    assert "TikTok's texts in ms-MY" in added.stdout
    assert _locale(cli) == "ms-MY"

    changed = cli("shops", "credentials", "--shop-id", SHOP, "--locale", "en-gb")
    assert changed.returncode == 0, changed.stderr
    assert _locale(cli) == "en-GB"
    assert "credentials of shop" not in changed.stdout  # no credential was touched
