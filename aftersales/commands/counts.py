"""The per-status counts (`afterSaleCounts`), and folding the rows that keep them
(aftersales/store/counts.py says why they pile up)."""

from __future__ import annotations

from aftersales.domain.model import AfterSaleStatus, AfterSaleType
from aftersales.store.counts import FOLD_BATCH, StatusCounts
from aftersales.store.uow import reading, uow


async def count_by_status(
    seller_id: int, type_: AfterSaleType, shop_id: str | None
) -> dict[AfterSaleStatus | None, int]:
    """How many of the seller's after-sales of `type_` are in each status (optionally of one
    shop); statuses with none are left out."""
    return (await status_counts(seller_id, type_, shop_id)).by_status


async def status_counts(seller_id: int, type_: AfterSaleType, shop_id: str | None) -> StatusCounts:
    """The counts by status, and how many of each have their last decision FAILED
    (`afterSaleCounts { syncFailed }`), in one statement. Folds the counts table when this
    read found it piled up, so the next read is cheap again."""
    async with reading() as r:
        counts = await r.sales.count_by_status(seller_id, type_, shop_id)
    if counts.untidy:
        await fold()
    return counts


async def fold(*, batch: int = FOLD_BATCH) -> int:
    """Fold the whole counts table, `batch` rows per transaction; how many rows were folded."""
    folded = 0
    while True:
        async with uow() as tx:
            done = await tx.counts.fold_batch(batch)
        folded += done
        if done < batch:
            return folded
