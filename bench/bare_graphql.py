"""The bare baseline of the list page: Starlette and asyncpg, no GraphQL, no ORM.

POST /graphql with the bench's one operation (bench/lua/list.lua): the bearer token checked,
then the same SQL the service runs for the page (count, page, lines, history) and the same JSON
out, `availableActions` computed by the same rule (aftersales.domain.rules). It reads only the
operation's variables; anything else about the request is ignored. Run by the bench:
`python -m bench.bare_graphql --port N` with DATABASE_URL set.
"""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from typing import Any

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aftersales.domain.model import (
    AfterSaleStatus,
    AfterSaleType,
    DisputeStatus,
    ReturnStatus,
    Sale,
)
from aftersales.domain.rules import available_actions
from bench.serving import Bare

TOKEN = """
SELECT t.seller_id FROM api_token AS t
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
"""
COLUMNS = """a.id, a.return_id, a.order_id, a.type, a.status, a.return_status, a.currency,
a.refund_requested, a.refund_amount, a.partial_refund_offer, a.tracking_number, a.carrier,
a.reason, a.dispute_status, a.seller_response_deadline, a.created_at, a.updated_at, s.region"""
FROM = "FROM after_sale AS a JOIN shop AS s ON s.id = a.shop_id WHERE s.seller_id = $1"
FILTERS = " AND s.shop_id = $2 AND a.type = $3 AND a.status = $4"
ORDER = " ORDER BY a.created_at DESC, a.id DESC LIMIT {limit}"
ITEMS = """SELECT after_sale_id, sku, product_name, quantity, unit_refund FROM after_sale_item
WHERE after_sale_id = ANY($1::int[]) ORDER BY id"""
HISTORY = """SELECT after_sale_id, at, actor, action, from_status, to_status, source
FROM history_entry WHERE after_sale_id = ANY($1::int[]) ORDER BY at, id"""


def _money(amount: Any, currency: str | None) -> dict[str, str] | None:
    return None if amount is None else {"amount": str(amount), "currency": currency or ""}


def _actions(r: asyncpg.Record) -> list[str]:
    sale = Sale(
        type=AfterSaleType(r["type"]),
        status=None if r["status"] is None else AfterSaleStatus(r["status"]),
        return_status=ReturnStatus(r["return_status"]),
        region=r["region"],
        currency=r["currency"],
        refund_requested=r["refund_requested"],
        partial_refund_offer=r["partial_refund_offer"],
        tracking_number=r["tracking_number"],
        dispute_status=DisputeStatus(r["dispute_status"]),
        refund_amount=r["refund_amount"],
        reason=r["reason"],
        carrier=r["carrier"],
        seller_response_deadline=r["seller_response_deadline"],
        created_at=r["created_at"],
    )
    return [a.name for a in available_actions(sale)]


def _unauthorized() -> Response:
    body = {"errors": [{"message": "unauthenticated", "extensions": {"code": "UNAUTHENTICATED"}}]}
    return Response(orjson.dumps(body), status_code=401, media_type="application/json")


async def graphql(request: Request) -> Response:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    variables = orjson.loads(await request.body()).get("variables") or {}
    first = int(variables.get("first", 20))
    filtered = variables.get("shopId") is not None
    async with BARE.pool.acquire() as conn:
        seller_id = await conn.fetchval(TOKEN, hashlib.sha256(token.strip().encode()).hexdigest())
        if scheme.lower() != "bearer" or seller_id is None:
            return _unauthorized()
        where = FROM + (FILTERS if filtered else "")
        args: list[Any] = [seller_id]
        if filtered:
            args += [variables["shopId"], variables["type"], variables["status"]]
        total = await conn.fetchval(f"SELECT count(*) {where}", *args)
        found = await conn.fetch(f"SELECT {COLUMNS} {where}{ORDER.format(limit=first + 1)}", *args)
        page = found[:first]
        ids = [r["id"] for r in page]
        items: dict[int, list[dict[str, Any]]] = defaultdict(list)
        history: dict[int, list[dict[str, Any]]] = defaultdict(list)
        currency = {r["id"]: r["currency"] for r in page}
        for i in await conn.fetch(ITEMS, ids):
            items[i["after_sale_id"]].append(
                {
                    "sku": i["sku"],
                    "productName": i["product_name"],
                    "quantity": i["quantity"],
                    "unitRefund": _money(i["unit_refund"], currency[i["after_sale_id"]]),
                }
            )
        for h in await conn.fetch(HISTORY, ids):
            history[h["after_sale_id"]].append(
                {
                    "at": h["at"],
                    "actor": h["actor"],
                    "action": h["action"],
                    "fromStatus": h["from_status"],
                    "toStatus": h["to_status"],
                    "source": h["source"],
                }
            )
    edges = []
    for r in page:
        cursor = base64.urlsafe_b64encode(
            f"{r['created_at'].isoformat()}|{r['id']}".encode()
        ).decode()
        abnormal = r["type"] == "ABNORMAL_RETURN"
        edges.append(
            {
                "cursor": cursor,
                "node": {
                    "id": str(r["id"]),
                    "returnId": r["return_id"],
                    "orderId": r["order_id"],
                    "type": r["type"],
                    "status": None if abnormal else r["status"],
                    "returnStatus": r["return_status"],
                    "refundRequested": _money(r["refund_requested"], r["currency"]),
                    "refundAmount": _money(r["refund_amount"], r["currency"]),
                    "trackingNumber": r["tracking_number"],
                    "sellerResponseDeadline": r["seller_response_deadline"],
                    "createdAt": r["created_at"],
                    "updatedAt": r["updated_at"],
                    "availableActions": _actions(r),
                    "items": items.get(r["id"], []),
                    "history": history.get(r["id"], []),
                },
            }
        )
    data = {
        "afterSales": {
            "totalCount": total,
            "pageInfo": {
                "hasNextPage": len(found) > first,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
            "edges": edges,
        }
    }
    return Response(orjson.dumps({"data": data}), media_type="application/json")


BARE = Bare(Route("/graphql", graphql, methods=["POST"]))

if __name__ == "__main__":
    BARE.main(__doc__)
