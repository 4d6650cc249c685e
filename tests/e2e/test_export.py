"""`GET /export/after-sales.csv` (docs/triage.md): RFC 4180 with a header row, the filters and
tenancy of `afterSales`, formulas made inert, bad parameters a 400 that names them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import httpx
import pytest

from api.triage import export
from tests.support.builders import Seller, make_sale, make_seller
from tests.support.clock import T0
from tests.support.http import AppClient

TAG = """
mutation Tag($id: ID!, $tags: [String!]!) { addTags(input: {id: $id, tags: $tags}) {
  userErrors { code } } }
"""


async def _export(app: AppClient, seller: Seller, params: object = None) -> httpx.Response:
    return await app.client.get(
        "/export/after-sales.csv",
        params=params,  # type: ignore[arg-type]
        headers={"Authorization": f"Bearer {seller.token}"},
    )


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


async def test_the_export_is_a_csv_attachment_with_every_column(app: AppClient) -> None:
    seller, stranger = await make_seller(), await make_seller()
    older = await make_sale(seller, at=T0, refund="12.50")
    newer = await make_sale(seller, at=T0 + timedelta(hours=1), reason_text="Too small, sadly")
    await make_sale(stranger)
    await app.gql(TAG, {"id": str(older), "tags": ["vip", "check"]}, token=seller.token)

    response = await _export(app, seller)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    day = app.clock.now().date().isoformat()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="after-sales-{day}.csv"'
    )
    assert response.text.splitlines()[0] == ",".join(export.COLUMNS)
    assert "\r\n" in response.text
    rows = _rows(response)
    assert [r["id"] for r in rows] == [str(newer), str(older)]
    assert rows[1]["refundRequested"] == "12.50" and rows[1]["currency"] == "MYR"
    assert rows[1]["tags"] == "vip, check"
    assert rows[1]["type"] == "RETURN_AND_REFUND" and rows[1]["status"] == "PENDING_REQUEST"
    assert rows[0]["reason"] == "Too small, sadly"
    assert rows[0]["shopId"] == seller.shop_id


async def test_a_formula_comes_out_inert(app: AppClient) -> None:
    seller = await make_seller()
    await make_sale(seller, reason_text='=HYPERLINK("http://evil.example","click")')
    await make_sale(seller, reason_text="@SUM(1)")
    await make_sale(seller, reason_text="-2+3")

    rows = _rows(await _export(app, seller))

    assert sorted(r["reason"] for r in rows) == [
        "'-2+3",
        '\'=HYPERLINK("http://evil.example","click")',
        "'@SUM(1)",
    ]


async def test_the_export_takes_the_filters_of_after_sales(app: AppClient) -> None:
    seller = await make_seller()
    refund = await make_sale(seller, return_type="REFUND")
    tagged = await make_sale(seller)
    await make_sale(seller)
    await app.gql(TAG, {"id": str(tagged), "tags": ["Check"]}, token=seller.token)
    soon = await make_sale(seller, seller_deadline=T0 + timedelta(hours=1))

    by_type = _rows(await _export(app, seller, {"type": "REFUND_ONLY"}))
    by_tag = _rows(await _export(app, seller, [("tags", "check")]))
    urgent = _rows(await _export(app, seller, {"orderBy": "RESPONSE_DEADLINE"}))

    assert [r["id"] for r in by_type] == [str(refund)]
    assert [r["id"] for r in by_tag] == [str(tagged)]
    assert urgent[0]["id"] == str(soon)


async def test_more_rows_than_a_batch_come_out_in_order(
    app: AppClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "BATCH", 2)
    seller = await make_seller()
    ids = [await make_sale(seller, at=T0 + timedelta(minutes=n)) for n in range(5)]

    for sale_id in ids:
        await app.gql(TAG, {"id": str(sale_id), "tags": ["x"]}, token=seller.token)

    rows = _rows(await _export(app, seller))
    urgent = _rows(await _export(app, seller, {"orderBy": "RESPONSE_DEADLINE"}))
    # A tag filter takes the query builder's way instead of the SQL written out.
    tagged = _rows(await _export(app, seller, {"tags": "x"}))
    tagged_urgent = _rows(await _export(app, seller, {"tags": "x", "orderBy": "RESPONSE_DEADLINE"}))

    assert [r["id"] for r in rows] == [r["id"] for r in tagged] == [str(i) for i in reversed(ids)]
    assert [r["id"] for r in urgent] == [r["id"] for r in tagged_urgent] == [str(i) for i in ids]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"type": "REFUND"}, "type must be one of"),
        ({"first": "10"}, "unknown parameter 'first' (the export takes every row"),
        ({"responseDueBefore": "tomorrow"}, "responseDueBefore must be an ISO 8601 time"),
        ({"awaitingStockIn": "yes"}, "awaitingStockIn must be true or false"),
        ([("status", "REFUNDED"), ("status", "REJECTED")], "status is given 2 times"),
        ({"responseDueBefore": "0001-01-01T00:00:00+14:00"}, "responseDueBefore must be a time"),
    ],
)
async def test_bad_parameters_are_a_400_that_names_them(
    app: AppClient, params: object, message: str
) -> None:
    seller = await make_seller()

    response = await _export(app, seller, params)

    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


async def test_the_export_needs_a_token(app: AppClient) -> None:
    response = await app.client.get("/export/after-sales.csv")

    assert response.status_code == 401
