"""`aftersales sync` through the real console script against the stand-in TikTok API on
loopback: a shop's history imported page by page, and clear errors when it cannot sync."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from devtools.sandbox import Sandbox
from tests.e2e.test_cli import AFTERSALES, CLEARED
from tests.support.sandbox import ACCESS_TOKEN, APP_KEY, APP_SECRET, CIPHER, REFRESH_TOKEN, serving

pytestmark = pytest.mark.live  # the `aftersales` command runs as a process

SHOP = "7494049642642441621"


async def aftersales(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """The console script, run while this loop keeps serving the stand-in."""
    assert AFTERSALES
    process = await asyncio.create_subprocess_exec(
        AFTERSALES,
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_sync_imports_a_shops_history_with_paging(tmp_path: Path) -> None:
    sandbox = Sandbox(APP_KEY, APP_SECRET)
    sandbox.add_shop(SHOP, cipher=CIPHER, access_token=ACCESS_TOKEN, refresh_token=REFRESH_TOKEN)
    for _ in range(60):
        sandbox.put_return(SHOP, {"return_type": "REFUND"})
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env |= {
        "DATABASE_URL": f"sqlite://{tmp_path / 'sync.sqlite3'}",
        "TIKTOK_APP_KEY": APP_KEY,
        "TIKTOK_APP_SECRET": APP_SECRET,
        "LOGISTICS_WEBHOOK_SECRET": "cli-sync-logistics-secret",
    }
    async with serving(sandbox.app) as base_url:
        code, out, err = await aftersales(tmp_path, env, "sync", "--shop-id", SHOP)
        assert code == 1 and "TIKTOK_API_BASE_URL" in err  # local-only: says how to turn it on
        env |= {"TIKTOK_API_BASE_URL": base_url, "TIKTOK_AUTH_BASE_URL": base_url}
        code, out, err = await aftersales(
            tmp_path, env, "shops", "add", "--seller", "acme", "--shop-id", SHOP, "--region", "ID"
        )
        assert code == 0, err
        code, out, err = await aftersales(tmp_path, env, "sync", "--shop-id", SHOP)
        assert code == 1 and "no TikTok credentials" in err
        code, out, err = await aftersales(
            tmp_path, env, "shops", "credentials", "--shop-id", SHOP,
            "--access-token", ACCESS_TOKEN, "--refresh-token", REFRESH_TOKEN,
            "--shop-cipher", CIPHER,
        )  # fmt: skip
        assert code == 0, err
        # (A date outside the years 1970-9999 is refused by the argument's own type, with the
        # usage: tests/e2e/test_cli_faults.py.)
        for since, says in [("2999-01-01", "in the future")]:
            code, out, err = await aftersales(
                tmp_path, env, "sync", "--shop-id", SHOP, "--since", since
            )
            assert (code, err.count("\n")) == (1, 1) and err.startswith("error:"), err
            assert says in err

        code, out, err = await aftersales(
            tmp_path, env, "sync", "--shop-id", SHOP, "--since", "2020-01-01"
        )

    assert code == 0, err
    assert f"shop {SHOP}: imported 60 returns in 3 pages (60 created)" in out
    assert ACCESS_TOKEN not in out + err
    with sqlite3.connect(tmp_path / "sync.sqlite3") as db:
        (count,) = db.execute(
            "SELECT count(*) FROM after_sale WHERE type = 'REFUND_ONLY'"
        ).fetchone()
        (filled,) = db.execute("SELECT count(*) FROM after_sale_item").fetchone()
    assert (count, filled) == (60, 60)
