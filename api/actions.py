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

A bulk call applies each distinct after-sale once (`distinct_ids`), each in its own unit of work,
and answers for each one: an unexpected failure of one id (a bug, the database) is logged and
becomes that id's `INTERNAL_ERROR` entry, never a top-level error that would hide which ids were
applied.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import strawberry
from strawberry.types.field import StrawberryField

from aftersales.domain.errors import DomainError, Invalid, NotFound
from aftersales.store.uow import reading
from api.context import Context, Info
from api.errors import AfterSaleErrorCode, UserError, user_error
from api.ids import parse_id
from api.sales.types import AfterSale, AfterSalePayload, BulkAfterSalePayload, BulkResult

log = logging.getLogger("aftersales.graphql")

MAX_BULK = 100
INTERNAL = "Internal error; it has been logged."

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


async def run(
    info: Info, raw_id: strawberry.ID, command: Command[R], *, contain: bool = False
) -> Done[R]:
    """Run `command` for one id; expected failures become `userErrors`. With `contain` (a bulk
    call's item), so do unexpected ones: logged, as `INTERNAL_ERROR`."""
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
    except Exception:
        if not contain:
            raise
        # The command's unit of work rolled back: nothing of it was applied.
        log.exception("unexpected error applying a bulk call to after-sale %s", sale_id)
        errors = [_internal(f"{INTERNAL} Nothing was applied to this after-sale.")]
    try:
        async with reading() as r:
            record = await r.sales.get_sale(seller_id, sale_id)
    except Exception:
        if not contain:
            raise
        log.exception("unexpected error reading after-sale %s back in a bulk call", sale_id)
        unread = _internal(f"{INTERNAL} The action was applied; the after-sale was not read back.")
        return Done(result, None, errors or [unread])
    return Done(result, AfterSale.of(record) if record else None, errors)


def _internal(message: str) -> UserError:
    return UserError(code=AfterSaleErrorCode.INTERNAL_ERROR, field=None, message=message)


def distinct_ids(ids: Sequence[strawberry.ID]) -> list[strawberry.ID]:
    """Each after-sale once, in the order first given, as first written: ids that name the same
    after-sale ("109", " 109", "0109") are one; text that is no id is compared trimmed."""
    seen: set[int | str] = set()
    distinct = []
    for raw_id in ids:
        sale_id = parse_id(raw_id)
        key: int | str = sale_id if sale_id is not None else str(raw_id).strip()
        if key not in seen:
            seen.add(key)
            distinct.append(raw_id)
    return distinct


async def run_bulk(
    info: Info, ids: list[strawberry.ID], command: Command[R]
) -> BulkAfterSalePayload:
    """`command` for each distinct id on its own, each its own unit of work; one result per
    distinct id, in the order first given."""
    if len(ids) > MAX_BULK:
        too_many = Invalid(
            f"at most {MAX_BULK} ids per bulk call, got {len(ids)}; nothing was applied",
            field="ids",
        )
        return BulkAfterSalePayload(results=[], user_errors=[user_error(too_many)])
    results = []
    for raw_id in distinct_ids(ids):
        done = await run(info, raw_id, command, contain=True)
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
