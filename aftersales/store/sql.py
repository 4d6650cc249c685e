"""Small SQL helpers shared by the repositories: the dialect, placeholders, insert-or-existing,
and plain statements for the hot paths (a webhook delivery), run without building QuerySets."""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.fields.base import Field
from tortoise.models import Model

Connection = BaseDBAsyncClient
T = TypeVar("T")


def dialect(conn: Connection) -> str:
    """ "postgres" or "sqlite"."""
    return str(conn.capabilities.dialect)


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...`."""
    count = iter(range(1, sql.count("?") + 1))
    return re.sub(r"\?", lambda _: f"${next(count)}", sql)


def for_dialect(conn: Connection, sql: str) -> str:
    """`sql`, written with `?` placeholders, as `conn`'s database takes it."""
    return numbered(sql) if dialect(conn) == "postgres" else sql


@functools.cache
def _insertable(model: type[Model]) -> tuple[tuple[str, str, Field[Any]], ...]:
    """(field name, column, field) of each column an INSERT of `model` writes: the columns
    Tortoise's own INSERT writes (all but generated ones), read off the model so that a column
    added later is written too."""
    meta = model._meta
    found = []
    for name, column in meta.fields_db_projection.items():
        field = meta.fields_map[name]
        if field.generated:
            continue
        assert not getattr(field, "auto_now", False), f"{name}: auto_now is not supported"
        assert not getattr(field, "auto_now_add", False), f"{name}: auto_now_add is not supported"
        found.append((name, column, field))
    return tuple(found)


def _default(field: Field[Any]) -> Any:
    default = field.default
    if callable(default):
        return default()
    return default.value if isinstance(default, enum.Enum) else default


def insert(
    model: type[Model], rows: Sequence[Mapping[str, Any]], *, tail: str = ""
) -> tuple[str, list[Any]]:
    """One INSERT of `rows` (by field name; a field left out gets the model's default), its
    values converted and validated by each field as Tortoise does (`to_db_value`); `tail`:
    e.g. an ON CONFLICT or RETURNING clause. Written with `?` placeholders."""
    columns = _insertable(model)
    names = {name for name, _, _ in columns}
    params: list[Any] = []
    for row in rows:
        unknown = set(row) - names
        if unknown:
            raise TypeError(f"{model.__name__} has no column {sorted(unknown)}")
        for name, _, field in columns:
            given = row[name] if name in row else _default(field)
            params.append(field.to_db_value(given, model))
    marks = "(" + ",".join("?" * len(columns)) + ")"
    listed = ",".join(f'"{column}"' for _, column, _ in columns)
    values = ",".join([marks] * len(rows))
    return f'INSERT INTO "{model._meta.db_table}" ({listed}) VALUES {values}{tail}', params


def insert_select(
    model: type[Model],
    row: Mapping[str, Any],
    *,
    source: str,
    refs: Mapping[str, str],
    tail: str = "",
) -> tuple[str, list[Any]]:
    """`INSERT ... SELECT ... FROM source` of one row (as `insert`), the fields of `refs`
    taken from `source` (e.g. `{"after_sale_id": 'a."id"'}`) instead of a parameter: a row per
    row of `source`, none when it has none. For PostgreSQL's data-modifying `WITH`, whose
    parameters here take the types of the columns they are inserted into."""
    columns = _insertable(model)
    unknown = set(row) - {name for name, _, _ in columns}
    if unknown:
        raise TypeError(f"{model.__name__} has no column {sorted(unknown)}")
    exprs = []
    params: list[Any] = []
    for name, _, field in columns:
        if name in refs:
            exprs.append(refs[name])
            continue
        exprs.append("?")
        given = row[name] if name in row else _default(field)
        params.append(field.to_db_value(given, model))
    listed = ",".join(f'"{column}"' for _, column, _ in columns)
    table = model._meta.db_table
    select = f"SELECT {','.join(exprs)} FROM {source}{tail}"
    return f'INSERT INTO "{table}" ({listed}) {select}', params


def update(model: type[Model], fields: Mapping[str, Any], where: str) -> tuple[str, list[Any]]:
    """`UPDATE ... SET` of `fields` (by field name, converted as Tortoise does), then `where`
    (with `?` placeholders, whose values the caller appends)."""
    meta = model._meta
    sets = []
    params: list[Any] = []
    for name, given in fields.items():
        field = meta.fields_map[name]
        sets.append(f'"{meta.fields_db_projection[name]}"=?')
        params.append(field.to_db_value(given, model))
    return f'UPDATE "{meta.db_table}" SET {",".join(sets)} WHERE {where}', params


async def execute(conn: Connection, sql: str, params: Sequence[Any]) -> int:
    """Run a statement written with `?` placeholders; how many rows it changed."""
    changed, _ = await conn.execute_query(for_dialect(conn, sql), list(params))
    return int(changed)


async def select(conn: Connection, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
    """Run a SELECT written with `?` placeholders; its rows, by position."""
    _, found = await conn.execute_query(for_dialect(conn, sql), list(params))
    return cast(Sequence[Sequence[Any]], found)


async def returning(conn: Connection, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Run a statement written with `?` placeholders that returns rows (a SELECT, or a write
    with RETURNING: both databases have it)."""
    return await conn.execute_query_dict(for_dialect(conn, sql), list(params))


# Opens a savepoint of the unit of work's transaction, yielding its connection: handed to the
# repositories that need one by aftersales/store/uow.py, the only code that opens transactions.
Savepoint = Callable[[], AbstractAsyncContextManager[Connection]]


async def insert_or_none(
    savepoint: Savepoint, insert: Callable[[Connection], Awaitable[T]]
) -> T | None:
    """Run `insert` in a savepoint; None when a unique constraint says the row exists already
    (a concurrent writer inserted it first). The savepoint keeps the caller's transaction
    usable after the refused insert (PostgreSQL aborts it otherwise)."""
    try:
        async with savepoint() as conn:
            return await insert(conn)
    except IntegrityError:
        return None
