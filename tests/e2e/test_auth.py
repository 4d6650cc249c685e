"""Bearer tokens (docs/graphql.md): who may call, what each token sees and changes, how tokens
are kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tortoise import connections

from aftersales.commands import accounts
from aftersales.store.accounts import TokenRecord
from tests.support.builders import make_sale, make_seller
from tests.support.http import AppClient

SHOPS = "query { shops { shopId } }"
LIST = "query { afterSales { totalCount edges { node { id } } } }"
ACCEPT = """
mutation Accept($id: ID!) {
  acceptReturn(input: {id: $id}) { afterSale { status } userErrors { code } }
}
"""
STATUS = "query One($id: ID!) { afterSale(id: $id) { status } }"


async def _post(app: AppClient, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    response = await app.client.post("/graphql", json={"query": SHOPS}, headers=headers)
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("headers", "hint"),
    [
        ({}, "missing Authorization header"),
        ({"Authorization": ""}, "missing Authorization header"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "must be 'Bearer <token>'"),
        ({"Authorization": "Bearer"}, "must be 'Bearer <token>'"),
        ({"Authorization": "Bearer    "}, "must be 'Bearer <token>'"),
        ({"Authorization": "Bearer as_not-a-real-token"}, "unknown, expired or revoked token"),
        ({"Authorization": "Bearer something-else"}, "unknown, expired or revoked token"),
    ],
)
async def test_a_request_without_a_valid_token_is_refused_with_a_clear_401(
    app: AppClient, headers: dict[str, str], hint: str
) -> None:
    await make_seller()

    status, body = await _post(app, headers)

    assert status == 401
    [error] = body["errors"]  # type: ignore[misc]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert hint in error["message"]
    assert "data" not in body


@pytest.mark.parametrize(
    "authorization", [None, "Basic dXNlcjpwYXNz", "Bearer as_not-a-real-token"]
)
async def test_every_route_refuses_a_bad_token_with_the_same_401(
    app: AppClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    answers = [
        await app.client.post("/graphql", json={"query": SHOPS}, headers=headers),
        await app.client.get("/graphql", params={"query": SHOPS}, headers=headers),
        await app.client.get("/labels/1.pdf", headers=headers),
    ]

    assert [a.status_code for a in answers] == [401, 401, 401]
    assert [a.headers["www-authenticate"] for a in answers] == ["Bearer"] * 3
    first = answers[0].json()
    assert first["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    assert [a.json() for a in answers] == [first] * 3


async def test_a_401_tells_the_client_to_use_a_bearer_token(app: AppClient) -> None:
    response = await app.client.post("/graphql", json={"query": SHOPS})

    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/json"


async def test_the_scheme_is_case_insensitive(app: AppClient) -> None:
    seller = await make_seller()

    status, body = await _post(app, {"Authorization": f"bearer {seller.token}"})

    assert status == 200
    assert body == {"data": {"shops": [{"shopId": seller.shop_id}]}}


async def test_a_token_sees_only_its_sellers_after_sales(app: AppClient) -> None:
    mine, theirs = await make_seller(), await make_seller()
    my_sale = await make_sale(mine)
    their_sale = await make_sale(theirs)

    data = await app.gql(LIST, token=mine.token)
    peek = await app.gql(STATUS, {"id": str(their_sale)}, token=mine.token)

    assert data["afterSales"]["totalCount"] == 1
    assert data["afterSales"]["edges"] == [{"node": {"id": str(my_sale)}}]
    assert peek["afterSale"] is None


async def test_a_token_changes_only_its_sellers_after_sales(app: AppClient) -> None:
    mine, theirs = await make_seller(), await make_seller()
    their_sale = await make_sale(theirs)

    data = await app.gql(ACCEPT, {"id": str(their_sale)}, token=mine.token)

    assert data["acceptReturn"] == {"afterSale": None, "userErrors": [{"code": "NOT_FOUND"}]}
    status = await app.gql(STATUS, {"id": str(their_sale)}, token=theirs.token)
    assert status["afterSale"]["status"] == "PENDING_REQUEST"


async def test_tokens_are_stored_hashed(app: AppClient) -> None:
    seller = await make_seller()

    rows = await connections.get("default").execute_query_dict("SELECT * FROM api_token")

    stored = " ".join(str(value) for row in rows for value in row.values())
    assert rows
    assert seller.token not in stored
    assert seller.token.removeprefix("as_") not in stored


async def test_an_expired_token_is_refused_with_a_clear_401(app: AppClient) -> None:
    seller = await make_seller()
    now = datetime.now(UTC)  # tokens expire in real time, whatever clock the app's rules use
    live = await accounts.issue_token(seller.name, expires_at=now + timedelta(hours=1))
    expired = await accounts.issue_token(seller.name, expires_at=now - timedelta(seconds=1))

    ok, _ = await _post(app, {"Authorization": f"Bearer {live.token}"})
    status, body = await _post(app, {"Authorization": f"Bearer {expired.token}"})

    assert ok == 200
    assert status == 401
    [error] = body["errors"]  # type: ignore[misc]
    assert "unknown, expired or revoked token" in error["message"]


async def test_a_revoked_token_is_refused_from_the_next_request_on(app: AppClient) -> None:
    seller = await make_seller()
    new = await accounts.issue_token(seller.name)
    headers = {"Authorization": f"Bearer {new.token}"}
    before, _ = await _post(app, headers)

    await accounts.revoke_token(new.record.id, now=datetime.now(UTC))
    after, _ = await _post(app, headers)

    assert (before, after) == (200, 401)
    other, _ = await _post(app, {"Authorization": f"Bearer {seller.token}"})
    assert other == 200  # the seller's other tokens still work


async def test_requests_record_the_tokens_last_use_without_writing_each_time(
    app: AppClient,
) -> None:
    seller = await make_seller()
    new = await accounts.issue_token(seller.name)
    headers = {"Authorization": f"Bearer {new.token}"}

    async def listed() -> TokenRecord:
        [token] = [t for t in await accounts.list_tokens(seller.name) if t.id == new.record.id]
        return token

    await _post(app, headers)
    first = await listed()
    for _ in range(3):
        await _post(app, headers)
    later = await listed()

    assert first.last_used_at is not None
    assert datetime.now(UTC) - first.last_used_at < timedelta(minutes=1)
    assert later.last_used_at == first.last_used_at  # within the minute: not written again
