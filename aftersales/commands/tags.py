"""addTags / removeTags: a seller's tags on one after-sale, each call one unit of work.

The after-sale's row is locked while its tags change, so two calls on it at once cannot pass
the limit of tags between them. No history entry: a tag is not a status change (and not
TikTok's business: nothing is pushed)."""

from __future__ import annotations

from collections.abc import Sequence

from aftersales.commands.seller import load
from aftersales.domain import tags as rules
from aftersales.store.uow import uow


async def add_tags(seller_id: int, sale_id: int, tags: Sequence[str]) -> int:
    """Add these tags (those held already are kept as first written); the after-sale's id."""
    cleaned = rules.clean(tags)
    async with uow() as tx:
        sale = await load(tx, seller_id, sale_id, lock=True)
        held = await tx.tags.keys(sale.id)
        rules.check_room(held, [key for key, _ in cleaned])
        await tx.tags.add(sale.id, [pair for pair in cleaned if pair[0] not in held])
        return sale.id


async def remove_tags(seller_id: int, sale_id: int, tags: Sequence[str]) -> int:
    """Remove these tags, whatever their case; a tag the after-sale does not hold is no error."""
    cleaned = rules.clean(tags)
    async with uow() as tx:
        sale = await load(tx, seller_id, sale_id, lock=True)
        await tx.tags.remove(sale.id, [key for key, _ in cleaned])
        return sale.id
