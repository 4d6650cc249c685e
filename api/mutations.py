"""Mutation resolvers: input -> command -> service -> payload. No rules live here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

import strawberry

from aftersales import domain, services
from aftersales.domain import SellerAction
from aftersales.store import queries
from api.context import Info
from api.errors import user_error
from api.queries import parse_id
from api.types import AfterSale, AfterSalePayload, BulkAfterSalePayload, BulkResult

MAX_BULK = 100


@strawberry.input
class AfterSaleIdInput:
    id: strawberry.ID


@strawberry.input
class RejectInput:
    id: strawberry.ID
    reason: str
    note: str | None = None


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


@strawberry.input
class BulkAddNoteInput:
    ids: list[strawberry.ID]
    text: str


@strawberry.input
class BulkOfferPartialRefundInput:
    ids: list[strawberry.ID]
    amount: Decimal


Command = Callable[[int], Awaitable[object]]


async def run_command(info: Info, raw_id: strawberry.ID, command: Command) -> AfterSalePayload:
    """Run one command for one id and build its payload, expected failures as userErrors."""
    seller_id = info.context.seller_id
    sale_id = parse_id(raw_id)
    if sale_id is None:
        return AfterSalePayload(
            after_sale=None,
            user_errors=[user_error(domain.NotFound("no after-sale with this id", field="id"))],
        )
    try:
        await command(sale_id)
    except domain.DomainError as exc:
        errors = [user_error(exc)]
    else:
        errors = []
    record = await queries.get_sale(seller_id, sale_id)
    return AfterSalePayload(after_sale=AfterSale.of(record) if record else None, user_errors=errors)


async def run_bulk(info: Info, ids: list[strawberry.ID], command: Command) -> BulkAfterSalePayload:
    if len(ids) > MAX_BULK:
        too_many = domain.Invalid(
            f"at most {MAX_BULK} ids per bulk call, got {len(ids)}; nothing was applied",
            field="ids",
        )
        return BulkAfterSalePayload(results=[], user_errors=[user_error(too_many)])
    results = []
    for raw_id in ids:  # one by one: each is its own transaction, as SPEC §2 asks
        payload = await run_command(info, raw_id, command)
        results.append(
            BulkResult(id=raw_id, after_sale=payload.after_sale, user_errors=payload.user_errors)
        )
    return BulkAfterSalePayload(results=results)


def action(info: Info, act: SellerAction, **kwargs: object) -> Command:
    ctx = info.context

    def run(sale_id: int) -> Awaitable[object]:
        return services.perform(
            ctx.seller_id,
            sale_id,
            services.ActionInput(act, **kwargs),  # type: ignore[arg-type]
            now=ctx.clock(),
            windows=ctx.settings.dispute_windows,
        )

    return run


def _simple(
    act: SellerAction,
) -> tuple[
    Callable[..., Awaitable[AfterSalePayload]], Callable[..., Awaitable[BulkAfterSalePayload]]
]:
    async def one(info: Info, input: AfterSaleIdInput) -> AfterSalePayload:
        return await run_command(info, input.id, action(info, act))

    async def bulk(info: Info, input: BulkIdsInput) -> BulkAfterSalePayload:
        return await run_bulk(info, input.ids, action(info, act))

    return one, bulk


def _reject(
    act: SellerAction,
) -> tuple[
    Callable[..., Awaitable[AfterSalePayload]], Callable[..., Awaitable[BulkAfterSalePayload]]
]:
    async def one(info: Info, input: RejectInput) -> AfterSalePayload:
        return await run_command(
            info, input.id, action(info, act, reason=input.reason, note=input.note)
        )

    async def bulk(info: Info, input: BulkRejectInput) -> BulkAfterSalePayload:
        return await run_bulk(
            info, input.ids, action(info, act, reason=input.reason, note=input.note)
        )

    return one, bulk


async def _offer(info: Info, input: OfferPartialRefundInput) -> AfterSalePayload:
    return await run_command(
        info, input.id, action(info, SellerAction.OFFER_PARTIAL_REFUND, amount=input.amount)
    )


async def _offer_bulk(info: Info, input: BulkOfferPartialRefundInput) -> BulkAfterSalePayload:
    return await run_bulk(
        info, input.ids, action(info, SellerAction.OFFER_PARTIAL_REFUND, amount=input.amount)
    )


def _note(info: Info, text: str) -> Command:
    ctx = info.context

    def run(sale_id: int) -> Awaitable[object]:
        return services.add_note(ctx.seller_id, sale_id, text, now=ctx.clock())

    return run


async def _add_note(info: Info, input: AddNoteInput) -> AfterSalePayload:
    return await run_command(info, input.id, _note(info, input.text))


async def _add_note_bulk(info: Info, input: BulkAddNoteInput) -> BulkAfterSalePayload:
    return await run_bulk(info, input.ids, _note(info, input.text))


_accept_return = _simple(SellerAction.ACCEPT_RETURN)
_reject_return = _reject(SellerAction.REJECT_RETURN)
_confirm_receipt = _simple(SellerAction.CONFIRM_RECEIPT)
_reject_receipt = _reject(SellerAction.REJECT_RECEIPT)
_accept_refund = _simple(SellerAction.ACCEPT_REFUND)
_reject_refund = _reject(SellerAction.REJECT_REFUND)
_accept_exchange = _simple(SellerAction.ACCEPT_EXCHANGE)
_refuse_exchange = _reject(SellerAction.REFUSE_EXCHANGE)
_issue_full_refund = _simple(SellerAction.ISSUE_FULL_REFUND)

m = strawberry.mutation


@strawberry.type
class Mutation:
    accept_return = m(
        resolver=_accept_return[0],
        description="RETURN_AND_REFUND, PENDING_REQUEST -> AWAITING_BUYER_SHIPMENT.",
    )
    accept_return_bulk = m(resolver=_accept_return[1])
    reject_return = m(
        resolver=_reject_return[0],
        description="RETURN_AND_REFUND, PENDING_REQUEST -> REJECTED; starts the dispute window.",
    )
    reject_return_bulk = m(resolver=_reject_return[1])
    offer_partial_refund = m(
        resolver=_offer,
        description="PENDING_REQUEST -> AWAITING_BUYER_RESPONSE; 0 < amount <= refundRequested.",
    )
    offer_partial_refund_bulk = m(resolver=_offer_bulk)
    confirm_receipt = m(
        resolver=_confirm_receipt[0], description="RETURN_AND_REFUND, SHIPPED_BY_BUYER -> REFUNDED."
    )
    confirm_receipt_bulk = m(resolver=_confirm_receipt[1])
    reject_receipt = m(
        resolver=_reject_receipt[0],
        description=(
            "RETURN_AND_REFUND, SHIPPED_BY_BUYER -> RECEIPT_REJECTED; starts the dispute window."
        ),
    )
    reject_receipt_bulk = m(resolver=_reject_receipt[1])
    accept_refund = m(
        resolver=_accept_refund[0], description="REFUND_ONLY, PENDING_REQUEST -> REFUNDED."
    )
    accept_refund_bulk = m(resolver=_accept_refund[1])
    reject_refund = m(
        resolver=_reject_refund[0],
        description="REFUND_ONLY, PENDING_REQUEST -> REJECTED; starts the dispute window.",
    )
    reject_refund_bulk = m(resolver=_reject_refund[1])
    accept_exchange = m(
        resolver=_accept_exchange[0],
        description="EXCHANGE (shops in ID only), PENDING_REQUEST -> EXCHANGE_ACCEPTED.",
    )
    accept_exchange_bulk = m(resolver=_accept_exchange[1])
    refuse_exchange = m(
        resolver=_refuse_exchange[0],
        description="EXCHANGE, PENDING_REQUEST -> REJECTED; starts the dispute window.",
    )
    refuse_exchange_bulk = m(resolver=_refuse_exchange[1])
    issue_full_refund = m(
        resolver=_issue_full_refund[0], description="EXCHANGE, PENDING_REQUEST -> REFUNDED."
    )
    issue_full_refund_bulk = m(resolver=_issue_full_refund[1])
    add_note = m(resolver=_add_note, description="A seller note; allowed on every after-sale.")
    add_note_bulk = m(resolver=_add_note_bulk)
