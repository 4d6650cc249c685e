"""The bare baseline of a TikTok webhook: Starlette and asyncpg, no ORM, no inbox.

POST /webhooks/tiktok: the same HMAC checked (TikTok's `Authorization`), the JSON parsed, then in
one transaction the delivery logged (its key unique: a repeat changes nothing), the after-sale
created with its lines and its history entry. It handles what the bench sends (a new return
with its lines) and answers 200 once committed. Run by the bench:
`python -m bench.bare_webhook --port N` with DATABASE_URL, TIKTOK_APP_KEY and TIKTOK_APP_SECRET.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aftersales.domain.rules import seller_response_deadline
from aftersales.domain.tiktok import PLATFORM_STATUSES, PLATFORM_TYPES
from bench.serving import Bare

DELIVERY = """
INSERT INTO webhook_delivery (source, dedupe_key, event_type, shop_id, received_at, headers, body,
    outcome, processed_at)
VALUES ('tiktok', $1, $2, $3, $4, $5, $6, 'created', $4)
ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id
"""
SALE = """
INSERT INTO after_sale (shop_id, return_id, order_id, type, status, return_status, platform_status,
    reason, currency, refund_requested, seller_response_deadline, dispute_status, last_event_at,
    sync_status, sync_attempts, version, created_at, updated_at)
SELECT id, $2, $3, $4, $5, 'OTHER', $6, $7, $8, $9, $10, 'NONE', $11, 'LOCAL_ONLY', 0, 1, $12, $13
FROM shop WHERE shop_id = $1
RETURNING id
"""
ITEMS = """
INSERT INTO after_sale_item (after_sale_id, sku, product_name, quantity, unit_refund)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::numeric[])
"""
HISTORY = """
INSERT INTO history_entry (after_sale_id, at, actor, action, from_status, to_status, source, detail)
VALUES ($1, $2, 'BUYER', 'PLATFORM_STATUS_REPORTED', NULL, $3, 'TIKTOK_WEBHOOK', $4)
"""

KEY = os.environ.get("TIKTOK_APP_KEY", "").encode()
SECRET = os.environ.get("TIKTOK_APP_SECRET", "").encode()


async def tiktok(request: Request) -> Response:
    body = await request.body()
    expected = hmac.new(SECRET, KEY + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("authorization", "")):
        return Response(status_code=401)
    note = orjson.loads(body)
    data = note["data"]
    now = datetime.now(UTC)
    created = datetime.fromtimestamp(data["create_time"], UTC)
    updated = datetime.fromtimestamp(data["update_time"], UTC)
    type_ = PLATFORM_TYPES[data["return_type"].upper()]
    status = PLATFORM_STATUSES[data["return_status"].upper()]
    lines: Counter[tuple[str, str | None, str | None]] = Counter(
        (line["seller_sku"], line.get("product_name"), line["refund_amount"]["refund_total"])
        for line in data.get("return_line_items") or ()
    )
    headers = {k: request.headers[k] for k in ("content-type", "authorization")}
    async with BARE.pool.acquire() as conn, conn.transaction():
        logged = await conn.fetchval(
            DELIVERY,
            note["tts_notification_id"],
            str(note["type"]),
            note["shop_id"],
            now,
            orjson.dumps(headers).decode(),
            body.decode(),
        )
        if logged is None:
            return Response(status_code=200)  # a repeat: logged already
        sale_id = await conn.fetchval(
            SALE,
            note["shop_id"],
            data["return_id"],
            data["order_id"],
            type_.value,
            status.value if status else "PENDING_REQUEST",
            data["return_status"],
            data.get("return_reason_text"),
            data["refund_amount"]["currency"],
            Decimal(data["refund_amount"]["refund_total"]),
            seller_response_deadline(type_, created),
            updated,
            created,
            now,
        )
        await conn.execute(
            ITEMS,
            sale_id,
            [sku for sku, _, _ in lines],
            [name for _, name, _ in lines],
            list(lines.values()),
            [Decimal(unit) if unit else None for _, _, unit in lines],
        )
        detail: dict[str, Any] = {
            "return_status": data["return_status"],
            "update_time": updated.isoformat(),
        }
        await conn.execute(
            HISTORY, sale_id, now, status.value if status else None, orjson.dumps(detail).decode()
        )
    return Response(status_code=200)


BARE = Bare(Route("/webhooks/tiktok", tiktok, methods=["POST"]))

if __name__ == "__main__":
    BARE.main(__doc__)
