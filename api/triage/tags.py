"""`addTags` / `removeTags` and their `…Bulk` forms: the seller's tags on after-sales
(aftersales/domain/tags.py), through the seller-action base in api/actions.py."""

from __future__ import annotations

from collections.abc import Awaitable

import strawberry

from aftersales.commands import tags
from api.actions import Command, SellerMutation
from api.context import Context

TAGS = "Trimmed, 1 to 50 characters each, compared case-insensitively."


@strawberry.input
class TagsInput:
    id: strawberry.ID
    tags: list[str] = strawberry.field(description=TAGS)


@strawberry.input
class BulkTagsInput:
    ids: list[strawberry.ID]
    tags: list[str] = strawberry.field(description=TAGS)


def add(ctx: Context, input: TagsInput | BulkTagsInput) -> Command[int]:
    def run(sale_id: int) -> Awaitable[int]:
        return tags.add_tags(ctx.seller_id, sale_id, input.tags)

    return run


def remove(ctx: Context, input: TagsInput | BulkTagsInput) -> Command[int]:
    def run(sale_id: int) -> Awaitable[int]:
        return tags.remove_tags(ctx.seller_id, sale_id, input.tags)

    return run


ADD_TAGS = SellerMutation(
    add,
    TagsInput,
    BulkTagsInput,
    description="Add tags to an after-sale (at most 20 on one); those it holds are kept as"
    " first written. Not a status change: no history entry, nothing sent to TikTok.",
)
REMOVE_TAGS = SellerMutation(
    remove,
    TagsInput,
    BulkTagsInput,
    description="Remove tags from an after-sale, whatever their case; a tag it does not hold"
    " is no error.",
)


@strawberry.type
class TagMutation:
    add_tags = ADD_TAGS.field()
    add_tags_bulk = ADD_TAGS.bulk_field()
    remove_tags = REMOVE_TAGS.field()
    remove_tags_bulk = REMOVE_TAGS.bulk_field()
