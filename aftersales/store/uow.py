"""The unit of work: one transaction, and the repositories bound to it.

    async with uow() as tx:
        sale = await tx.sales.of_seller(seller_id, sale_id)
        ...
        await tx.sales.save(sale, change, at=now, actor=Actor.SELLER, source=source)

Everything done through `tx` commits together when the block ends, or rolls back if it raises.
`tx.savepoint()` opens a nested unit whose failure undoes only its own writes; a command that
runs inside a caller's transaction (a webhook delivery and what it applies) takes that `tx` as
a parameter, so a signature says which transaction it writes in. Repositories hand out plain
records (aftersales/store/records.py), never ORM rows; no connection leaves this package.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.transactions import in_transaction

from aftersales.store.accounts import Shops
from aftersales.store.calls import Calls
from aftersales.store.deliveries import Deliveries
from aftersales.store.sales import Sales
from aftersales.store.sql import Connection
from aftersales.store.stock import Stock


class Tx:
    """The repositories of one transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.sales = Sales(conn)
        self.shops = Shops(conn)
        self.deliveries = Deliveries(conn)
        self.stock = Stock(conn)
        self.calls = Calls(conn)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[Tx]:
        """A nested unit of work: if its block raises, only its own writes are undone."""
        async with self._conn._in_transaction() as nested:
            yield Tx(nested)


@asynccontextmanager
async def uow() -> AsyncIterator[Tx]:
    """A new transaction. (Opened inside another unit of work of the same task it would be a
    savepoint of it: pass that `tx` and call `tx.savepoint()` instead, to say so.)"""
    async with in_transaction("default") as conn:
        yield Tx(conn)
