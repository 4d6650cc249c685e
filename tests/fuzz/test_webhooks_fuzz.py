"""Both webhook endpoints under random bodies, signed and unsigned: only 200, 400, 401 or 413,
never a traceback or SQL in a response, and nothing stored for a body that is not signed. TikTok's
endpoint answers a signed body 200 whatever it holds (TikTok retries any other answer but 401)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from aftersales.store.models import WebhookDelivery
from tests.support.builders import make_seller
from tests.support.http import AppClient
from tests.support.webhooks import post_parcel, post_tiktok

LEAKS = ("Traceback", "SELECT ", "INSERT ", "UPDATE ", "sqlite", "asyncpg", "tortoise")

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
statuses = st.sampled_from(
    ["RETURN_OR_REFUND_REQUEST_PENDING", "BUYER_SHIPPED_ITEM", "REPLACEMENT_REQUEST_CANCEL", "?"]
)


def tiktok_envelope(shop_id: str) -> st.SearchStrategy[dict[str, Any]]:
    data = st.fixed_dictionaries(
        {},
        optional={
            "order_id": st.text(max_size=25) | st.integers(),
            "return_id": st.text(max_size=25) | st.integers(min_value=0, max_value=10**20),
            "return_role": st.sampled_from(["BUYER", "SELLER", "SYSTEM", "OPERATOR"]) | scalars,
            "return_type": st.sampled_from(["REFUND", "RETURN_AND_REFUND", "REPLACEMENT"])
            | scalars,
            "return_status": statuses | scalars,
            "create_time": st.integers(min_value=-(2**40), max_value=2**40) | scalars,
            "update_time": st.integers(min_value=-(2**40), max_value=2**40) | scalars,
            "refund_amount": json_values,
            "return_line_items": json_values,
            "seller_next_action_response": json_values,
            "partial_refund": json_values,
        },
    )
    return st.fixed_dictionaries(
        {"type": st.sampled_from([12, 11, 1]) | scalars, "data": data | json_values},
        optional={
            "tts_notification_id": st.text(max_size=70) | scalars,
            "shop_id": st.just(shop_id) | scalars,
            "timestamp": st.integers() | scalars,
        },
    )


def parcel_event(shop_id: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "event_id": st.text(max_size=70) | scalars,
            "occurred_at": st.datetimes().map(lambda d: d.isoformat() + "Z") | scalars,
            "shop_id": st.just(shop_id) | scalars,
            "order_id": st.text(max_size=25) | scalars,
            "return_id": st.text(max_size=25) | scalars,
            "tracking_number": st.text(max_size=70) | scalars,
            "status": st.sampled_from(["IN_TRANSIT", "DELIVERED", "RETURN_TO_SENDER"]) | scalars,
            "abnormal_reason": st.sampled_from(["REFUSED_BY_BUYER", "LOGISTICS_ISSUE"]) | scalars,
            "items": json_values,
        },
    )


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def assert_clean(response: Any) -> None:
    assert response.status_code in (200, 400, 401, 413), (response.status_code, response.text)
    for leak in LEAKS:
        assert leak not in response.text, response.text


async def _post_a_random_body(
    app: AppClient,
    data: st.DataObject,
    shaped: Callable[[str], st.SearchStrategy[dict[str, Any]]],
    post: Callable[..., Awaitable[Any]],
    signed_answers: tuple[int, ...],
) -> None:
    """Draw a body (shaped like the endpoint's format, any JSON, or any bytes), sign it or not,
    post it, and check the answer and what was stored."""
    seller = await make_seller()
    body = data.draw(
        shaped(seller.shop_id).map(_encode) | json_values.map(_encode) | st.binary(max_size=200)
    )
    signed = data.draw(st.booleans())
    before = await WebhookDelivery.all().count()

    response = await post(app, body, sign=signed)

    assert_clean(response)
    if not signed:
        assert response.status_code == 401
        assert await WebhookDelivery.all().count() == before
    else:
        assert response.status_code in signed_answers, (response.status_code, response.text)


@given(data=st.data())
async def test_tiktok_webhook_answers_random_bodies_cleanly(
    app: AppClient, data: st.DataObject
) -> None:
    await _post_a_random_body(app, data, tiktok_envelope, post_tiktok, signed_answers=(200,))


@given(data=st.data())
async def test_logistics_webhook_answers_random_bodies_cleanly(
    app: AppClient, data: st.DataObject
) -> None:
    await _post_a_random_body(app, data, parcel_event, post_parcel, signed_answers=(200, 400))
