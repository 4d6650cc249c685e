"""The real `aftersales` console script, run as a subprocess the way an operator runs it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from tortoise.migrations.api import migrate as run_migrations

from aftersales.commands import accounts
from aftersales.settings import SECRET_NAMES, load_settings
from aftersales.store import db
from tests.support.live import wait_until_serving

pytestmark = pytest.mark.live  # the `aftersales` command runs as a process

AFTERSALES = shutil.which("aftersales", path=str(Path(sys.executable).parent))
SHOPS = "query { shops { shopId region name } }"
CLEARED = ("DATABASE_URL", "AFTERSALES_ENV", *SECRET_NAMES)
STARTUP_SECONDS = 30


@dataclass
class Cli:
    """`aftersales` with DATABASE_URL on a fresh SQLite file in its own working directory."""

    cwd: Path
    env: dict[str, str]

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        assert AFTERSALES, "the `aftersales` console script is not installed: run `make install`"
        return subprocess.run(
            [AFTERSALES, *args],
            cwd=self.cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    return Cli(cwd=tmp_path, env=env)


def assert_clean_failure(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    """Exit 1 with one `error: ...` line on stderr that says what is wrong; no traceback."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for phrase in phrases:
        assert phrase in lines[0]


MIGRATIONS = sorted(
    p.stem for p in (Path(db.__file__).parent / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py")
)


def test_migrate_creates_the_schema(cli: Cli) -> None:
    result = cli("migrate")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"created the database schema (applied {len(MIGRATIONS)} migrations)"
    )
    assert (cli.cwd / "cli.sqlite3").exists()


def test_migrate_twice_is_harmless(cli: Cli) -> None:
    cli("migrate")

    result = cli("migrate")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database schema is already up to date"


@pytest.fixture
def first_migration_only(request: pytest.FixtureRequest, backend: str, cli: Cli) -> Iterator[str]:
    """A database made by the first migration alone, as the first release left it."""
    if backend == "sqlite":
        url = cli.database_url
    else:
        server = str(request.getfixturevalue("postgres_url"))
        name = f"cli_{uuid.uuid4().hex[:12]}"
        _admin(server, f'CREATE DATABASE "{name}"')
        url = server.rsplit("/", 1)[0] + "/" + name

    async def first_only() -> None:
        try:
            await run_migrations(config=db.tortoise_config(url), target=f"models.{MIGRATIONS[0]}")
        finally:
            await db.close()

    asyncio.run(first_only())
    try:
        yield url
    finally:
        if backend == "postgres":
            _admin(server, f'DROP DATABASE "{name}" WITH (FORCE)')


def _admin(url: str, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())


def test_migrate_upgrades_a_database_of_the_first_release_and_says_so(
    cli: Cli, first_migration_only: str
) -> None:
    result = cli("migrate", DATABASE_URL=first_migration_only)
    again = cli("migrate", DATABASE_URL=first_migration_only)

    assert result.returncode == 0, result.stderr
    later = MIGRATIONS[1:]
    assert result.stdout.strip() == (
        f"upgraded the database schema (applied {len(later)} migration"
        f"{'' if len(later) == 1 else 's'}: {', '.join(later)})"
    )
    assert again.stdout.strip() == "database schema is already up to date"


def test_shops_add_creates_the_seller_and_says_so(cli: Cli) -> None:
    first = cli(
        "shops", "add", "--seller", "acme", "--shop-id", "7494049642642441621", "--region", "my"
    )
    second = cli(
        "shops", "add", "--seller", "acme", "--shop-id", "7494049642642441622", "--region", "TH",
        "--name", "Bangkok",
    )  # fmt: skip

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "registered shop 7494049642642441621 (MY, 'Shop 7494049642642441621') for new seller 'acme'"
    )
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == (
        "registered shop 7494049642642441622 (TH, 'Bangkok') for seller 'acme'"
    )


def test_a_duplicate_shop_is_a_one_line_error(cli: Cli) -> None:
    cli("shops", "add", "--seller", "acme", "--shop-id", "7494049642642441621", "--region", "MY")

    result = cli(
        "shops", "add", "--seller", "other", "--shop-id", "7494049642642441621", "--region", "MY"
    )

    assert_clean_failure(result, "7494049642642441621", "already registered", "'acme'")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("--shop-id", "not a shop id", "--region", "MY"), "is not a TikTok shop id"),
        (("--shop-id", "7494049642642441621", "--region", "Malaysia"), "two-letter ISO code"),
        (("--shop-id", "7494049642642441621", "--region", "XX"), "not an ISO 3166-1 country"),
        (
            ("--shop-id", "7494049642642441621", "--region", "MY", "--name", "n" * 500),
            "the shop name is 500 characters long; at most 200",
        ),
        (
            ("--shop-id", "7494049642642441621", "--region", "MY", "--shop-cipher", "c" * 300),
            "the shop cipher is 300 characters long; at most 200",
        ),
    ],
)
def test_a_malformed_shop_is_a_one_line_error(cli: Cli, args: tuple[str, ...], phrase: str) -> None:
    result = cli("shops", "add", "--seller", "acme", *args)

    assert_clean_failure(result, phrase)


@pytest.mark.parametrize(
    "command",
    [
        ("shops", "add", "--shop-id", "7494049642642441621", "--region", "MY", "--seller"),
        ("tokens", "create", "--seller"),
        ("tokens", "list", "--seller"),
    ],
)
def test_a_seller_name_longer_than_its_column_is_a_one_line_error(
    cli: Cli, command: tuple[str, ...]
) -> None:
    result = cli(*command, "s" * 300)

    assert_clean_failure(result, "the seller name is 300 characters long; at most 200")


def test_tokens_create_prints_the_token_alone_on_its_last_line(cli: Cli) -> None:
    cli("shops", "add", "--seller", "acme", "--shop-id", "7494049642642441621", "--region", "MY")

    result = cli("tokens", "create", "--seller", "acme")

    assert result.returncode == 0, result.stderr
    token = result.stdout.splitlines()[-1]
    assert token == token.strip()
    assert token.startswith("as_")
    assert len(token) > 30


async def test_a_token_from_the_cli_works_against_the_app(cli: Cli) -> None:
    cli("shops", "add", "--seller", "acme", "--shop-id", "7494049642642441621", "--region", "MY")
    token = cli("tokens", "create", "--seller", "acme").stdout.splitlines()[-1]
    from api.app import create_app

    await db.connect(cli.database_url)
    try:
        app = create_app(load_settings(cli.env), manage_database=False, run_jobs=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cli") as client:
            response = await client.post(
                "/graphql", json={"query": SHOPS}, headers={"Authorization": f"Bearer {token}"}
            )
    finally:
        await db.close()

    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "shops": [
                {
                    "shopId": "7494049642642441621",
                    "region": "MY",
                    "name": "Shop 7494049642642441621",
                }
            ]
        }
    }


def test_tokens_are_created_named_and_expiring_listed_and_revoked(cli: Cli) -> None:
    cli("shops", "add", "--seller", "acme", "--shop-id", "7494049642642441621", "--region", "MY")

    named = cli("tokens", "create", "--seller", "acme", "--name", "erp-sync", "--expires-in", "30d")
    plain = cli("tokens", "create", "--seller", "acme")
    listed = cli("tokens", "list", "--seller", "acme")
    revoked = cli("tokens", "revoke", "1")
    again = cli("tokens", "revoke", "1")
    after = cli("tokens", "list", "--seller", "acme")

    assert named.returncode == 0, named.stderr
    token = named.stdout.splitlines()[-1]
    assert token.startswith("as_")
    in_30_days = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d")
    assert "API token 1 ('erp-sync') for seller 'acme', expires " + in_30_days in named.stdout
    assert "API token 2 for seller 'acme', expires never" in plain.stdout
    assert listed.returncode == 0, listed.stderr
    header, first, second = listed.stdout.splitlines()
    assert header.split() == ["ID", "NAME", "CREATED", "EXPIRES", "LAST", "USED", "REVOKED"]
    assert first.split()[:2] == ["1", "erp-sync"] and in_30_days in first
    assert first.split()[-2:] == ["never", "-"]  # never used, not revoked
    assert second.split()[:2] == ["2", "-"] and "never" in second
    for secret in (token, plain.stdout.splitlines()[-1], accounts.hash_token(token)):
        assert secret not in listed.stdout + after.stdout
    assert revoked.stdout.strip() == "revoked API token 1 ('erp-sync') of seller 'acme'"
    assert again.returncode == 0, again.stderr
    assert "API token 1 ('erp-sync') of seller 'acme' was already revoked" in again.stdout
    assert after.stdout.splitlines()[1].endswith(" UTC")  # its revocation time


def test_revoking_an_unknown_token_is_a_one_line_error(cli: Cli) -> None:
    cli("migrate")

    result = cli("tokens", "revoke", "42")

    assert_clean_failure(result, "no API token with id 42")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("tokens", "create", "--seller", "acme", "--expires-in", "soon"), "not a duration"),
        (("tokens", "create", "--seller", "acme", "--expires-in", "0s"), "out of range"),
        (("tokens", "revoke", "one"), "invalid int value"),
        (("serve", "--port", "99999"), "99999 is out of range: a port is 1 to 65535"),
        (("serve", "--port", "0"), "0 is out of range: a port is 1 to 65535"),
        (("serve", "--port", "http"), "'http' is not a whole number"),
    ],
)
def test_a_malformed_option_exits_2_with_the_usage(
    cli: Cli, args: tuple[str, ...], phrase: str
) -> None:
    result = cli(*args)

    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("usage: aftersales")
    assert phrase in result.stderr
    assert not (cli.cwd / "cli.sqlite3").exists()


def test_tokens_create_for_an_unknown_seller_is_a_one_line_error(cli: Cli) -> None:
    cli("migrate")

    result = cli("tokens", "create", "--seller", "ghost")

    assert_clean_failure(result, "no seller named 'ghost'", "aftersales shops add")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("url", "phrases"),
    [
        ("mysql://x", ("DATABASE_URL", "sqlite:// or postgres://", "'mysql'")),
        ("postgres://127.0.0.1:1/x", ("cannot connect to the database", "127.0.0.1:1")),
        ("postgres://user:s3cret@127.0.0.1:1/x", ("cannot connect", "user:***@127.0.0.1:1")),
        ("sqlite:///no/such/directory/x.sqlite3", ("/no/such/directory", "does not exist")),
    ],
)
@pytest.mark.parametrize("command", [("migrate",), ("tokens", "create", "--seller", "acme")])
def test_a_bad_database_url_is_a_one_line_error(
    cli: Cli, url: str, phrases: tuple[str, ...], command: tuple[str, ...]
) -> None:
    result = cli(*command, DATABASE_URL=url)

    assert_clean_failure(result, *phrases)
    assert "s3cret" not in result.stderr


def test_serve_in_production_without_secrets_refuses_naming_them(cli: Cli) -> None:
    result = cli("serve", "--port", "1", AFTERSALES_ENV="production", TIKTOK_APP_KEY="key")

    assert_clean_failure(result, "production", "TIKTOK_APP_SECRET")
    assert "TIKTOK_APP_KEY" not in result.stderr
    assert "LOGISTICS_WEBHOOK_SECRET" not in result.stderr  # no tracking feed: endpoint off


def test_serve_in_production_with_a_short_secret_refuses_naming_it(cli: Cli) -> None:
    result = cli(
        "serve",
        "--port",
        str(_free_port()),
        AFTERSALES_ENV="production",
        TIKTOK_APP_KEY="68r3u7hp5kd1g",  # an app key is a name, as short as TikTok's are
        TIKTOK_APP_SECRET="s" * 15,
        LOGISTICS_WEBHOOK_SECRET="l" * 16,
    )

    assert_clean_failure(result, "production", "shorter than 16 bytes", "TIKTOK_APP_SECRET (15")
    assert "LOGISTICS_WEBHOOK_SECRET" not in result.stderr
    assert "TIKTOK_APP_KEY" not in result.stderr
    assert result.stdout == ""


def test_serve_on_a_taken_port_fails_before_saying_or_starting_anything(cli: Cli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = cli("serve", "--host", "127.0.0.1", "--port", str(port))

    assert_clean_failure(result, f"cannot serve on 127.0.0.1:{port}", "address already in use")
    assert result.stdout == ""  # no "serving GraphQL on ...", no development secrets message
    assert not (cli.cwd / "cli.sqlite3").exists()  # no migration, so no sweep either
    assert not (cli.cwd / "aftersales.secrets").exists()


@pytest.mark.postgres
def test_cli_works_on_postgres(cli: Cli, postgres_url: str) -> None:
    on_postgres = {"DATABASE_URL": postgres_url}
    cli("migrate", **on_postgres)
    # The session's database is not emptied for CLI tests: a seller and shop of this run only.
    seller, shop_id = f"pg-cli-{uuid.uuid4().hex[:8]}", str(uuid.uuid4().int)[:19]

    added = cli(
        "shops", "add", "--seller", seller, "--shop-id", shop_id, "--region", "ID", **on_postgres
    )
    token = cli("tokens", "create", "--seller", seller, "--name", "pg", **on_postgres)
    listed = cli("tokens", "list", "--seller", seller, **on_postgres)
    token_id = listed.stdout.splitlines()[-1].split()[0]
    revoked = cli("tokens", "revoke", token_id, **on_postgres)
    again = cli("tokens", "revoke", token_id, **on_postgres)
    unknown = cli("tokens", "revoke", "2147483648", **on_postgres)
    long_name = cli("tokens", "create", "--seller", "p" * 300, **on_postgres)

    assert added.returncode == 0, added.stderr
    assert token.returncode == 0, token.stderr
    assert token.stdout.splitlines()[-1].startswith("as_")
    assert listed.stdout.splitlines()[-1].split()[1] == "pg"
    assert revoked.stdout.startswith(f"revoked API token {token_id} ('pg')")
    assert "was already revoked" in again.stdout
    assert_clean_failure(unknown, "no API token with id 2147483648")
    assert_clean_failure(long_name, "the seller name is 300 characters long")


# --- A live server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(cli: Cli) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`aftersales serve` on a free port, up and answering /health; stopped afterwards."""
    assert AFTERSALES
    port = _free_port()
    process = subprocess.Popen(
        [AFTERSALES, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(url, process)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _wait_until_healthy(url: str, process: subprocess.Popen[str]) -> None:
    wait_until_serving(process, url, what=f"{url}/health answers", seconds=STARTUP_SECONDS)


def test_a_served_app_answers_graphql_with_a_cli_token_and_stops_cleanly(
    cli: Cli, server: tuple[str, subprocess.Popen[str]]
) -> None:
    url, process = server
    cli("shops", "add", "--seller", "acme", "--shop-id", "7494049642642441621", "--region", "ID")
    token = cli("tokens", "create", "--seller", "acme").stdout.splitlines()[-1]

    response = httpx.post(
        f"{url}/graphql",
        json={"query": SHOPS},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)

    assert response.status_code == 200
    assert response.json()["data"]["shops"][0]["shopId"] == "7494049642642441621"
    output = process.stdout.read() if process.stdout else ""
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why it ended.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
    assert "development mode: generated local secrets" in output
    assert f"development mode: database {cli.database_url}\n" in output
    assert "Traceback" not in output


def test_production_serve_names_its_mode_and_database(cli: Cli) -> None:
    assert AFTERSALES
    port = _free_port()
    process = subprocess.Popen(
        [AFTERSALES, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=cli.cwd,
        env={
            **cli.env,
            "AFTERSALES_ENV": "production",
            "TIKTOK_APP_KEY": "68r3u7hp5kd1g",
            "TIKTOK_APP_SECRET": "s" * 32,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}", process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    output = process.stdout.read() if process.stdout else ""

    assert f"production mode: database {cli.database_url}\n" in output  # masked: describe()
