"""SQL statements per request, counted in-process: every statement Tortoise sends is logged at
DEBUG on `tortoise.db_client`; a handler counts them while one request runs through the app
(over an ASGI transport, against the bench's database). Transaction control (BEGIN, SAVEPOINT,
RELEASE, COMMIT) is not logged there and not counted."""

from __future__ import annotations

import httpx

from aftersales.settings import load_settings
from aftersales.store import db
from bench.load import page_body
from bench.procs import service_env
from tests.perf.counting import statements as counting  # the same counter the tests use


async def per_request(url: str, token: str, webhook_line: str) -> dict[str, int]:
    """Statements for a list page of 5 and of 50, and for one new webhook delivery (a line of
    a bodies file: signature TAB body)."""
    from api.app import create_app

    signature, _, body = webhook_line.rstrip("\n").partition("\t")

    settings = load_settings(service_env(url))
    await db.connect(url)
    try:
        app = create_app(settings, manage_database=False, run_jobs=False)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        counts: dict[str, int] = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await client.post("/graphql", content=page_body(50), headers=headers)  # warm
            for first in (5, 50):
                with counting() as statements:
                    r = await client.post("/graphql", content=page_body(first), headers=headers)
                assert r.status_code == 200 and "errors" not in r.json(), r.text[:300]
                counts[f"list_{first}"] = len(statements)
            with counting() as statements:
                r = await client.post(
                    "/webhooks/tiktok",
                    content=body.encode(),
                    headers={"Authorization": signature, "Content-Type": "application/json"},
                )
            assert r.status_code == 200, r.text
            counts["webhook"] = len(statements)
        return counts
    finally:
        await db.close()
