"""Shared fixtures: a real database (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set),
a fixed clock, and the ASGI app behind an httpx client.

Tests run on both backends (`backend`, parametrized). Without TEST_POSTGRES_URL the PostgreSQL
half is deselected and the run says so in one line; set but unreachable is a failure, never a
skip.

Tests that start processes of their own (a server, the CLI, a browser, node) are marked `live`;
`make test-fast` leaves them out (`pytest -m "not live"`), `make test` runs everything.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from aftersales.settings import Settings, load_settings
from aftersales.store import db
from tests.support.clock import Clock
from tests.support.http import AppClient
from tests.support.live import live_server  # noqa: F401  (a fixture: a real `aftersales serve`)

# Fixtures that start a real server process: every test using one is marked `live`.
LIVE_FIXTURES = frozenset({"live_server"})
PG_URL = os.environ.get("TEST_POSTGRES_URL", "").strip()
_POSTGRES_DESELECTED = pytest.StashKey[int]()
BACKENDS = ["sqlite", "postgres"]
TABLES = (
    "history_entry, note, after_sale_item, stock_movement, inventory_level, idempotent_result,"
    " after_sale, warehouse, webhook_delivery, api_token, shop, oauth_state, seller, job_run,"
    " install, after_sale_tag, triage_rule"
)


def _needs_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("backend") == "postgres":
        return True
    return item.get_closest_marker("postgres") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        # A test served by a real `aftersales serve` is live without saying so; the others that
        # start processes of their own carry `pytest.mark.live` themselves.
        if LIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)
    if PG_URL:
        return
    postgres = [item for item in items if _needs_postgres(item)]
    if postgres:
        items[:] = [item for item in items if not _needs_postgres(item)]
        config.hook.pytest_deselected(items=postgres)
    config.stash[_POSTGRES_DESELECTED] = len(postgres)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    count = terminalreporter.config.stash.get(_POSTGRES_DESELECTED, 0)
    if count:
        terminalreporter.write_line(
            f"PostgreSQL half not run: {count} tests deselected because TEST_POSTGRES_URL is not"
            " set (point it at an empty database to run them)"
        )


def _migrate_once(url: str) -> None:
    async def run() -> None:
        await db.migrate(url)
        await db.close()

    # Session fixtures may be resolved from inside a running test loop: migrate in a thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _migrate_once(f"sqlite://{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    if not PG_URL:
        pytest.skip("TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    try:
        _migrate_once(PG_URL)
    except Exception as exc:  # set but unreachable: fail loudly
        pytest.fail(f"TEST_POSTGRES_URL is set but PostgreSQL is unusable: {exc}")
    return PG_URL


def database_url_for(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    template: Path = request.getfixturevalue("sqlite_template")
    target = tmp_path / "test.sqlite3"
    shutil.copy(template, target)
    return f"sqlite://{target}"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> AsyncIterator[str]:
    """A connected, migrated, empty database; yields its URL."""
    url = database_url_for(request, backend, tmp_path)
    await db.connect(url)
    if backend == "postgres":
        from tortoise import connections

        await connections.get("default").execute_script(
            f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"
        )
    try:
        yield url
    finally:
        await db.close()


@pytest.fixture(autouse=True)
def processes_only_in_live_tests(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keeps the `live` marker true: a test without it that starts a process fails, naming the
    marker, so `make test-fast` stays free of processes."""
    if request.node.get_closest_marker("live") is not None:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(
            f"{request.node.nodeid} starts a process: mark it pytest.mark.live"
            " (or use the live_server fixture)"
        )

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(database: str) -> Settings:
    base = load_settings(
        {
            "DATABASE_URL": database,
            "TIKTOK_APP_KEY": "test-app-key",
            "TIKTOK_APP_SECRET": "test-app-secret",
            "LOGISTICS_WEBHOOK_SECRET": "test-logistics-secret",
        }
    )
    return base


@pytest.fixture
async def app(settings: Settings, clock: Clock) -> AsyncIterator[AppClient]:
    from api.app import create_app

    asgi = create_app(settings, clock=clock.now, manage_database=False, run_jobs=False)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield AppClient(client=client, settings=settings, clock=clock)


@pytest.fixture
def isolated_cwd(tmp_path: Path) -> Iterator[Path]:
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)
