"""The seller's decisions and notes, as mutations and their `…Bulk` forms (docs/graphql.md).

Resolvers are thin: input -> command -> payload, through the base in api/actions.py.
"""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

import strawberry

from aftersales.commands import seller
from aftersales.domain.model import SellerAction
from api.actions import Build, Command, SellerMutation
from api.context import Context


@strawberry.input
class AfterSaleIdInput:
    id: strawberry.ID


REASON_CODE = (
    "TikTok's reject reason: a `code` from rejectReasons(id). Required when the shop syncs with"
    " TikTok; `reason` is then sent as the comment."
)


@strawberry.input
class RejectInput:
    id: strawberry.ID
    reason: str
    note: str | None = None
    reason_code: str | None = strawberry.field(default=None, description=REASON_CODE)


@strawberry.input
class OfferPartialRefundInput:
    id: strawberry.ID
    amount: Decimal


@strawberry.input
class AddNoteInput:
    id: strawberry.ID
    text: str


@strawberry.input
class BulkIdsInput:
    ids: list[strawberry.ID]


@strawberry.input
class BulkRejectInput:
    ids: list[strawberry.ID]
    reason: str
    note: str | None = None
    reason_code: str | None = strawberry.field(default=None, description=REASON_CODE)


@strawberry.input
class BulkAddNoteInput:
    ids: list[strawberry.ID]
    text: str


@strawberry.input
class BulkOfferPartialRefundInput:
    ids: list[strawberry.ID]
    amount: Decimal


def decide(action: SellerAction) -> Build[Any, int]:
    """The command of a status-changing action; the input's reason, note and amount go with it."""

    def build(ctx: Context, input: object) -> Command[int]:
        decision = seller.Decision(
            action,
            reason=getattr(input, "reason", None),
            note=getattr(input, "note", None),
            amount=getattr(input, "amount", None),
            reason_code=getattr(input, "reason_code", None),
        )

        def run(sale_id: int) -> Awaitable[int]:
            return seller.decide(
                ctx.seller_id,
                sale_id,
                decision,
                now=ctx.clock(),
                windows=ctx.settings.dispute_windows,
                push=ctx.link is not None,
            )

        return run

    return build


def add_note(ctx: Context, input: AddNoteInput | BulkAddNoteInput) -> Command[int]:
    def run(sale_id: int) -> Awaitable[int]:
        return seller.add_note(ctx.seller_id, sale_id, input.text, now=ctx.clock())

    return run


A = SellerAction
ACCEPT_RETURN = SellerMutation(
    decide(A.ACCEPT_RETURN),
    AfterSaleIdInput,
    BulkIdsInput,
    description="RETURN_AND_REFUND, PENDING_REQUEST -> AWAITING_BUYER_SHIPMENT.",
)
REJECT_RETURN = SellerMutation(
    decide(A.REJECT_RETURN),
    RejectInput,
    BulkRejectInput,
    description="RETURN_AND_REFUND, PENDING_REQUEST -> REJECTED; starts the dispute window.",
)
OFFER_PARTIAL_REFUND = SellerMutation(
    decide(A.OFFER_PARTIAL_REFUND),
    OfferPartialRefundInput,
    BulkOfferPartialRefundInput,
    description="PENDING_REQUEST -> AWAITING_BUYER_RESPONSE; 0 < amount <= refundRequested.",
)
CONFIRM_RECEIPT = SellerMutation(
    decide(A.CONFIRM_RECEIPT),
    AfterSaleIdInput,
    BulkIdsInput,
    description="RETURN_AND_REFUND, SHIPPED_BY_BUYER -> REFUNDED.",
)
REJECT_RECEIPT = SellerMutation(
    decide(A.REJECT_RECEIPT),
    RejectInput,
    BulkRejectInput,
    description=(
        "RETURN_AND_REFUND, SHIPPED_BY_BUYER -> RECEIPT_REJECTED; starts the dispute window."
    ),
)
ACCEPT_REFUND = SellerMutation(
    decide(A.ACCEPT_REFUND),
    AfterSaleIdInput,
    BulkIdsInput,
    description="REFUND_ONLY, PENDING_REQUEST -> REFUNDED.",
)
REJECT_REFUND = SellerMutation(
    decide(A.REJECT_REFUND),
    RejectInput,
    BulkRejectInput,
    description="REFUND_ONLY, PENDING_REQUEST -> REJECTED; starts the dispute window.",
)
ACCEPT_EXCHANGE = SellerMutation(
    decide(A.ACCEPT_EXCHANGE),
    AfterSaleIdInput,
    BulkIdsInput,
    description="EXCHANGE, PENDING_REQUEST -> EXCHANGE_ACCEPTED.",
)
REFUSE_EXCHANGE = SellerMutation(
    decide(A.REFUSE_EXCHANGE),
    RejectInput,
    BulkRejectInput,
    description="EXCHANGE, PENDING_REQUEST -> REJECTED; starts the dispute window.",
)
ISSUE_FULL_REFUND = SellerMutation(
    decide(A.ISSUE_FULL_REFUND),
    AfterSaleIdInput,
    BulkIdsInput,
    description="EXCHANGE, PENDING_REQUEST -> REFUNDED.",
)
APPROVE_CANCELLATION = SellerMutation(
    decide(A.APPROVE_CANCELLATION),
    AfterSaleIdInput,
    BulkIdsInput,
    description="CANCELLATION, PENDING_REQUEST -> REFUNDED; the order must not ship.",
)
REJECT_CANCELLATION = SellerMutation(
    decide(A.REJECT_CANCELLATION),
    RejectInput,
    BulkRejectInput,
    description=(
        "CANCELLATION, PENDING_REQUEST -> REJECTED, final (no dispute window);"
        " REGION_NOT_SUPPORTED for US shops."
    ),
)
ADD_NOTE = SellerMutation(
    add_note,
    AddNoteInput,
    BulkAddNoteInput,
    description="A seller note; allowed on every after-sale.",
)


@strawberry.type
class SaleMutation:
    accept_return = ACCEPT_RETURN.field()
    accept_return_bulk = ACCEPT_RETURN.bulk_field()
    reject_return = REJECT_RETURN.field()
    reject_return_bulk = REJECT_RETURN.bulk_field()
    offer_partial_refund = OFFER_PARTIAL_REFUND.field()
    offer_partial_refund_bulk = OFFER_PARTIAL_REFUND.bulk_field()
    confirm_receipt = CONFIRM_RECEIPT.field()
    confirm_receipt_bulk = CONFIRM_RECEIPT.bulk_field()
    reject_receipt = REJECT_RECEIPT.field()
    reject_receipt_bulk = REJECT_RECEIPT.bulk_field()
    accept_refund = ACCEPT_REFUND.field()
    accept_refund_bulk = ACCEPT_REFUND.bulk_field()
    reject_refund = REJECT_REFUND.field()
    reject_refund_bulk = REJECT_REFUND.bulk_field()
    accept_exchange = ACCEPT_EXCHANGE.field()
    accept_exchange_bulk = ACCEPT_EXCHANGE.bulk_field()
    refuse_exchange = REFUSE_EXCHANGE.field()
    refuse_exchange_bulk = REFUSE_EXCHANGE.bulk_field()
    issue_full_refund = ISSUE_FULL_REFUND.field()
    issue_full_refund_bulk = ISSUE_FULL_REFUND.bulk_field()
    approve_cancellation = APPROVE_CANCELLATION.field()
    approve_cancellation_bulk = APPROVE_CANCELLATION.bulk_field()
    reject_cancellation = REJECT_CANCELLATION.field()
    reject_cancellation_bulk = REJECT_CANCELLATION.bulk_field()
    add_note = ADD_NOTE.field()
    add_note_bulk = ADD_NOTE.bulk_field()
