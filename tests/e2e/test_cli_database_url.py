"""Bad `DATABASE_URL`s are one `error:` line each, with the password masked wherever it is, and
the process always exits; libpq's `?sslmode=` and `?connect_timeout=` work as providers give
them; two processes migrating one new PostgreSQL database at once take turns."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from aftersales.store import urls
from tests.e2e.test_cli import AFTERSALES, CLEARED, Cli, assert_clean_failure

pytestmark = pytest.mark.live  # each test runs `aftersales` as a process


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    return Cli(cwd=tmp_path, env=env)


@pytest.mark.parametrize(
    ("url", "phrases"),
    [
        ("postgres://u:s3cr3t@127.0.0.1:notaport/x", ("malformed", "u:***@")),
        ("postgres://u:s3cr3t@[::1/x", ("malformed", "Invalid IPv6 URL")),
        ("postgres://u@127.0.0.1:1/x?bogus_option=1", ("unknown option ?bogus_option=",)),
        ("postgres://u@127.0.0.1:1/x?sslmode=sometimes", ("sslmode must be one of",)),
        ("postgres://u@127.0.0.1:1/x?connect_timeout=soon", ("connect_timeout",)),
        ("postgres://127.0.0.1:1/x?password=s3cr3t", ("cannot connect", "?password=***")),
        ("sqlite://", ("names no file",)),
    ],
)
def test_a_bad_database_url_is_one_line_without_the_password(
    cli: Cli, url: str, phrases: tuple[str, ...]
) -> None:
    result = cli("migrate", DATABASE_URL=url)

    assert_clean_failure(result, *phrases)
    assert "s3cr3t" not in result.stderr + result.stdout


@pytest.mark.parametrize("command", [("migrate",), ("tokens", "list", "--seller", "a")])
def test_a_file_that_is_not_a_sqlite_database_is_one_line_and_the_process_exits(
    cli: Cli, command: tuple[str, ...]
) -> None:
    (cli.cwd / "notadb.sqlite3").write_text("not a database\n" * 100)
    assert AFTERSALES

    # Before the fix aiosqlite's thread kept the process alive forever: `timeout` would fire.
    result = subprocess.run(
        [AFTERSALES, *command],
        cwd=cli.cwd,
        env={**cli.env, "DATABASE_URL": "sqlite://notadb.sqlite3"},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )

    assert_clean_failure(result, "file is not a database")


def test_the_password_is_masked_in_both_places() -> None:
    described = urls.describe("postgres://u:pw1@h:5432/db?sslmode=require&password=pw2")

    assert described == "postgres://u:***@h:5432/db?sslmode=require&password=***"


def test_libpq_options_become_asyncpg_options() -> None:
    plain, extra = urls.for_postgres("postgres://u@h/db?sslmode=require&connect_timeout=5&x=1")

    assert extra == {"ssl": "require", "timeout": 5}
    assert plain == "postgres://u@h/db?x=1"


def _with_database(url: str, name: str, query: str = "") -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}", query=query))


@pytest.fixture
def fresh_database(postgres_url: str) -> Iterator[str]:
    name = f"cli_fresh_{uuid.uuid4().hex[:8]}"
    admin = _with_database(postgres_url, "postgres")

    async def run(statement: str) -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run(f"CREATE DATABASE {name}"))
    try:
        yield _with_database(postgres_url, name)
    finally:
        asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.mark.postgres
def test_a_missing_postgres_database_says_how_to_create_it(cli: Cli, postgres_url: str) -> None:
    result = cli("migrate", DATABASE_URL=_with_database(postgres_url, "cli_no_such_database"))

    assert_clean_failure(
        result, "database cli_no_such_database does not exist", "createdb cli_no_such_database"
    )


@pytest.mark.postgres
def test_sslmode_and_connect_timeout_are_accepted_as_providers_give_them(
    cli: Cli, fresh_database: str
) -> None:
    url = fresh_database + "?sslmode=prefer&connect_timeout=10"

    migrated = cli("migrate", DATABASE_URL=url)
    listed = cli("shops", "list", DATABASE_URL=url)

    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.startswith("created the database schema")
    assert listed.returncode == 0, listed.stderr


@pytest.mark.postgres
def test_two_migrations_at_once_take_turns(cli: Cli, fresh_database: str) -> None:
    assert AFTERSALES
    env = {**cli.env, "DATABASE_URL": fresh_database}
    both = [
        subprocess.Popen(
            [AFTERSALES, "migrate"],
            cwd=cli.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]

    outputs = [process.communicate(timeout=120) for process in both]

    assert [process.returncode for process in both] == [0, 0], outputs
    said = sorted(out.strip() for out, _ in outputs)
    assert said[0].startswith("created the database schema"), said
    assert said[1] == "database schema is already up to date", said


def test_passwords_are_found_in_both_places_and_a_malformed_url_has_none() -> None:
    assert urls.passwords("postgres://u:pw1@h/db?password=pw2") == ["pw1", "pw2"]
    assert urls.passwords("postgres://u@[::1/db") == []
