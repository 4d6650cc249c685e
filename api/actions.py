"""The base of every seller-action mutation: parse the id, run the command, map domain errors to
`userErrors`, re-read the after-sale. The bulk form is derived from the same command.

    ACCEPT_RETURN = SellerMutation(
        decide(SellerAction.ACCEPT_RETURN), AfterSaleIdInput, BulkIdsInput, description="..."
    )

    @strawberry.type
    class Mutation:
        accept_return = ACCEPT_RETURN.field()
        accept_return_bulk = ACCEPT_RETURN.bulk_field()

`build(context, input)` returns the command for one after-sale id; its result reaches the
payload builder (`payload`), so a mutation whose payload says more than the after-sale (a label,
the units moved) gets what its command returned.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import strawberry
from strawberry.types.field import StrawberryField

from aftersales.domain.errors import DomainError, Invalid, NotFound
from aftersales.store import queries
from api.context import Context, Info
from api.errors import UserError, user_error
from api.ids import parse_id
from api.sales.types import AfterSale, AfterSalePayload, BulkAfterSalePayload, BulkResult

MAX_BULK = 100

R = TypeVar("R")
I = TypeVar("I")  # noqa: E741

Command = Callable[[int], Awaitable[R]]


# input -> the command to run for one after-sale id
Build = Callable[[Context, I], Command[R]]


@dataclass(frozen=True)
class Done(Generic[R]):
    """One after-sale's run: what the command returned (None when it failed), the after-sale as
    it is now, and the errors."""

    result: R | None
    after_sale: AfterSale | None
    user_errors: list[UserError]


def default_payload(done: Done[Any]) -> AfterSalePayload:
    return AfterSalePayload(after_sale=done.after_sale, user_errors=done.user_errors)


async def run(info: Info, raw_id: strawberry.ID, command: Command[R]) -> Done[R]:
    """Run `command` for one id; expected failures become `userErrors`."""
    seller_id = info.context.seller_id
    sale_id = parse_id(raw_id)
    if sale_id is None:
        not_found = NotFound("no after-sale with this id", field="id")
        return Done(None, None, [user_error(not_found)])
    result: R | None = None
    errors: list[UserError] = []
    try:
        result = await command(sale_id)
    except DomainError as exc:
        errors = [user_error(exc)]
    record = await queries.get_sale(seller_id, sale_id)
    return Done(result, AfterSale.of(record) if record else None, errors)


async def run_bulk(
    info: Info, ids: list[strawberry.ID], command: Command[R]
) -> BulkAfterSalePayload:
    """`command` for each id on its own, each its own unit of work."""
    if len(ids) > MAX_BULK:
        too_many = Invalid(
            f"at most {MAX_BULK} ids per bulk call, got {len(ids)}; nothing was applied",
            field="ids",
        )
        return BulkAfterSalePayload(results=[], user_errors=[user_error(too_many)])
    results = []
    for raw_id in ids:
        done = await run(info, raw_id, command)
        results.append(
            BulkResult(id=raw_id, after_sale=done.after_sale, user_errors=done.user_errors)
        )
    return BulkAfterSalePayload(results=results)


class SellerMutation(Generic[I, R]):
    """A seller action on one after-sale, as a mutation and its `…Bulk` form."""

    def __init__(
        self,
        build: Build[I, R],
        input: type,
        bulk_input: type | None,
        *,
        description: str,
        payload: Callable[[Done[R]], Any] = default_payload,
        payload_type: type = AfterSalePayload,
        bulk_build: Build[I, R] | None = None,
    ) -> None:
        self.build = build
        self.input = input
        self.bulk_input = bulk_input
        self.description = description
        self.payload = payload
        self.payload_type = payload_type
        # A bulk item's command may differ from a single call's (stock-in scopes its key per id).
        self.bulk_build = bulk_build or build

    def field(self) -> StrawberryField:
        async def resolve(info: Info, input: Any) -> Any:
            done = await run(info, input.id, self.build(info.context, input))
            return self.payload(done)

        resolve.__annotations__ = {"info": Info, "input": self.input, "return": self.payload_type}
        return cast(
            StrawberryField, strawberry.mutation(resolver=resolve, description=self.description)
        )

    def bulk_field(self) -> StrawberryField:
        assert self.bulk_input is not None, "this mutation has no bulk form"

        async def resolve(info: Info, input: Any) -> BulkAfterSalePayload:
            return await run_bulk(info, input.ids, self.bulk_build(info.context, input))

        resolve.__annotations__ = {
            "info": Info,
            "input": self.bulk_input,
            "return": BulkAfterSalePayload,
        }
        return cast(StrawberryField, strawberry.mutation(resolver=resolve))
