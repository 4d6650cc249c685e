"""API tokens you can manage (docs/configuration.md): named, expiring, listed, revoked; refused
once revoked or expired; their last use recorded without a write per request."""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest

from aftersales.commands import accounts
from aftersales.commands.accounts import LAST_USED_RESOLUTION
from aftersales.domain.errors import Invalid, NotFound
from aftersales.store.accounts import TokenRecord
from aftersales.store.models import ApiToken, Seller, Shop
from tests.perf.counting import statements as counting
from tests.support.builders import make_seller
from tests.support.clock import T0


async def test_a_token_is_named_expires_and_is_listed_without_its_secret(database: str) -> None:
    seller = await make_seller(name="acme")

    new = await accounts.issue_token("acme", name="  erp-sync ", expires_at=T0 + timedelta(days=30))
    tokens = await accounts.list_tokens("acme")

    assert [t.id for t in tokens] == [tokens[0].id, new.record.id]  # oldest first
    listed = tokens[-1]
    assert listed == new.record
    assert (listed.seller, listed.name, listed.expires_at) == (
        "acme",
        "erp-sync",
        T0 + timedelta(30),
    )
    assert (listed.last_used_at, listed.revoked_at) == (None, None)
    assert tokens[0].name is None and tokens[0].expires_at is None  # make_seller's token
    shown = " ".join(str(getattr(t, f.name)) for t in tokens for f in fields(TokenRecord))
    for secret in (new.token, seller.token, accounts.hash_token(new.token)):
        assert secret not in shown


async def test_a_token_works_until_it_expires(database: str) -> None:
    await make_seller(name="acme")
    new = await accounts.issue_token("acme", expires_at=T0 + timedelta(hours=12))

    assert await accounts.authenticate(new.token, now=T0) is not None
    assert await accounts.authenticate(new.token, now=T0 + timedelta(hours=12, seconds=-1))
    assert await accounts.authenticate(new.token, now=T0 + timedelta(hours=12)) is None
    assert await accounts.authenticate(new.token, now=T0 + timedelta(days=1)) is None


async def test_a_revoked_token_is_refused_and_revoking_again_changes_nothing(
    database: str,
) -> None:
    await make_seller(name="acme")
    new = await accounts.issue_token("acme", name="laptop")
    assert await accounts.authenticate(new.token, now=T0) is not None

    first, revoked = await accounts.revoke_token(new.record.id, now=T0 + timedelta(minutes=5))
    again, revoked_again = await accounts.revoke_token(new.record.id, now=T0 + timedelta(hours=1))

    assert (revoked, revoked_again) == (True, False)
    assert first.revoked_at == again.revoked_at == T0 + timedelta(minutes=5)
    assert (again.seller, again.name) == ("acme", "laptop")
    assert await accounts.authenticate(new.token, now=T0 + timedelta(minutes=6)) is None


@pytest.mark.parametrize("token_id", [0, -1, 999_999, 2**31, 2**63])
async def test_revoking_an_unknown_token_is_not_found(database: str, token_id: int) -> None:
    with pytest.raises(NotFound, match=f"no API token with id {token_id}"):
        await accounts.revoke_token(token_id, now=T0)


async def test_the_last_use_is_recorded_at_most_once_a_minute(database: str) -> None:
    await make_seller(name="acme")
    token = (await accounts.issue_token("acme")).token

    async def last_used() -> object:
        return (await ApiToken.get(token_hash=accounts.hash_token(token))).last_used_at

    assert await last_used() is None
    await accounts.authenticate(token, now=T0)
    assert await last_used() == T0
    for seconds in (1, 30, 59):  # within the minute: read, never written
        await accounts.authenticate(token, now=T0 + timedelta(seconds=seconds))
        assert await last_used() == T0
    await accounts.authenticate(token, now=T0 + LAST_USED_RESOLUTION)
    assert await last_used() == T0 + LAST_USED_RESOLUTION
    # A request with an older clock (another replica) never moves it backwards.
    await accounts.authenticate(token, now=T0 + timedelta(seconds=30))
    assert await last_used() == T0 + LAST_USED_RESOLUTION


async def test_a_burst_of_requests_writes_the_token_once(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_seller(name="acme")
    token = (await accounts.issue_token("acme")).token
    with counting() as statements:  # every statement, in or out of a transaction
        for n in range(50):
            assert await accounts.authenticate(token, now=T0 + timedelta(milliseconds=100 * n))

    writes = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(writes) == 1, writes


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: accounts.issue_token("s" * 201), "the seller name is 201 characters long"),
        (lambda: accounts.issue_token("acme", name="n" * 101), "the token name is 101"),
        (lambda: accounts.list_tokens("s" * 300), "the seller name is 300 characters long"),
        (lambda: accounts.add_shop("s" * 201, "1", "MY"), "the seller name is 201"),
        (lambda: accounts.add_shop("acme", "1", "MY", "n" * 201), "the shop name is 201"),
        (lambda: accounts.add_shop("acme", "1", "XX"), "'XX' is not an ISO 3166-1 country code"),
        (lambda: accounts.add_shop("acme", "1", "uk"), "'UK' is not an ISO 3166-1 country code"),
    ],
)
async def test_input_beyond_the_columns_or_the_iso_list_is_invalid(
    database: str, call: object, message: str
) -> None:
    with pytest.raises(Invalid, match=message):
        await call()  # type: ignore[operator]

    assert await Shop.all().count() == 0


async def test_the_longest_names_the_columns_hold_are_accepted(database: str) -> None:
    shop = await accounts.add_shop(
        "s" * accounts.MAX_SELLER_NAME, "1", "gb", "n" * accounts.MAX_SHOP_NAME
    )
    new = await accounts.issue_token("s" * 200, name="t" * accounts.MAX_TOKEN_NAME)

    assert (shop.region, shop.name) == ("GB", "n" * 200)
    assert new.record.name == "t" * 100


def test_the_limits_are_the_columns_lengths() -> None:
    def length(model: type, field: str) -> int:
        return int(model._meta.fields_map[field].max_length)  # type: ignore[attr-defined]

    assert length(Seller, "name") == accounts.MAX_SELLER_NAME
    assert length(Shop, "name") == accounts.MAX_SHOP_NAME
    assert length(Shop, "shop_cipher") == accounts.MAX_SHOP_CIPHER
    assert length(ApiToken, "name") == accounts.MAX_TOKEN_NAME


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600s", 3600), ("90m", 5400), ("12h", 43200), ("30d", 2592000), ("2w", 1209600)],
)
def test_durations(text: str, seconds: int) -> None:
    assert accounts.parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "30", "d", "1.5h", "-1d", "0s", "3651d", "1y", "30 days"])
def test_malformed_durations_are_invalid(text: str) -> None:
    with pytest.raises(Invalid):
        accounts.parse_duration(text)
