"""reprintShippingLabel and GET /labels/{id}.pdf: a label a scanner reads, for its owner only.

The barcode is read back by rendering the PDF with PDFium (pypdfium2) and decoding it with
zxing-cpp, both dev extras that ship their native code in the wheel. If they are missing the
decoding test skips, unless REQUIRE_LABEL_DECODER=1, where it fails.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.support.builders import Seller, abnormal_return, make_sale, make_seller, returned_sale
from tests.support.http import AppClient

REPRINT = """
mutation Reprint($id: ID!, $warehouseId: ID) {
  reprintShippingLabel(input: {id: $id, warehouseId: $warehouseId}) {
    afterSale { id history { actor action source } }
    label { url format }
    userErrors { code field message }
  }
}
"""

CREATE_WAREHOUSE = """
mutation Create($code: String!, $address: String) {
  createWarehouse(input: {code: $code, name: "Shah Alam DC", address: $address}) {
    warehouse { id }
  }
}
"""


async def reprint(
    app: AppClient, seller: Seller, sale_id: int, warehouse_id: str | None = None
) -> dict[str, Any]:
    variables = {"id": str(sale_id), "warehouseId": warehouse_id}
    data = await app.gql(REPRINT, variables, token=seller.token)
    return data["reprintShippingLabel"]  # type: ignore[no-any-return]


async def create_warehouse(app: AppClient, seller: Seller, code: str = "SA1") -> str:
    data = await app.gql(
        CREATE_WAREHOUSE,
        {"code": code, "address": "Lot 5, Jalan Bukit\n40000 Shah Alam"},
        token=seller.token,
    )
    return str(data["createWarehouse"]["warehouse"]["id"])


def decoder() -> tuple[Any, Any]:
    try:
        import pypdfium2  # type: ignore[import-untyped]
        import zxingcpp
    except ImportError as exc:
        if os.environ.get("REQUIRE_LABEL_DECODER") == "1":
            pytest.fail(f"REQUIRE_LABEL_DECODER=1 but the label decoder is missing: {exc}")
        pytest.skip(f"label decoder not installed ({exc}); pip install -e '.[dev]'")
    return pypdfium2, zxingcpp


async def test_a_label_carries_a_code128_barcode_that_decodes_to_the_tracking_number(
    app: AppClient,
) -> None:
    pdfium, zxing = decoder()
    seller = await make_seller()
    warehouse_id = await create_warehouse(app, seller)
    sale = await returned_sale(seller, tracking_number="JX2026112000042")
    app.clock.advance(days=5)

    payload = await reprint(app, seller, sale, warehouse_id)
    response = await app.client.get(
        payload["label"]["url"], headers={"Authorization": f"Bearer {seller.token}"}
    )

    assert payload["userErrors"] == []
    assert payload["label"]["format"] == "PDF"
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    page = pdfium.PdfDocument(response.content)[0]
    image = page.render(scale=300 / 72).to_pil()
    found = zxing.read_barcodes(image)
    assert [(b.text, b.format) for b in found] == [("JX2026112000042", zxing.BarcodeFormat.Code128)]
    text = page.get_textpage().get_text_range()
    for expected in ("J&T Express", "Order: ", "Return: ", "Shah Alam DC [SA1]", "40000 Shah Alam"):
        assert expected in text
    assert payload["afterSale"]["history"][-1] == {
        "actor": "SELLER",
        "action": "REPRINT_SHIPPING_LABEL",
        "source": "GRAPHQL",
    }


async def test_an_abnormal_return_label_can_be_reprinted(app: AppClient) -> None:
    seller = await make_seller()
    await create_warehouse(app, seller)
    sale = await abnormal_return(seller, items={"SKU-A": 1})

    payload = await reprint(app, seller, sale)
    response = await app.client.get(
        payload["label"]["url"], headers={"Authorization": f"Bearer {seller.token}"}
    )

    assert payload["userErrors"] == []
    assert payload["label"]["url"].startswith(f"/labels/{sale}.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


async def test_another_seller_can_neither_reprint_nor_download_the_label(app: AppClient) -> None:
    seller, other = await make_seller(), await make_seller()
    sale = await returned_sale(seller)
    url = (await reprint(app, seller, sale))["label"]["url"]

    theirs = await reprint(app, other, sale)
    download = await app.client.get(url, headers={"Authorization": f"Bearer {other.token}"})
    anonymous = await app.client.get(url)

    assert theirs["userErrors"][0]["code"] == "NOT_FOUND"
    assert theirs["label"] is None
    assert download.status_code == 404
    assert anonymous.status_code == 401


async def test_another_sellers_warehouse_cannot_be_printed_on_a_label(app: AppClient) -> None:
    seller, other = await make_seller(), await make_seller()
    sale = await returned_sale(seller)
    foreign = await create_warehouse(app, other)

    payload = await reprint(app, seller, sale, foreign)
    download = await app.client.get(
        f"/labels/{sale}.pdf?warehouseId={foreign}",
        headers={"Authorization": f"Bearer {seller.token}"},
    )

    assert payload["userErrors"][0]["code"] == "NOT_FOUND"
    assert payload["userErrors"][0]["field"] == ["input", "warehouseId"]
    assert download.status_code == 404


async def test_a_refund_only_request_has_no_label(app: AppClient) -> None:
    seller = await make_seller()
    sale = await make_sale(seller, return_type="REFUND")

    payload = await reprint(app, seller, sale)

    assert payload["userErrors"][0]["code"] == "ACTION_NOT_ALLOWED_FOR_TYPE"
    assert payload["label"] is None


async def test_a_return_without_a_shipment_has_no_label_yet(app: AppClient) -> None:
    seller = await make_seller()
    sale = await make_sale(seller)

    payload = await reprint(app, seller, sale)
    download = await app.client.get(
        f"/labels/{sale}.pdf", headers={"Authorization": f"Bearer {seller.token}"}
    )

    assert payload["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert download.status_code == 409


async def test_an_exchange_has_no_label_and_the_message_says_an_exchange_request(
    app: AppClient,
) -> None:
    seller = await make_seller(region="ID")
    sale = await make_sale(seller, return_type="REPLACEMENT", status="REPLACEMENT_REQUEST_PENDING")

    payload = await reprint(app, seller, sale)

    [error] = payload["userErrors"]
    assert error["code"] == "ACTION_NOT_ALLOWED_FOR_TYPE"
    assert error["message"] == "an exchange request has no return parcel to label"


async def test_the_longest_address_create_warehouse_accepts_prints_in_full(
    app: AppClient,
) -> None:
    pdfium, _ = decoder()
    seller = await make_seller()
    # 8 lines of 49 capitals: 399 characters, the most createWarehouse accepts, and wide ones.
    address = "\n".join(
        f"LOT {n}, JALAN BUKIT BINTANG, WISMA WAREHOUSE MMMMMMMM"[:49] for n in range(8)
    )
    data = await app.gql(CREATE_WAREHOUSE, {"code": "SA1", "address": address}, token=seller.token)
    warehouse_id = str(data["createWarehouse"]["warehouse"]["id"])
    sale = await returned_sale(seller, tracking_number="JX2026112000042")

    payload = await reprint(app, seller, sale, warehouse_id)
    response = await app.client.get(
        payload["label"]["url"], headers={"Authorization": f"Bearer {seller.token}"}
    )

    text = " ".join(pdfium.PdfDocument(response.content)[0].get_textpage().get_text_range().split())
    for line in address.splitlines():
        assert line in text
    assert "\u2026" not in text
