"""Every seller action (docs/lifecycle.md) over HTTP: happy paths, each userErrors code, the
bulk forms.

After-sales in states other than pending are driven there by TikTok reports
(commands.reports.apply_return_report), the way production gets them.
"""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.commands import seller as commands
from tests.support.builders import Seller, abnormal_return, make_sale, make_seller
from tests.support.http import AppClient, assert_no_stack_trace, post_graphql

SALE = """
fragment Sale on AfterSale {
  id type status returnStatus rejectReason disputeDeadline updatedAt availableActions
  refundRequested { amount currency }
  refundAmount { amount currency }
  partialRefundOffer { amount currency }
  notes { text createdAt }
  history { at actor action fromStatus toStatus source }
}
"""
PAYLOAD = (
    SALE
    + """
fragment Payload on AfterSalePayload {
  afterSale { ...Sale }
  userErrors { code field message }
}
"""
)
BULK_PAYLOAD = (
    SALE
    + """
fragment Bulk on BulkAfterSalePayload {
  results { id afterSale { ...Sale } userErrors { code field message } }
  userErrors { code field message }
}
"""
)

AFTER_SALE = (
    SALE
    + """
query AfterSale($id: ID!) { afterSale(id: $id) { ...Sale } }
"""
)

ACCEPT_RETURN = (
    PAYLOAD
    + """
mutation AcceptReturn($input: AfterSaleIdInput!) { acceptReturn(input: $input) { ...Payload } }
"""
)
REJECT_RETURN = (
    PAYLOAD
    + """
mutation RejectReturn($input: RejectInput!) { rejectReturn(input: $input) { ...Payload } }
"""
)
OFFER_PARTIAL_REFUND = (
    PAYLOAD
    + """
mutation Offer($input: OfferPartialRefundInput!) {
  offerPartialRefund(input: $input) { ...Payload }
}
"""
)
CONFIRM_RECEIPT = (
    PAYLOAD
    + """
mutation Confirm($input: AfterSaleIdInput!) { confirmReceipt(input: $input) { ...Payload } }
"""
)
REJECT_RECEIPT = (
    PAYLOAD
    + """
mutation RejectReceipt($input: RejectInput!) { rejectReceipt(input: $input) { ...Payload } }
"""
)
ACCEPT_REFUND = (
    PAYLOAD
    + """
mutation AcceptRefund($input: AfterSaleIdInput!) { acceptRefund(input: $input) { ...Payload } }
"""
)
REJECT_REFUND = (
    PAYLOAD
    + """
mutation RejectRefund($input: RejectInput!) { rejectRefund(input: $input) { ...Payload } }
"""
)
ACCEPT_EXCHANGE = (
    PAYLOAD
    + """
mutation AcceptExchange($input: AfterSaleIdInput!) {
  acceptExchange(input: $input) { ...Payload }
}
"""
)
REFUSE_EXCHANGE = (
    PAYLOAD
    + """
mutation RefuseExchange($input: RejectInput!) { refuseExchange(input: $input) { ...Payload } }
"""
)
ISSUE_FULL_REFUND = (
    PAYLOAD
    + """
mutation FullRefund($input: AfterSaleIdInput!) { issueFullRefund(input: $input) { ...Payload } }
"""
)
ADD_NOTE = (
    PAYLOAD
    + """
mutation AddNote($input: AddNoteInput!) { addNote(input: $input) { ...Payload } }
"""
)

ADD_NOTE_BULK = """
mutation($input: BulkAddNoteInput!) {
  addNoteBulk(input: $input) {
    results { id afterSale { notes { text } } userErrors { code } }
    userErrors { code }
  }
}
"""
ACCEPT_RETURN_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkIdsInput!) { acceptReturnBulk(input: $input) { ...Bulk } }
"""
)
REJECT_RETURN_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkRejectInput!) { rejectReturnBulk(input: $input) { ...Bulk } }
"""
)
OFFER_PARTIAL_REFUND_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkOfferPartialRefundInput!) { offerPartialRefundBulk(input: $input) { ...Bulk } }
"""
)
CONFIRM_RECEIPT_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkIdsInput!) { confirmReceiptBulk(input: $input) { ...Bulk } }
"""
)
REJECT_RECEIPT_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkRejectInput!) { rejectReceiptBulk(input: $input) { ...Bulk } }
"""
)
ACCEPT_REFUND_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkIdsInput!) { acceptRefundBulk(input: $input) { ...Bulk } }
"""
)
REJECT_REFUND_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkRejectInput!) { rejectRefundBulk(input: $input) { ...Bulk } }
"""
)
ACCEPT_EXCHANGE_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkIdsInput!) { acceptExchangeBulk(input: $input) { ...Bulk } }
"""
)
REFUSE_EXCHANGE_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkRejectInput!) { refuseExchangeBulk(input: $input) { ...Bulk } }
"""
)
ISSUE_FULL_REFUND_BULK = (
    BULK_PAYLOAD
    + """
mutation($input: BulkIdsInput!) { issueFullRefundBulk(input: $input) { ...Bulk } }
"""
)

PENDING = "RETURN_OR_REFUND_REQUEST_PENDING"
SHIPPED = "BUYER_SHIPPED_ITEM"
RETURN, REFUND, REPLACEMENT = "RETURN_AND_REFUND", "REFUND", "REPLACEMENT"
REASON = {"reason": "  Item arrived used  ", "note": "called the buyer"}
# The app's clock runs one hour after the reports that created the after-sales.
DISPUTE_DEADLINE = "2026-11-22T11:00:00+00:00"
NOW = "2026-11-20T11:00:00+00:00"


class Case:
    """One row of docs/lifecycle.md: a mutation, where it starts, its input and where it leads."""

    def __init__(
        self,
        name: str,
        document: str,
        *,
        type: str,
        status: str = PENDING,
        region: str = "MY",
        extra: dict[str, Any] | None = None,
        to: str,
        expect: dict[str, Any] | None = None,
    ) -> None:
        self.name, self.document, self.return_type, self.platform_status = (
            name,
            document,
            type,
            status,
        )
        self.region, self.extra, self.to, self.expect = region, extra or {}, to, expect or {}

    @property
    def action(self) -> str:
        """The SellerAction recorded in history: acceptReturn -> ACCEPT_RETURN."""
        return "".join("_" + c if c.isupper() else c.upper() for c in self.name)

    def __repr__(self) -> str:
        return f"{self.name}-{self.return_type}"


MYR_100 = {"amount": "100.00", "currency": "MYR"}
REJECTED = {"disputeDeadline": DISPUTE_DEADLINE, "rejectReason": "Item arrived used"}

CASES = [
    Case(
        "acceptReturn",
        ACCEPT_RETURN,
        type=RETURN,
        to="AWAITING_BUYER_SHIPMENT",
        expect={"returnStatus": "TO_RETURN", "refundAmount": None},
    ),
    Case("rejectReturn", REJECT_RETURN, type=RETURN, extra=REASON, to="REJECTED", expect=REJECTED),
    Case(
        "offerPartialRefund",
        OFFER_PARTIAL_REFUND,
        type=RETURN,
        extra={"amount": "40.50"},
        to="AWAITING_BUYER_RESPONSE",
        expect={"partialRefundOffer": {"amount": "40.50", "currency": "MYR"}},
    ),
    Case(
        "offerPartialRefund",
        OFFER_PARTIAL_REFUND,
        type=REFUND,
        extra={"amount": "100"},
        to="AWAITING_BUYER_RESPONSE",
        expect={"partialRefundOffer": MYR_100, "returnStatus": "OTHER"},
    ),
    Case(
        "offerPartialRefund",
        OFFER_PARTIAL_REFUND,
        type=REPLACEMENT,
        extra={"amount": "0.01"},
        to="AWAITING_BUYER_RESPONSE",
        expect={"partialRefundOffer": {"amount": "0.01", "currency": "MYR"}},
    ),
    Case(
        "confirmReceipt",
        CONFIRM_RECEIPT,
        type=RETURN,
        status=SHIPPED,
        to="REFUNDED",
        expect={"refundAmount": MYR_100},
    ),
    Case(
        "rejectReceipt",
        REJECT_RECEIPT,
        type=RETURN,
        status=SHIPPED,
        extra=REASON,
        to="RECEIPT_REJECTED",
        expect=REJECTED,
    ),
    Case(
        "acceptRefund", ACCEPT_REFUND, type=REFUND, to="REFUNDED", expect={"refundAmount": MYR_100}
    ),
    Case("rejectRefund", REJECT_REFUND, type=REFUND, extra=REASON, to="REJECTED", expect=REJECTED),
    Case(
        "acceptExchange",
        ACCEPT_EXCHANGE,
        type=REPLACEMENT,
        region="ID",
        to="EXCHANGE_ACCEPTED",
        expect={"refundAmount": None},
    ),
    Case(
        "refuseExchange",
        REFUSE_EXCHANGE,
        type=REPLACEMENT,
        extra=REASON,
        to="REJECTED",
        expect=REJECTED,
    ),
    Case(
        "issueFullRefund",
        ISSUE_FULL_REFUND,
        type=REPLACEMENT,
        to="REFUNDED",
        expect={"refundAmount": MYR_100},
    ),
]


async def _snapshot(app: AppClient, seller: Seller, sale_id: int) -> dict[str, Any]:
    data = await app.gql(AFTER_SALE, {"id": str(sale_id)}, token=seller.token)
    return data["afterSale"]  # type: ignore[no-any-return]


@pytest.fixture
def later(app: AppClient) -> AppClient:
    """The app, its clock one hour after the after-sales were reported."""
    app.clock.advance(hours=1)
    return app


@pytest.mark.parametrize("case", CASES, ids=repr)
async def test_seller_action_moves_the_after_sale_and_records_who_did_it(
    later: AppClient, case: Case
) -> None:
    seller = await make_seller(case.region)
    sale_id = await make_sale(seller, return_type=case.return_type, status=case.platform_status)
    before = await _snapshot(later, seller, sale_id)

    data = await later.gql(
        case.document, {"input": {"id": str(sale_id), **case.extra}}, token=seller.token
    )

    payload = data[case.name]
    assert payload["userErrors"] == []
    sale = payload["afterSale"]
    assert sale["id"] == str(sale_id)
    assert sale["status"] == case.to
    for name, value in case.expect.items():
        assert sale[name] == value, name
    assert sale["history"][:-1] == before["history"]
    assert sale["history"][-1] == {
        "at": NOW,
        "actor": "SELLER",
        "action": case.action,
        "fromStatus": before["status"],
        "toStatus": case.to,
        "source": "GRAPHQL",
    }
    assert sale["updatedAt"] == NOW
    assert await _snapshot(later, seller, sale_id) == sale


async def test_rejection_keeps_the_optional_note_with_the_request(later: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)

    data = await later.gql(
        REJECT_RETURN, {"input": {"id": str(sale_id), **REASON}}, token=seller.token
    )

    assert data["rejectReturn"]["afterSale"]["notes"] == [
        {"text": "called the buyer", "createdAt": NOW}
    ]


async def test_seller_adds_a_note_without_changing_the_status(later: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, status=SHIPPED)

    data = await later.gql(
        ADD_NOTE,
        {"input": {"id": str(sale_id), "text": " parcel looks damaged "}},
        token=seller.token,
    )

    payload = data["addNote"]
    assert payload["userErrors"] == []
    sale = payload["afterSale"]
    assert sale["status"] == "SHIPPED_BY_BUYER"
    assert sale["notes"] == [{"text": "parcel looks damaged", "createdAt": NOW}]
    assert sale["history"][-1] == {
        "at": NOW,
        "actor": "SELLER",
        "action": "ADD_NOTE",
        "fromStatus": "SHIPPED_BY_BUYER",
        "toStatus": "SHIPPED_BY_BUYER",
        "source": "GRAPHQL",
    }


async def test_seller_adds_a_note_to_an_abnormal_return(later: AppClient) -> None:
    seller = await make_seller()
    sale_id = await abnormal_return(seller)

    data = await later.gql(
        ADD_NOTE, {"input": {"id": str(sale_id), "text": "refused at the door"}}, token=seller.token
    )

    payload = data["addNote"]
    assert payload["userErrors"] == []
    assert payload["afterSale"]["status"] is None
    assert payload["afterSale"]["notes"] == [{"text": "refused at the door", "createdAt": NOW}]


# --- Expected failures: one userErrors entry, nothing changed -----------------------------


async def _refused(
    app: AppClient, seller: Seller, sale_id: int | str, document: str, name: str, **extra: Any
) -> dict[str, Any]:
    data = await app.gql(document, {"input": {"id": str(sale_id), **extra}}, token=seller.token)
    payload = data[name]
    assert len(payload["userErrors"]) == 1, payload
    assert payload["userErrors"][0]["message"]
    return payload  # type: ignore[no-any-return]


async def test_another_sellers_after_sale_is_not_found_and_left_alone(later: AppClient) -> None:
    owner, intruder = await make_seller(), await make_seller()
    sale_id = await make_sale(owner)
    before = await _snapshot(later, owner, sale_id)

    payload = await _refused(later, intruder, sale_id, ACCEPT_RETURN, "acceptReturn")

    assert payload["afterSale"] is None
    assert payload["userErrors"][0]["code"] == "NOT_FOUND"
    assert payload["userErrors"][0]["field"] == ["input", "id"]
    assert await _snapshot(later, owner, sale_id) == before


async def test_another_sellers_after_sale_looks_exactly_like_a_missing_one(
    later: AppClient,
) -> None:
    owner, intruder = await make_seller(), await make_seller()
    sale_id = await make_sale(owner)

    theirs = await _refused(later, intruder, sale_id, ADD_NOTE, "addNote", text="hello")
    missing = await _refused(later, intruder, 999_999, ADD_NOTE, "addNote", text="hello")

    assert theirs == missing


@pytest.mark.parametrize("raw_id", ["abc", "-1", "", " ", "1.5", "1e3", "99999999999999999999999"])
async def test_a_malformed_id_is_not_found(later: AppClient, raw_id: str) -> None:
    seller = await make_seller()
    await make_sale(seller)

    payload = await _refused(later, seller, raw_id, ACCEPT_RETURN, "acceptReturn")

    assert payload["afterSale"] is None
    assert payload["userErrors"][0]["code"] == "NOT_FOUND"


async def test_an_id_beyond_the_database_integer_range_is_not_found(later: AppClient) -> None:
    seller = await make_seller()

    payload = await _refused(later, seller, "9999999999", ACCEPT_RETURN, "acceptReturn")

    assert payload["userErrors"][0]["code"] == "NOT_FOUND"


async def test_seller_cannot_confirm_receipt_before_the_buyer_ships(later: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)
    before = await _snapshot(later, seller, sale_id)

    payload = await _refused(later, seller, sale_id, CONFIRM_RECEIPT, "confirmReceipt")

    assert payload["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert payload["afterSale"] == before
    assert await _snapshot(later, seller, sale_id) == before


async def test_seller_cannot_accept_a_return_twice(later: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)
    await later.gql(ACCEPT_RETURN, {"input": {"id": str(sale_id)}}, token=seller.token)
    before = await _snapshot(later, seller, sale_id)

    payload = await _refused(later, seller, sale_id, ACCEPT_RETURN, "acceptReturn")

    assert payload["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert await _snapshot(later, seller, sale_id) == before


async def test_a_refund_only_request_cannot_be_accepted_as_a_return(later: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, return_type=REFUND)
    before = await _snapshot(later, seller, sale_id)

    payload = await _refused(later, seller, sale_id, ACCEPT_RETURN, "acceptReturn")

    assert payload["userErrors"][0]["code"] == "ACTION_NOT_ALLOWED_FOR_TYPE"
    assert await _snapshot(later, seller, sale_id) == before


ABNORMAL_REFUSALS = [
    ("acceptReturn", ACCEPT_RETURN, {}),
    ("rejectReturn", REJECT_RETURN, {"reason": "no"}),
    ("offerPartialRefund", OFFER_PARTIAL_REFUND, {"amount": "1"}),
    ("confirmReceipt", CONFIRM_RECEIPT, {}),
    ("rejectReceipt", REJECT_RECEIPT, {"reason": "no"}),
    ("acceptRefund", ACCEPT_REFUND, {}),
    ("rejectRefund", REJECT_REFUND, {"reason": "no"}),
    ("acceptExchange", ACCEPT_EXCHANGE, {}),
    ("refuseExchange", REFUSE_EXCHANGE, {"reason": "no"}),
    ("issueFullRefund", ISSUE_FULL_REFUND, {}),
]


@pytest.mark.parametrize(
    ("name", "document", "extra"), ABNORMAL_REFUSALS, ids=[n for n, _, _ in ABNORMAL_REFUSALS]
)
async def test_an_abnormal_return_accepts_no_accept_refuse_or_refund_action(
    later: AppClient, name: str, document: str, extra: dict[str, Any]
) -> None:
    seller = await make_seller("ID")
    sale_id = await abnormal_return(seller)
    before = await _snapshot(later, seller, sale_id)

    payload = await _refused(later, seller, sale_id, document, name, **extra)

    assert payload["userErrors"][0]["code"] == "ACTION_NOT_ALLOWED_FOR_TYPE"
    assert await _snapshot(later, seller, sale_id) == before
    assert before["availableActions"] == ["ADD_NOTE", "REPRINT_SHIPPING_LABEL"]


@pytest.mark.parametrize("region", ["US", "MY", "ID"])
async def test_every_exchange_tiktok_opens_can_be_accepted_whatever_the_region(
    later: AppClient, region: str
) -> None:
    seller = await make_seller(region)
    sale_id = await make_sale(seller, return_type=REPLACEMENT)
    before = await _snapshot(later, seller, sale_id)

    data = await later.gql(ACCEPT_EXCHANGE, {"input": {"id": str(sale_id)}}, token=seller.token)

    assert "ACCEPT_EXCHANGE" in before["availableActions"]
    assert data["acceptExchange"]["userErrors"] == []
    assert data["acceptExchange"]["afterSale"]["status"] == "EXCHANGE_ACCEPTED"


@pytest.mark.parametrize("amount", ["0", "-5", "100.01", "10.001", "NaN", "Infinity"])
async def test_a_partial_refund_must_be_positive_and_within_the_request(
    later: AppClient, amount: str
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, refund="100.00")
    before = await _snapshot(later, seller, sale_id)

    payload = await _refused(
        later, seller, sale_id, OFFER_PARTIAL_REFUND, "offerPartialRefund", amount=amount
    )

    assert payload["userErrors"][0]["code"] == "INVALID_AMOUNT"
    assert payload["userErrors"][0]["field"] == ["input", "amount"]
    assert await _snapshot(later, seller, sale_id) == before


async def test_an_amount_that_is_not_a_number_is_a_graphql_error_not_a_500(
    later: AppClient,
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)

    response = await post_graphql(
        later,
        OFFER_PARTIAL_REFUND,
        {"input": {"id": str(sale_id), "amount": "forty"}},
        token=seller.token,
    )

    assert response.status_code in (200, 400)
    assert "amount" in response.text
    assert_no_stack_trace(response)


@pytest.mark.parametrize(
    ("name", "document", "type"),
    [
        ("rejectReturn", REJECT_RETURN, RETURN),
        ("rejectRefund", REJECT_REFUND, REFUND),
        ("refuseExchange", REFUSE_EXCHANGE, REPLACEMENT),
    ],
)
async def test_a_rejection_needs_a_reason_that_is_not_blank(
    later: AppClient, name: str, document: str, type: str
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller, return_type=type)
    before = await _snapshot(later, seller, sale_id)

    payload = await _refused(later, seller, sale_id, document, name, reason="   ")

    assert payload["userErrors"][0]["code"] == "VALIDATION"
    assert payload["userErrors"][0]["field"] == ["input", "reason"]
    assert await _snapshot(later, seller, sale_id) == before


async def test_a_blank_note_is_refused(later: AppClient) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)
    before = await _snapshot(later, seller, sale_id)

    payload = await _refused(later, seller, sale_id, ADD_NOTE, "addNote", text=" \n ")

    assert payload["userErrors"][0]["code"] == "VALIDATION"
    assert payload["userErrors"][0]["field"] == ["input", "text"]
    assert await _snapshot(later, seller, sale_id) == before


# --- Bulk forms ----------------------------------------------------------------------------


class BulkCase:
    def __init__(
        self, name: str, document: str, single: Case, extra: dict[str, Any] | None = None
    ) -> None:
        self.name, self.document, self.single, self.extra = name, document, single, extra or {}

    def __repr__(self) -> str:
        return self.name


def _case(name: str, type: str) -> Case:
    return next(c for c in CASES if c.name == name and c.return_type == type)


BULK_CASES = [
    BulkCase("acceptReturnBulk", ACCEPT_RETURN_BULK, _case("acceptReturn", RETURN)),
    BulkCase("rejectReturnBulk", REJECT_RETURN_BULK, _case("rejectReturn", RETURN), REASON),
    BulkCase(
        "offerPartialRefundBulk",
        OFFER_PARTIAL_REFUND_BULK,
        _case("offerPartialRefund", REFUND),
        {"amount": "100"},
    ),
    BulkCase("confirmReceiptBulk", CONFIRM_RECEIPT_BULK, _case("confirmReceipt", RETURN)),
    BulkCase("rejectReceiptBulk", REJECT_RECEIPT_BULK, _case("rejectReceipt", RETURN), REASON),
    BulkCase("acceptRefundBulk", ACCEPT_REFUND_BULK, _case("acceptRefund", REFUND)),
    BulkCase("rejectRefundBulk", REJECT_REFUND_BULK, _case("rejectRefund", REFUND), REASON),
    BulkCase("acceptExchangeBulk", ACCEPT_EXCHANGE_BULK, _case("acceptExchange", REPLACEMENT)),
    BulkCase(
        "refuseExchangeBulk", REFUSE_EXCHANGE_BULK, _case("refuseExchange", REPLACEMENT), REASON
    ),
    BulkCase("issueFullRefundBulk", ISSUE_FULL_REFUND_BULK, _case("issueFullRefund", REPLACEMENT)),
]


@pytest.mark.parametrize("case", BULK_CASES, ids=repr)
async def test_bulk_action_applies_each_id_independently_and_reports_per_id(
    later: AppClient, case: BulkCase
) -> None:
    seller, stranger = await make_seller(case.single.region), await make_seller()
    kind = {"return_type": case.single.return_type, "status": case.single.platform_status}
    first, second = await make_sale(seller, **kind), await make_sale(seller, **kind)
    abnormal = await abnormal_return(seller)
    theirs = await make_sale(stranger, **kind)
    untouched = await _snapshot(later, stranger, theirs)
    ids = [str(first), str(abnormal), "not-an-id", str(theirs), str(second)]

    data = await later.gql(case.document, {"input": {"ids": ids, **case.extra}}, token=seller.token)

    results = data[case.name]["results"]
    assert [r["id"] for r in results] == ids
    assert [[e["code"] for e in r["userErrors"]] for r in results] == [
        [],
        ["ACTION_NOT_ALLOWED_FOR_TYPE"],
        ["NOT_FOUND"],
        ["NOT_FOUND"],
        [],
    ]
    assert [r["afterSale"] and r["afterSale"]["status"] for r in results] == [
        case.single.to,
        None,
        None,
        None,
        case.single.to,
    ]
    assert results[1]["afterSale"]["id"] == str(abnormal)
    assert await _snapshot(later, stranger, theirs) == untouched


async def test_bulk_rejection_with_a_blank_reason_changes_nothing(later: AppClient) -> None:
    seller = await make_seller()
    ids = [str(await make_sale(seller)), str(await make_sale(seller))]

    data = await later.gql(
        REJECT_RETURN_BULK, {"input": {"ids": ids, "reason": " "}}, token=seller.token
    )

    results = data["rejectReturnBulk"]["results"]
    assert [r["userErrors"][0]["code"] for r in results] == ["VALIDATION", "VALIDATION"]
    assert [r["afterSale"]["status"] for r in results] == ["PENDING_REQUEST", "PENDING_REQUEST"]


@pytest.mark.parametrize("case", BULK_CASES, ids=repr)
async def test_bulk_action_with_the_same_id_twice_applies_it_once_with_one_result(
    later: AppClient, case: BulkCase
) -> None:
    seller = await make_seller(case.single.region)
    kind = {"return_type": case.single.return_type, "status": case.single.platform_status}
    once, twice = str(await make_sale(seller, **kind)), str(await make_sale(seller, **kind))

    listed_once = await later.gql(
        case.document, {"input": {"ids": [once], **case.extra}}, token=seller.token
    )
    listed_twice = await later.gql(
        case.document, {"input": {"ids": [twice, twice], **case.extra}}, token=seller.token
    )

    [result] = listed_twice[case.name]["results"]
    assert (result["id"], result["userErrors"]) == (twice, [])
    [expected] = listed_once[case.name]["results"]
    assert len(result["afterSale"]["history"]) == len(expected["afterSale"]["history"])


async def test_a_note_for_one_after_sale_listed_three_times_is_added_once(
    later: AppClient,
) -> None:
    seller = await make_seller()
    sale_id = str(await make_sale(seller))

    data = await later.gql(
        ADD_NOTE_BULK, {"input": {"ids": [sale_id] * 3, "text": "Called"}}, token=seller.token
    )

    [result] = data["addNoteBulk"]["results"]
    assert result["afterSale"]["notes"] == [{"text": "Called"}]


async def test_ids_naming_the_same_after_sale_are_applied_once_in_the_order_first_given(
    later: AppClient,
) -> None:
    seller = await make_seller()
    first, second = await make_sale(seller), await make_sale(seller)
    ids = [f" {first}", str(second), str(first), f"0{first}", "nope", " nope ", str(second)]

    data = await later.gql(
        ADD_NOTE_BULK, {"input": {"ids": ids, "text": "Called"}}, token=seller.token
    )

    results = data["addNoteBulk"]["results"]
    assert [r["id"] for r in results] == [f" {first}", str(second), "nope"]
    assert [[e["code"] for e in r["userErrors"]] for r in results] == [[], [], ["NOT_FOUND"]]
    assert [r["afterSale"]["notes"] for r in results[:2]] == [[{"text": "Called"}]] * 2


async def test_an_unexpected_failure_of_one_id_is_that_ids_error_and_the_others_are_applied(
    later: AppClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seller = await make_seller()
    first, broken, last = [await make_sale(seller) for _ in range(3)]
    add_note = commands.add_note

    async def failing(seller_id: int, sale_id: int, text: str, *, now: Any) -> int:
        if sale_id == broken:
            raise RuntimeError("integer out of range")  # as the database would
        return await add_note(seller_id, sale_id, text, now=now)

    monkeypatch.setattr(commands, "add_note", failing)

    response = await post_graphql(
        later,
        ADD_NOTE_BULK,
        {"input": {"ids": [str(first), str(broken), str(last)], "text": "Called"}},
        token=seller.token,
    )

    body = response.json()
    assert (response.status_code, "errors" in body) == (200, False)
    results = body["data"]["addNoteBulk"]["results"]
    assert [[e["code"] for e in r["userErrors"]] for r in results] == [[], ["INTERNAL_ERROR"], []]
    assert [len(r["afterSale"]["notes"]) for r in results] == [1, 0, 1]
    assert "integer out of range" not in response.text
    assert "integer out of range" in caplog.text


async def test_bulk_action_with_no_ids_returns_no_results(later: AppClient) -> None:
    seller = await make_seller()

    data = await later.gql(ACCEPT_RETURN_BULK, {"input": {"ids": []}}, token=seller.token)

    assert data["acceptReturnBulk"]["results"] == []


async def test_more_than_100_ids_in_one_bulk_call_are_refused_and_nothing_changes(
    later: AppClient,
) -> None:
    seller = await make_seller()
    sale_id = await make_sale(seller)
    ids = [str(sale_id)] + [str(n) for n in range(1_000_000, 1_000_100)]
    before = await _snapshot(later, seller, sale_id)

    response = await post_graphql(
        later, ACCEPT_RETURN_BULK, {"input": {"ids": ids}}, token=seller.token
    )

    assert response.status_code == 200
    body = response.json()
    assert "errors" not in body
    payload = body["data"]["acceptReturnBulk"]
    assert payload["results"] == []
    [error] = payload["userErrors"]
    assert error["code"] == "VALIDATION"
    assert error["field"] == ["input", "ids"]
    assert "at most 100 ids" in error["message"] and "101" in error["message"]
    assert await _snapshot(later, seller, sale_id) == before


async def test_a_note_is_added_to_each_of_several_after_sales_in_one_call(
    later: AppClient,
) -> None:
    seller = await make_seller()
    first, second = await make_sale(seller), await make_sale(seller)

    data = await later.gql(
        ADD_NOTE_BULK,
        {"input": {"ids": [str(first), str(second), "999999"], "text": "Called the buyer"}},
        token=seller.token,
    )

    results = data["addNoteBulk"]["results"]
    assert [[e["code"] for e in r["userErrors"]] for r in results] == [[], [], ["NOT_FOUND"]]
    assert [r["afterSale"]["notes"][-1]["text"] for r in results[:2]] == ["Called the buyer"] * 2
