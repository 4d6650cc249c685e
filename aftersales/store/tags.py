"""After-sales' tags (aftersales/domain/tags.py): the write side on a unit of work, the read
side (one statement for a whole page's tags) on the read handle."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from aftersales.store import rows, sql
from aftersales.store.models import AfterSaleTag
from aftersales.store.sql import Connection

TAGS_SQL = (
    'SELECT "after_sale_id","tag" FROM "after_sale_tag" WHERE "after_sale_id" IN ({ids})'
    ' ORDER BY "id"'
)


class Tags:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def keys(self, sale_id: int) -> list[str]:
        """The keys of the tags the after-sale holds."""
        found = await sql.select(
            self._conn, 'SELECT "key" FROM "after_sale_tag" WHERE "after_sale_id" = ?', [sale_id]
        )
        return [str(row[0]) for row in found]

    async def add(self, sale_id: int, tags: Sequence[tuple[str, str]]) -> None:
        """Add these `(key, tag)` pairs; a key held already keeps its first spelling."""
        if not tags:
            return
        statement, params = sql.insert(
            AfterSaleTag,
            [{"after_sale_id": sale_id, "key": key, "tag": tag} for key, tag in tags],
            tail=" ON CONFLICT DO NOTHING",
        )
        await sql.execute(self._conn, statement, params)

    async def remove(self, sale_id: int, keys: Sequence[str]) -> None:
        if not keys:
            return
        marks = ",".join("?" * len(keys))
        await sql.execute(
            self._conn,
            f'DELETE FROM "after_sale_tag" WHERE "after_sale_id" = ? AND "key" IN ({marks})',
            [sale_id, *keys],
        )


async def tags_by_sale(conn: Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for sale_id, tag in await rows.fetch_by_sale(conn, TAGS_SQL, ids):
        grouped[sale_id].append(tag)
    return grouped
