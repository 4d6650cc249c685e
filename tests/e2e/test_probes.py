"""GET /healthz and GET /readyz: an orchestrator restarts a process that is down, and holds
traffic back from one whose database is unreachable or not fully migrated.

/readyz runs on SQLite and on PostgreSQL (the `app` fixture's `backend`); the unreachable and
never-migrated databases are made here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise, connections

from aftersales.settings import load_settings
from aftersales.store import db, readiness
from api.app import create_app
from tests.support.http import AppClient
from tests.support.live import free_port


@contextlib.asynccontextmanager
async def client_for(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app over a database the test has connected itself (not the `database` fixture's)."""
    settings = load_settings({"DATABASE_URL": database_url})
    asgi = create_app(settings, manage_database=False, run_jobs=False)
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_healthz_says_ok_without_touching_the_database(app: AppClient) -> None:
    await db.close()  # no database at all from here on

    healthz = await app.client.get("/healthz")
    health = await app.client.get("/health")
    readyz = await app.client.get("/readyz")

    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert readyz.status_code == 503


async def test_readyz_is_ready_when_the_database_answers_and_every_migration_is_applied(
    app: AppClient,
) -> None:
    response = await app.client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "problem": None,
        "database": "ok",
        "migrations": {"applied": list(readiness.shipped_migrations()), "pending": []},
    }


async def test_readyz_answers_503_naming_a_migration_that_is_not_applied(
    app: AppClient, backend: str
) -> None:
    latest = readiness.shipped_migrations()[-1]
    conn = connections.get("default")
    mark = "$1" if backend == "postgres" else "?"
    _, rows = await conn.execute_query(
        f"SELECT applied_at FROM tortoise_migrations WHERE app = 'models' AND name = {mark}",
        [latest],
    )
    await conn.execute_query(
        f"DELETE FROM tortoise_migrations WHERE app = 'models' AND name = {mark}", [latest]
    )
    try:
        response = await app.client.get("/readyz")
    finally:  # the PostgreSQL test database is shared by the whole run: put the record back
        applied_at = rows[0]["applied_at"] if rows else datetime.now(UTC)
        marks = "$1, $2, $3" if backend == "postgres" else "?, ?, ?"
        await conn.execute_query(
            f"INSERT INTO tortoise_migrations (app, name, applied_at) VALUES ({marks})",
            ["models", latest, applied_at],
        )

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["database"] == "ok"
    assert body["migrations"]["pending"] == [latest]
    assert latest in body["problem"]
    assert "aftersales migrate" in body["problem"]


async def test_readyz_answers_503_when_the_database_was_never_migrated(tmp_path: Path) -> None:
    await db.connect(f"sqlite://{tmp_path / 'empty.sqlite3'}")
    try:
        async with client_for(f"sqlite://{tmp_path / 'empty.sqlite3'}") as client:
            response = await client.get("/readyz")
    finally:
        await db.close()

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["problem"] == "the schema was never migrated: run `aftersales migrate`"
    assert body["migrations"] == {
        "applied": [],
        "pending": list(readiness.shipped_migrations()),
    }


async def test_readyz_answers_503_when_the_database_cannot_be_reached() -> None:
    url = f"postgres://aftersales@127.0.0.1:{free_port()}/aftersales"  # nothing listens there
    # Connections open lazily: the app starts, and the first query finds nothing listening.
    await Tortoise.init(config=db.tortoise_config(url), _enable_global_fallback=True)
    try:
        async with client_for(url) as client:
            readyz = await client.get("/readyz")
            healthz = await client.get("/healthz")
    finally:
        await db.close()

    assert readyz.status_code == 503
    body = readyz.json()
    assert body["status"] == "not_ready"
    assert body["database"] == "unreachable"
    assert body["problem"] == "cannot reach the database (the service's log has the details)"
    assert "127.0.0.1" not in readyz.text  # the driver's words, with host and port, are logged
    assert healthz.status_code == 200


async def test_readyz_answers_503_in_time_when_the_database_does_not_answer(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hangs(*args: object) -> set[str]:
        await asyncio.Event().wait()  # a lock or a network partition: the query never returns
        raise AssertionError("unreachable")

    monkeypatch.setattr(readiness, "_applied", hangs)
    monkeypatch.setattr(readiness, "DEFAULT_TIMEOUT_SECONDS", 0.2)

    response = await asyncio.wait_for(app.client.get("/readyz"), 5)

    assert response.status_code == 503
    assert response.json()["problem"] == "the database did not answer within 0.2 s"
    assert response.json()["database"] == "unreachable"
