"""The one door into the store: a unit of work for writes, a read handle for reads.

Writes:

    async with uow() as tx:
        sale = await tx.sales.of_seller(seller_id, sale_id)
        ...
        await tx.sales.save(sale, change, at=now, actor=Actor.SELLER, source=source)

Everything done through `tx` commits together when the block ends, or rolls back if it raises.
`tx.savepoint()` opens a nested unit whose failure undoes only its own writes; a command that
runs inside a caller's transaction (a webhook delivery and what it applies) takes that `tx` as
a parameter, so a signature says which transaction it writes in.

Reads outside a transaction:

    async with reading() as r:
        page = await r.sales.list_sales(seller_id, flt, first=50, after=None)

`r` holds the read repositories only (no method of theirs writes); each statement runs on a
pooled connection and sees what was committed when it ran (no BEGIN, no snapshot across
statements: what reads several statements that must agree opens a `uow()` instead).

Nothing else in the code base opens a connection or a transaction, or runs an ORM query on the
ambient connection: `tests/unit/test_store_door.py` fails on any other call of
`connections.get`, `in_transaction`, `_in_transaction`, or of a model's manager without
`using_db`. Repositories hand out plain records (aftersales/store/records.py), never ORM rows;
no connection leaves this package. `exclusive` is the one lock held outside a transaction (a
sweep's, for as long as the sweep runs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import connections
from tortoise.exceptions import ConfigurationError
from tortoise.transactions import in_transaction

from aftersales.store.accounts import ShopReads, Shops
from aftersales.store.calls import Calls, Polls
from aftersales.store.connections import ConnectionReads, Connections
from aftersales.store.counts import Counts
from aftersales.store.credentials import CredentialReads, Credentials
from aftersales.store.db import DatabaseUnavailable
from aftersales.store.deliveries import Deliveries, DeliveryReads
from aftersales.store.install import Install
from aftersales.store.jobruns import JobReads, Jobs
from aftersales.store.oauth import OAuthStates
from aftersales.store.queries import SaleReads
from aftersales.store.readiness import Health
from aftersales.store.rematches import Rematches
from aftersales.store.rules import RuleReads, Rules
from aftersales.store.sales import Sales
from aftersales.store.sql import Connection, dialect
from aftersales.store.stats import StatsReads
from aftersales.store.stock import Stock, StockReads
from aftersales.store.sweeps import Sweeps
from aftersales.store.tags import Tags

DEFAULT = "default"  # the one connection pool (aftersales/store/db.py)


class Tx:
    """The repositories of one transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        savepoint = conn._in_transaction  # handed to the repositories that insert-or-skip
        self.sales = Sales(conn)
        self.shops = Shops(conn)
        self.deliveries = Deliveries(conn, savepoint)
        self.stock = Stock(conn, savepoint)
        self.calls = Calls(conn)
        self.polls = Polls(conn)
        self.credentials = Credentials(conn)
        self.authorizations = Connections(conn)
        self.jobs = Jobs(conn)
        self.counts = Counts(conn)
        self.sweeps = Sweeps(conn)
        self.install = Install(conn)  # this installation's id (idempotency keys)
        self.oauth = OAuthStates(conn)  # the states of OAuth authorizations (connecting a shop)
        self.tags = Tags(conn)  # the seller's tags on after-sales
        self.rules = Rules(conn)  # sellers' rules, and the after-sale's evaluation mark

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[Tx]:
        """A nested unit of work: if its block raises, only its own writes are undone."""
        async with self._conn._in_transaction() as nested:
            yield Tx(nested)


@asynccontextmanager
async def uow() -> AsyncIterator[Tx]:
    """A new transaction. (Opened inside another unit of work of the same task it would be a
    savepoint of it: pass that `tx` and call `tx.savepoint()` instead, to say so.)"""
    async with in_transaction(DEFAULT) as conn:
        yield Tx(conn)


class Reader:
    """The read repositories, outside any transaction."""

    def __init__(self, conn: Connection) -> None:
        self.sales = SaleReads(conn)  # pages, one after-sale, status counts, nested lists
        self.shops = ShopReads(conn)  # a token's seller, a seller's shops, the shops overview
        self.stock = StockReads(conn)  # warehouses, inventory
        self.credentials = CredentialReads(conn)  # shops' credentials (decrypted) and statuses
        self.authorizations = ConnectionReads(conn)  # what each shop's connection state comes from
        self.deliveries = DeliveryReads(conn)  # deliveries waiting for a shop or a replay
        self.rematches = Rematches(conn)  # parcel events a race left unmatched
        self.jobs = JobReads(conn)  # the timer jobs' last runs
        self.readiness = Health(conn)  # GET /readyz's check
        self.rules = RuleReads(conn)  # a seller's rules
        self.stats = StatsReads(conn)  # afterSaleStats


@asynccontextmanager
async def reading() -> AsyncIterator[Reader]:
    """The read handle (see the module's docstring). `DatabaseUnavailable` when the database
    is not connected (before `db.connect`, after `db.close`)."""
    try:
        conn = connections.get(DEFAULT)
    except ConfigurationError as exc:
        raise DatabaseUnavailable(f"not connected to the database: {exc}") from None
    yield Reader(conn)


@asynccontextmanager
async def exclusive(lock_key: int) -> AsyncIterator[bool]:
    """Yield True if this process holds `lock_key` now, False if another one does.

    On PostgreSQL, a session-level advisory lock held on one pooled connection for the whole
    block: replicas skip a run rather than queue behind each other, and a crashed holder's lock
    goes with its connection. The block's own units of work run on other connections (the lock
    saves work, it is not what makes their writes safe). SQLite serialises writers itself, so
    there it always yields True.
    """
    client = connections.get(DEFAULT)
    if dialect(client) != "postgres":
        yield True
        return
    async with client.acquire_connection() as raw:
        acquired = bool(await raw.fetchval("SELECT pg_try_advisory_lock($1)", lock_key))
        try:
            yield acquired
        finally:
            if acquired:
                await raw.execute("SELECT pg_advisory_unlock($1)", lock_key)
