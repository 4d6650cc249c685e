from __future__ import annotations

from tests.support.builders import make_sale, make_seller
from tests.support.http import AppClient

ACCEPT = """
mutation Accept($id: ID!) {
  acceptReturn(input: {id: $id}) {
    afterSale {
      id status returnStatus availableActions
      history { actor action fromStatus toStatus source }
    }
    userErrors { code field message }
  }
}
"""

LIST = """
query {
  afterSales(first: 10) {
    totalCount
    edges { node { id type status items { sku quantity } refundRequested { amount currency } } }
  }
}
"""


async def test_seller_accepts_a_pending_return_over_http(app: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)

    data = await app.gql(ACCEPT, {"id": str(sale_id)}, token=seller.token)

    payload = data["acceptReturn"]
    assert payload["userErrors"] == []
    assert payload["afterSale"]["status"] == "AWAITING_BUYER_SHIPMENT"
    assert payload["afterSale"]["returnStatus"] == "TO_RETURN"
    assert [h["action"] for h in payload["afterSale"]["history"]] == [
        "PLATFORM_STATUS_REPORTED",
        "ACCEPT_RETURN",
    ]
    listing = await app.gql(LIST, token=seller.token)
    assert listing["afterSales"]["totalCount"] == 1
    node = listing["afterSales"]["edges"][0]["node"]
    assert node["refundRequested"] == {"amount": "100.00", "currency": "MYR"}
    assert node["items"] == [{"sku": "SKU-1", "quantity": 1}]
