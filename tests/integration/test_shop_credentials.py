"""TikTok credentials of shops, encrypted at rest, on SQLite and PostgreSQL
(aftersales/store/credentials.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet

from aftersales.store.credentials import CredentialsError, Vault
from aftersales.store.models import Shop
from tests.support.builders import make_seller
from tests.support.clock import T0
from tests.support.door import write

credentials = write("credentials")

ACCESS = "ROW_plain-access-token-1234567890"
REFRESH = "RFT_plain-refresh-token-0987654321"
CIPHER = "GCP_cipher_of_the_shop"
KEY = Fernet.generate_key().decode()


@pytest.fixture
def vault() -> Vault:
    return Vault([KEY])


async def _raw(shop_id: str) -> dict[str, Any]:
    rows = await Shop.filter(shop_id=shop_id).values(
        "id",
        "access_token",
        "refresh_token",
        "shop_cipher",
        "access_token_expires_at",
        "refresh_token_expires_at",
        "credentials_updated_at",
    )
    return dict(rows[0])


async def _pk(shop_id: str) -> int:
    return int((await _raw(shop_id))["id"])


async def test_set_stores_the_tokens_encrypted_and_for_shop_decrypts_them(
    database: str, vault: Vault
) -> None:
    seller = await make_seller(region="ID")
    expires = T0 + timedelta(days=7)

    found = await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token=ACCESS,
        refresh_token=REFRESH,
        shop_cipher=CIPHER,
        access_token_expires_at=expires,
        refresh_token_expires_at=T0 + timedelta(days=60),
        now=T0,
    )
    raw = await _raw(seller.shop_id)
    creds = await credentials.for_shop(vault, raw["id"])

    assert found
    assert ACCESS not in str(raw) and REFRESH not in str(raw)
    assert vault.decrypt(raw["access_token"]) == ACCESS
    assert raw["shop_cipher"] == CIPHER  # not a secret: stored as it is
    assert raw["credentials_updated_at"] == T0
    assert creds is not None
    assert (creds.shop_pk, creds.shop_id, creds.region) == (raw["id"], seller.shop_id, "ID")
    assert (creds.access_token, creds.refresh_token, creds.shop_cipher) == (
        ACCESS,
        REFRESH,
        CIPHER,
    )
    assert creds.access_token_expires_at == expires
    assert creds.access_token_expires_at.utcoffset() == timedelta(0)
    assert creds.refresh_token_expires_at == T0 + timedelta(days=60)


async def test_an_unknown_shop_is_reported_and_nothing_is_written(
    database: str, vault: Vault
) -> None:
    assert not await credentials.set_credentials(
        vault, "404", access_token=ACCESS, refresh_token=None, shop_cipher=None, now=T0
    )
    assert not await credentials.clear_credentials("404")
    assert await credentials.status_of("404") is None
    assert not await credentials.any_with_credentials()


async def test_none_keeps_what_is_stored_and_a_new_token_forgets_the_old_expiry(
    database: str, vault: Vault
) -> None:
    seller = await make_seller()
    await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token=ACCESS,
        refresh_token=REFRESH,
        shop_cipher=CIPHER,
        access_token_expires_at=T0 + timedelta(days=7),
        now=T0,
    )

    await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token="ROW_rotated",
        refresh_token=None,
        shop_cipher=None,
        now=T0 + timedelta(hours=1),
    )
    pk = await _pk(seller.shop_id)
    rotated = await credentials.for_shop(vault, pk)
    await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token=None,
        refresh_token=None,
        shop_cipher=None,
        access_token_expires_at=T0 + timedelta(days=3),
        now=T0 + timedelta(hours=2),
    )
    dated = await credentials.for_shop(vault, pk)

    assert rotated is not None and dated is not None
    assert (rotated.access_token, rotated.refresh_token, rotated.shop_cipher) == (
        "ROW_rotated",
        REFRESH,
        CIPHER,
    )
    assert rotated.access_token_expires_at is None  # the stored one was the old token's
    assert dated.access_token == "ROW_rotated"
    assert dated.access_token_expires_at == T0 + timedelta(days=3)
    assert (await _raw(seller.shop_id))["credentials_updated_at"] == T0 + timedelta(hours=2)


async def test_clear_makes_the_shop_local_only(database: str, vault: Vault) -> None:
    seller = await make_seller()
    await credentials.set_credentials(
        vault,
        seller.shop_id,
        access_token=ACCESS,
        refresh_token=REFRESH,
        shop_cipher=CIPHER,
        access_token_expires_at=T0,
        now=T0,
    )
    pk = await _pk(seller.shop_id)
    assert await credentials.for_shop(vault, pk) is not None

    cleared = await credentials.clear_credentials(seller.shop_id)

    assert cleared
    assert await credentials.for_shop(vault, pk) is None
    assert not await credentials.any_with_credentials()
    assert await credentials.syncing_shops(vault) == []
    raw = await _raw(seller.shop_id)
    assert [raw[k] for k in raw if k != "id"] == [None] * 6


async def test_a_shop_without_an_access_token_or_a_cipher_does_not_sync(
    database: str, vault: Vault
) -> None:
    cipher_only = await make_seller()
    refresh_only = await make_seller()
    token_only = await make_seller()
    syncing = await make_seller()
    await credentials.set_credentials(
        vault, token_only.shop_id, access_token=ACCESS, refresh_token=None, shop_cipher=None, now=T0
    )
    await credentials.set_credentials(
        None, cipher_only.shop_id, access_token=None, refresh_token=None, shop_cipher=CIPHER, now=T0
    )
    await credentials.set_credentials(
        vault,
        refresh_only.shop_id,
        access_token=None,
        refresh_token=REFRESH,
        shop_cipher=None,
        now=T0,
    )
    await credentials.set_credentials(
        vault, syncing.shop_id, access_token=ACCESS, refresh_token=None, shop_cipher=CIPHER, now=T0
    )

    shops = await credentials.syncing_shops(vault)
    statuses = await credentials.statuses()

    assert [s.shop_id for s in shops] == [syncing.shop_id]
    assert shops[0].refresh_token is None
    assert await credentials.for_shop(vault, await _pk(cipher_only.shop_id)) is None
    assert await credentials.for_shop(vault, await _pk(refresh_only.shop_id)) is None
    # TikTok refuses every shop call without a cipher (106013): a token alone does not sync.
    assert await credentials.for_shop(vault, await _pk(token_only.shop_id)) is None
    assert await credentials.any_with_credentials()
    by_shop = {s.shop_id: s for s in statuses.values()}
    assert (
        by_shop[cipher_only.shop_id].shop_cipher and not by_shop[cipher_only.shop_id].access_token
    )
    assert by_shop[refresh_only.shop_id].refresh_token
    assert by_shop[syncing.shop_id].access_token
    with pytest.raises(CredentialsError):  # a token needs the key
        await credentials.set_credentials(
            None, syncing.shop_id, access_token=ACCESS, refresh_token=None, shop_cipher=None, now=T0
        )


async def test_rotating_the_key_keeps_old_tokens_readable_and_writes_new_ones_with_the_new_key(
    database: str,
) -> None:
    old, new = KEY, Fernet.generate_key().decode()
    seller = await make_seller()
    await credentials.set_credentials(
        Vault([old]),
        seller.shop_id,
        access_token=ACCESS,
        refresh_token=REFRESH,
        shop_cipher=CIPHER,
        now=T0,
    )
    pk = await _pk(seller.shop_id)
    rotated = Vault([new, old])

    before = await credentials.for_shop(rotated, pk)
    await credentials.store_grant(
        rotated,
        pk,
        access_token="ROW_next",
        access_token_expires_at=T0 + timedelta(days=7),
        refresh_token="RFT_next",
        refresh_token_expires_at=T0 + timedelta(days=60),
        now=T0 + timedelta(minutes=1),
    )
    after = await credentials.for_shop(Vault([new]), pk)  # the old key is no longer needed

    assert before is not None and before.access_token == ACCESS
    assert after is not None
    assert (after.access_token, after.refresh_token) == ("ROW_next", "RFT_next")
    assert after.refresh_token_expires_at == T0 + timedelta(days=60)
    with pytest.raises(CredentialsError, match=seller.shop_id) as caught:
        await credentials.for_shop(Vault([old]), pk)
    assert "ROW_next" not in str(caught.value)


async def test_due_for_refresh_lists_the_expiring_tokens_that_can_be_refreshed(
    database: str, vault: Vault
) -> None:
    soon, later, unknown, no_refresh, cleared = [await make_seller() for _ in range(5)]
    for seller, expires, refresh in (
        (soon, T0 + timedelta(hours=1), REFRESH),
        (later, T0 + timedelta(days=6), REFRESH),
        (unknown, None, REFRESH),
        (no_refresh, T0 + timedelta(minutes=5), None),
        (cleared, T0, REFRESH),
    ):
        await credentials.set_credentials(
            vault,
            seller.shop_id,
            access_token=ACCESS,
            refresh_token=refresh,
            shop_cipher=CIPHER,
            access_token_expires_at=expires,
            now=T0,
        )
    await credentials.clear_credentials(cleared.shop_id)

    due = await credentials.due_for_refresh(vault, before=T0 + timedelta(days=1))

    assert [c.shop_id for c in due] == [unknown.shop_id, soon.shop_id]
    assert all(c.refresh_token == REFRESH and c.access_token == ACCESS for c in due)
    everything = await credentials.due_for_refresh(vault, before=T0 + timedelta(days=7))
    assert [c.shop_id for c in everything] == [unknown.shop_id, soon.shop_id, later.shop_id]
