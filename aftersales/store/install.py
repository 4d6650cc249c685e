"""This installation's id: random, made once on first use and kept in the database (the
one-row `install` table), so that it survives restarts and is shared by every replica, and a
new database (another install, or this one after a reset) gets a new one.

Made race-free across replicas: each inserts its candidate with ON CONFLICT DO NOTHING, then
all read the one row that won.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from aftersales.store.sql import Connection, dialect, numbered

_READ = "SELECT install_id FROM install WHERE id = 1"
_MAKE = (
    "INSERT INTO install (id, install_id, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING"
)


def new_install_id() -> str:
    """16 URL-safe characters (96 random bits); never '-', which separates a key's parts."""
    return secrets.token_urlsafe(12).replace("-", "_")


class Install:
    """The install id in a unit of work."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def install_id(self, *, now: datetime) -> str:
        """The id, made now if this database has none yet."""
        found = await self._conn.execute_query_dict(_READ)
        if found:
            return str(found[0]["install_id"])
        made: object = now.astimezone(UTC)
        if dialect(self._conn) == "postgres":
            sql = numbered(_MAKE)
        else:  # stored as Tortoise stores times on SQLite: ISO text
            sql, made = _MAKE, now.astimezone(UTC).isoformat()
        await self._conn.execute_query(sql, [new_install_id(), made])
        found = await self._conn.execute_query_dict(_READ)
        return str(found[0]["install_id"])
