"""The ASGI app behind an httpx client, and GraphQL callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from aftersales.settings import Settings


@dataclass
class AppClient:
    client: httpx.AsyncClient
    settings: Settings
    clock: Any
    last: dict[str, Any] = field(default_factory=dict)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None
    ) -> dict[str, Any]:
        """The `data` of a successful operation (fails the test on any top-level error)."""
        response = await post_graphql(self, query, variables, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        self.last = body
        return body["data"]  # type: ignore[no-any-return]


async def post_graphql(
    app: AppClient, query: str, variables: dict[str, Any] | None = None, *, token: str | None
) -> httpx.Response:
    """The raw HTTP response, for tests about errors (AppClient.gql asserts there are none)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await app.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


def error_messages(response: httpx.Response) -> list[str]:
    body = response.json()
    return [error["message"] for error in body.get("errors", [])]


def assert_no_stack_trace(response: httpx.Response) -> None:
    assert "Traceback" not in response.text
    for error in response.json().get("errors", []):
        assert "stacktrace" not in (error.get("extensions") or {})
