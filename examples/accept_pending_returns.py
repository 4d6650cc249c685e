"""Accept every pending return of your shops, in bulk: a small model client of the GraphQL API.

    AFTERSALES_TOKEN=as_... .venv/bin/python examples/accept_pending_returns.py [--dry-run]

AFTERSALES_URL is the service (default http://127.0.0.1:8000); AFTERSALES_TOKEN an API token
(`aftersales tokens create --seller NAME`). Exit status: 0 when it ran, even if some returns were
refused (each refusal is printed with its code); 1 when the service could not be used (token
refused, unreachable, a failed or refused request); 2 for a usage error (no token). Add
`--shop-id ID` to handle one shop only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
PAGE_SIZE = 100  # the API's largest `first`
BULK_SIZE = 100  # the API's most ids per bulk call
RETRY_DELAYS = (0.2, 0.5, 1.0)  # seconds to wait before each retry of ids refused with CONFLICT

# Operations are constants; every value travels in `variables`, never in the query text.
PENDING_RETURNS = """
query PendingReturns($shopId: String, $first: Int!, $after: String) {
  afterSales(type: RETURN_AND_REFUND, status: PENDING_REQUEST, shopId: $shopId,
             first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id } }
  }
}
"""

ACCEPT_RETURNS = """
mutation AcceptReturns($ids: [ID!]!) {
  acceptReturnBulk(input: {ids: $ids}) {
    results { id userErrors { code message } }
    userErrors { code field message }
  }
}
"""


class ServiceError(Exception):
    """The service could not be used: token refused, unreachable, failed or refused the call."""


@dataclass
class Summary:
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # error code -> ids refused with it
    retried: set[str] = field(default_factory=set)  # ids retried after CONFLICT


def graphql(client: httpx.Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The `data` of one operation, or ServiceError saying what went wrong."""
    try:
        response = client.post("/graphql", json={"query": query, "variables": variables})
    except httpx.TransportError as exc:
        raise ServiceError(f"cannot reach {client.base_url}: {exc}") from exc
    if response.status_code == 401:
        raise ServiceError(f"the token was refused (HTTP 401): {_messages(response)}")
    if response.status_code == 413:
        raise ServiceError("the request is too large (HTTP 413): send fewer ids per call")
    if response.status_code >= 500:
        # Safe to run again: accepted returns are no longer pending, so they are not resent.
        raise ServiceError(f"the service failed (HTTP {response.status_code}); try again later")
    if response.status_code != 200:
        raise ServiceError(f"HTTP {response.status_code}: {_messages(response)}")
    body = response.json()
    if body.get("errors"):  # the request itself is wrong (schema, limits, a bad cursor): a bug
        raise ServiceError(f"the service refused the request: {_messages(response)}")
    data: dict[str, Any] = body["data"]
    return data


def _messages(response: httpx.Response) -> str:
    try:
        return "; ".join(error["message"] for error in response.json()["errors"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def pending_return_ids(client: httpx.Client, shop_id: str | None) -> list[str]:
    """Every pending return's id, page by page, following `endCursor` while `hasNextPage`."""
    ids: list[str] = []
    after: str | None = None
    while True:
        variables = {"shopId": shop_id, "first": PAGE_SIZE, "after": after}
        page = graphql(client, PENDING_RETURNS, variables)["afterSales"]
        ids += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def accept_returns(
    client: httpx.Client,
    ids: Sequence[str],
    summary: Summary,
    delays: Sequence[float] = RETRY_DELAYS,
) -> None:
    """Accept `ids` in bulk calls of at most BULK_SIZE, retrying the ids refused only with
    CONFLICT (the after-sale changed while it was being accepted) after a short wait. Every
    other refusal is final: it is printed and counted in `summary`."""
    for start in range(0, len(ids), BULK_SIZE):
        todo = list(ids[start : start + BULK_SIZE])
        for delay in (*delays, None):  # None: the last attempt, nothing is retried after it
            payload = graphql(client, ACCEPT_RETURNS, {"ids": todo})["acceptReturnBulk"]
            if payload["userErrors"]:  # the call as a whole was refused; nothing was applied
                raise ServiceError("; ".join(e["message"] for e in payload["userErrors"]))
            conflicts = []
            for result in payload["results"]:
                errors = result["userErrors"]
                if not errors:
                    summary.accepted += 1
                elif delay is not None and {e["code"] for e in errors} == {"CONFLICT"}:
                    conflicts.append(result["id"])
                else:
                    for error in errors:
                        print(f"refused {result['id']}: {error['code']}: {error['message']}")
                    summary.refused[errors[0]["code"]] += 1
            if not conflicts or delay is None:
                break
            # The service already re-reads and retries a lost race a few times; a CONFLICT
            # means the after-sale kept changing, so wait, then try again from its new state.
            summary.retried.update(conflicts)
            time.sleep(delay)
            todo = conflicts


def print_summary(found: int, summary: Summary) -> None:
    refused = sum(summary.refused.values())
    by_code = ", ".join(f"{code} {n}" for code, n in sorted(summary.refused.items()))
    print(f"pending returns found: {found}")
    print(f"accepted: {summary.accepted}")
    print(f"refused: {refused}" + (f" ({by_code})" if by_code else ""))
    print(f"retried after CONFLICT: {len(summary.retried)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Accept every pending return, in bulk.")
    parser.add_argument("--shop-id", help="only this shop (TikTok's shop_id)")
    parser.add_argument("--dry-run", action="store_true", help="list the returns, accept none")
    args = parser.parse_args(argv)
    token = os.environ.get("AFTERSALES_TOKEN", "").strip()
    if not token:
        print(
            "error: set AFTERSALES_TOKEN to an API token"
            " (create one with `aftersales tokens create --seller NAME`)",
            file=sys.stderr,
        )
        return 2
    url = os.environ.get("AFTERSALES_URL", DEFAULT_URL).rstrip("/")
    headers = {"Authorization": f"Bearer {token}"}
    ids: list[str] = []
    summary = Summary()
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        try:
            # Collect every id first, then accept. Accepting moves a return out of
            # PENDING_REQUEST, i.e. out of the very list being paged: paging and accepting in
            # turn would depend on how the cursor copes with rows leaving the list (an offset
            # would skip some). A fixed list also gives an exact summary. Returns that arrive
            # meanwhile are left for the next run.
            ids = pending_return_ids(client, args.shop_id)
            if args.dry_run:
                print(f"pending returns found: {len(ids)} (dry run: none accepted)")
                return 0
            accept_returns(client, ids, summary)
        except ServiceError as exc:
            print(f"error: {exc}", file=sys.stderr)
            if summary.accepted or summary.refused:
                print_summary(len(ids), summary)
            return 1
    print_summary(len(ids), summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
