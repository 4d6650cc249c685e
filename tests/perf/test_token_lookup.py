"""The token's lookup is written out (aftersales/store/accounts.py, `_TOKEN`): it reads what
Tortoise's query builder read, with the same times, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aftersales.store.accounts import TokenUse
from aftersales.store.models import ApiToken
from tests.support.builders import make_seller, seller_id_of
from tests.support.door import read

AT = datetime(2026, 12, 7, 23, 0, 0, 123456, tzinfo=UTC)


async def _built(token_hash: str) -> TokenUse | None:
    found = await ApiToken.filter(token_hash=token_hash, revoked_at=None).values(
        "id", "seller_id", "expires_at", "last_used_at"
    )
    if not found:
        return None
    row = found[0]
    return TokenUse(row["id"], row["seller_id"], row["expires_at"], row["last_used_at"])


@pytest.mark.usefixtures("database")
async def test_the_written_out_token_lookup_reads_what_the_query_builder_read() -> None:
    seller_id = await seller_id_of(await make_seller())
    rows = {
        "plain": {},
        "expiring, used": {"expires_at": AT + timedelta(days=1), "last_used_at": AT},
        "expired": {"expires_at": AT - timedelta(seconds=1)},
        "revoked": {"revoked_at": AT},
    }
    for name, fields in rows.items():
        await ApiToken.create(seller_id=seller_id, token_hash=name.ljust(64, "x"), **fields)

    for name in [*rows, "unknown"]:
        token_hash = name.ljust(64, "x")
        found = await read("shops").token(token_hash)
        assert found == await _built(token_hash), name
        assert (found is None) == (name in ("revoked", "unknown")), name
    used = await read("shops").token("expiring, used".ljust(64, "x"))
    assert used.last_used_at == AT and used.expires_at == AT + timedelta(days=1)
