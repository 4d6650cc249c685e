"""`aftersales shops add | credentials | check | list` through the real console script against the
stand-in TikTok on loopback: a token given without its cipher has the cipher looked up (or is
refused, nothing stored), `shops check` says line by line what works, and `shops list` shows the
connection state."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from devtools.sandbox import Fault, Sandbox
from tests.e2e.test_cli import CLEARED
from tests.e2e.test_cli_sync import aftersales
from tests.support.sandbox import ACCESS_TOKEN, APP_KEY, APP_SECRET, CIPHER, REFRESH_TOKEN, serving

pytestmark = pytest.mark.live  # the `aftersales` command runs as a process

SHOP = "7494049642642441621"
STRANGER = "7000000000000000001"


def _env(tmp_path: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    return env | {
        "DATABASE_URL": f"sqlite://{tmp_path / 'conn.sqlite3'}",
        "TIKTOK_APP_KEY": APP_KEY,
        "TIKTOK_APP_SECRET": APP_SECRET,
        "LOGISTICS_WEBHOOK_SECRET": "cli-conn-logistics-secret",
        "AFTERSALES_SECRET_KEY": Fernet.generate_key().decode(),
        "TIKTOK_API_BASE_URL": base_url,
        "TIKTOK_AUTH_BASE_URL": base_url,
    }


def _stored(tmp_path: Path, shop_id: str) -> tuple[object, object] | None:
    with sqlite3.connect(tmp_path / "conn.sqlite3") as conn:
        row = conn.execute(
            "SELECT access_token, shop_cipher FROM shop WHERE shop_id = ?", (shop_id,)
        ).fetchone()
    return None if row is None else (row[0], row[1])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_token_without_its_cipher_has_it_looked_up_or_is_refused(tmp_path: Path) -> None:
    sandbox = Sandbox(APP_KEY, APP_SECRET)
    sandbox.add_shop(SHOP, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN)
    async with serving(sandbox.app) as base_url:
        env = _env(tmp_path, base_url)
        add = ("shops", "add", "--seller", "acme", "--region", "ID")
        stranger = await aftersales(
            tmp_path, env, *add, "--shop-id", STRANGER, "--access-token", ACCESS_TOKEN
        )
        added = await aftersales(
            tmp_path, env, *add, "--shop-id", SHOP, "--access-token", ACCESS_TOKEN
        )
        await aftersales(tmp_path, env, *add, "--shop-id", STRANGER)
        unreachable = await aftersales(
            tmp_path,
            env | {"TIKTOK_API_BASE_URL": f"http://127.0.0.1:{_closed_port()}"},
            "shops", "credentials", "--shop-id", STRANGER, "--access-token", ACCESS_TOKEN,
        )  # fmt: skip
        listed = await aftersales(tmp_path, env, "shops", "list")

    code, out, err = stranger
    assert code == 1 and f"shop {STRANGER} is not among the shops" in err, err
    assert "nothing stored" in err
    code, out, err = added
    assert code == 0, err
    assert f"shop cipher of shop {SHOP} looked up from TikTok's Get Authorized Shops" in out
    stored = _stored(tmp_path, SHOP)
    assert stored is not None and stored[1] == CIPHER
    code, out, err = unreachable
    assert code == 1 and "Get Authorized Shops failed" in err, err
    assert _stored(tmp_path, STRANGER) == (None, None)  # registered plain, no token stored
    code, out, err = listed
    assert code == 0, err
    header, *rows = out.splitlines()
    assert "CONNECTION" in header
    [shop_row] = [row for row in rows if row.startswith(SHOP)]
    assert " CONNECTED " in shop_row
    [stranger_row] = [row for row in rows if row.startswith(STRANGER)]
    assert {"local-only", "LOCAL_ONLY"} <= set(stranger_row.split())
    # A shop without credentials needs no "why": the TIKTOK column says it.
    assert f"shop {STRANGER}:" not in out


async def test_shops_check_exits_0_only_when_every_call_passes(tmp_path: Path) -> None:
    sandbox = Sandbox(APP_KEY, APP_SECRET)
    sandbox.add_shop(SHOP, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN)
    async with serving(sandbox.app) as base_url:
        env = _env(tmp_path, base_url)
        await aftersales(
            tmp_path, env, "shops", "add", "--seller", "acme", "--region", "ID",
            "--shop-id", SHOP, "--access-token", ACCESS_TOKEN, "--shop-cipher", CIPHER,
        )  # fmt: skip
        passing = await aftersales(tmp_path, env, "shops", "check", "--shop-id", SHOP)
        sandbox.fail("/returns/search", Fault.code(105005, "scope missing"))
        failing = await aftersales(tmp_path, env, "shops", "check", "--shop-id", SHOP)
        unknown = await aftersales(tmp_path, env, "shops", "check", "--shop-id", "404")

    code, out, err = passing
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith(f"shop {SHOP}: CONNECTED")
    assert "✓ Get Authorized Shops: app key, access token and clock accepted (1 shops)" in lines
    assert "✓ shop cipher matches TikTok's" in lines
    assert lines[-1] == "✓ Search Returns: shop cipher and return scope accepted (0 returns)"
    code, out, err = failing
    assert code == 1
    assert out.splitlines()[-1].startswith("✗ Search Returns: TikTok 105005: scope missing")
    code, out, err = unknown
    assert code == 1 and "✗ no shop 404" in out
