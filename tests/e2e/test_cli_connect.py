"""`aftersales shops connect`: the redirect URL to register, then TikTok's authorization URL as
the last line, for a seller created when new; a clear error naming TIKTOK_SERVICE_ID without
it."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.e2e.test_cli import CLEARED, Cli, assert_clean_failure

pytestmark = pytest.mark.live  # the `aftersales` command runs as a process

OAUTH_VARIABLES = (
    "TIKTOK_SERVICE_ID",
    "TIKTOK_AUTHORIZE_URL",
    "TIKTOK_REDIRECT_BASE_URL",
)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    env = {k: v for k, v in os.environ.items() if k not in (*CLEARED, *OAUTH_VARIABLES)}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    return Cli(cwd=tmp_path, env=env)


def test_connect_prints_the_redirect_url_then_tiktoks_us_page_for_a_new_seller(cli: Cli) -> None:
    result = cli(
        "shops",
        "connect",
        "--seller",
        "acme",
        "--region",
        "us",
        TIKTOK_SERVICE_ID="7310000000000000001",
        TIKTOK_REDIRECT_BASE_URL="https://returns.example.com/",
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "https://returns.example.com/oauth/tiktok/callback" in lines[0]
    assert "new seller 'acme'" in lines[1]
    url = urlsplit(lines[-1])
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "services.us.tiktokshop.com",
        "/open/authorize",
    )
    query = parse_qs(url.query)
    assert query["service_id"] == ["7310000000000000001"]
    database = sqlite3.connect(cli.cwd / "cli.sqlite3")
    stored = database.execute(
        "SELECT s.name, o.region, o.state_hash FROM oauth_state o JOIN seller s"
        " ON s.id = o.seller_id"
    ).fetchall()
    hashed = hashlib.sha256(query["state"][0].encode()).hexdigest()
    assert stored == [("acme", "US", hashed)]


def test_connect_uses_the_global_page_and_an_existing_seller(cli: Cli) -> None:
    env = {"TIKTOK_SERVICE_ID": "7310000000000000001"}
    cli("shops", "add", "--seller", "acme", "--shop-id", "7494049642642441621", "--region", "ID")

    result = cli("shops", "connect", "--seller", "acme", **env)

    assert result.returncode == 0, result.stderr
    assert "TIKTOK_REDIRECT_BASE_URL" in result.stdout  # how to print the redirect URL
    assert "seller 'acme'" in result.stdout and "new seller" not in result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("https://services.tiktokshop.com/open/authorize?service_id=7310")


def test_connect_without_a_service_id_names_the_setting(cli: Cli) -> None:
    result = cli("shops", "connect", "--seller", "acme")

    assert_clean_failure(result, "TIKTOK_SERVICE_ID")


def test_connect_refuses_a_region_that_is_not_one(cli: Cli) -> None:
    result = cli("shops", "connect", "--seller", "acme", "--region", "XX", TIKTOK_SERVICE_ID="1")

    assert_clean_failure(result, "XX")
