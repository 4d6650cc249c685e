"""`shops check` and the cipher rule against the stand-in TikTok over real loopback HTTP, on both
databases; and /metrics counting shops by connection state (docs/tiktok-sync.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aftersales.commands import seller as seller_commands
from aftersales.commands.seller import Decision
from aftersales.domain.model import SellerAction
from aftersales.store.models import AfterSale, Shop, TikTokCall
from aftersales.tiktok import imports
from aftersales.tiktok.check import CipherLookupFailed, check_shop, lookup_cipher
from devtools.sandbox import Fault
from tests.support.builders import (
    WINDOWS,
    make_sale,
    make_seller,
    seller_id_of,
)
from tests.support.clock import Clock
from tests.support.connected import (
    World,
    connected_world,
    credentials,
    deauthorized,
)
from tests.support.sandbox import (
    ACCESS_TOKEN,
    CIPHER,
)


@pytest.fixture
async def world(database: str, clock: Clock) -> AsyncIterator[World]:
    async for found in connected_world(database, clock):
        yield found


async def test_a_shop_without_a_cipher_does_not_sync_and_the_lookup_finds_it(
    world: World,
) -> None:
    other = await make_seller(region="ID")
    await credentials.set_credentials(
        world.vault,
        other.shop_id,
        access_token=ACCESS_TOKEN,
        refresh_token=None,
        shop_cipher=None,
        now=world.clock.now(),
    )
    other_pk = (await Shop.get(shop_id=other.shop_id)).id
    sale_id = await make_sale(other, refund=None)

    await seller_commands.decide(
        await seller_id_of(other),
        sale_id,
        Decision(SellerAction.ACCEPT_RETURN),
        now=world.clock.now(),
        windows=WINDOWS,
        push=True,
    )
    polled = await imports.poll(world.link)
    found = await lookup_cipher(world.link.client, ACCESS_TOKEN, world.seller.shop_id)

    assert await world.link.shop(other_pk) is None
    assert (await AfterSale.get(id=sale_id)).sync_status == "LOCAL_ONLY"
    assert not await TikTokCall.filter(shop_id=other_pk).exists()
    assert polled.shops == 1  # the world's shop alone
    assert found.cipher == CIPHER
    with pytest.raises(CipherLookupFailed, match="not among the shops"):
        await lookup_cipher(world.link.client, ACCESS_TOKEN, other.shop_id)
    with pytest.raises(CipherLookupFailed, match="36009004"):
        await lookup_cipher(world.link.client, "TTP_unknown-token", world.seller.shop_id)


async def _check(world: World) -> Any:
    return await check_shop(
        world.link.client,
        world.vault,
        world.seller.shop_id,
        sync_configured=True,
        now=world.clock.now(),
    )


async def test_shops_check_passes_for_a_connected_shop(world: World) -> None:
    report = await _check(world)

    assert report.ok
    assert report.lines[0].startswith(f"shop {world.seller.shop_id}: CONNECTED")
    assert [line[0] for line in report.lines[1:]] == ["✓"] * 4
    assert report.lines[-1].startswith("✓ Search Returns: shop cipher and return scope accepted")
    searches = [c for c in world.sandbox.calls if c.path.endswith("/search")]
    assert searches[-1].query["page_size"] == "10"


async def test_shops_check_names_what_tiktok_refuses(world: World) -> None:
    world.sandbox.fail("/returns/search", Fault.code(105005, "scope missing"))

    report = await _check(world)

    assert not report.ok
    assert report.lines[-1].startswith("✗ Search Returns: TikTok 105005: scope missing")


async def test_shops_check_finds_a_wrong_cipher_and_a_revoked_token(world: World) -> None:
    await credentials.set_credentials(
        None,
        world.seller.shop_id,
        access_token=None,
        refresh_token=None,
        shop_cipher="ROW_wrong",
        now=world.clock.now(),
    )
    wrong = await _check(world)
    world.sandbox.deauthorize(world.seller.shop_id, webhook=False)
    revoked = await _check(world)

    assert not wrong.ok
    assert any(line.startswith("✗ the stored shop cipher is not TikTok's") for line in wrong.lines)
    assert any(line.startswith("✗ Search Returns: TikTok 101000") for line in wrong.lines)
    assert not revoked.ok
    assert revoked.lines[1].startswith("✗ Get Authorized Shops: TikTok 36009004")


async def test_shops_check_says_when_a_shop_cannot_be_checked(world: World) -> None:
    local = await make_seller(region="ID")

    no_token = await check_shop(
        world.link.client, world.vault, local.shop_id, sync_configured=True, now=world.clock.now()
    )
    unknown = await check_shop(
        world.link.client, world.vault, "404", sync_configured=True, now=world.clock.now()
    )
    off = await check_shop(
        None, None, world.seller.shop_id, sync_configured=False, now=world.clock.now()
    )

    assert not no_token.ok and no_token.lines[-1].startswith("✗ no access token")
    assert not unknown.ok and unknown.lines == [
        "✗ no shop 404: register it with `aftersales shops add`"
    ]
    assert not off.ok and "LOCAL_ONLY (sync not configured" in off.lines[0]
    assert off.lines[-1].startswith("✗ sync not configured")


async def test_metrics_count_shops_by_connection_state(world: World) -> None:
    await make_seller(region="ID")  # local-only
    await deauthorized(world)

    response = await world.service.get("/metrics")

    lines = response.text.splitlines()
    assert 'aftersales_shops{connection="DISCONNECTED"} 1.0' in lines
    assert 'aftersales_shops{connection="LOCAL_ONLY"} 1.0' in lines
    assert 'aftersales_shops{connection="CONNECTED"} 0.0' in lines
    assert 'aftersales_shops{connection="EXPIRING"} 0.0' in lines
