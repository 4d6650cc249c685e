"""Odd arguments and settings end in one `error:` line (exit 1) or the usage (exit 2), never a
traceback: values past what a datetime holds, bytes that are not UTF-8, huge numbers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_cli import AFTERSALES, CLEARED, Cli, assert_clean_failure

pytestmark = pytest.mark.live  # each test runs `aftersales` as a process


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(cwd=tmp_path, env=_env(tmp_path))


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED and not k.startswith("TIKTOK_")}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    return env


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("tokens", "create", "--seller", "acme", "--expires-in", "999999999w"), "out of range"),
        (("prune", "--older-than", "999999999w"), "out of range"),
        (
            (
                "shops",
                "credentials",
                "--shop-id",
                "S1",
                "--access-token-expires-at",
                "9999-12-31T23:59:59-01:00",
            ),
            "not a date and time",
        ),
        (
            (
                "shops",
                "credentials",
                "--shop-id",
                "S1",
                "--access-token-expires-at",
                "0001-01-01T00:00:00+01:00",
            ),
            "not a date and time",
        ),
        (
            ("sync", "--shop-id", "S1", "--since", "0001-01-01T00:00:00+14:00"),
            "not a date and time",
        ),
        (
            ("sync", "--shop-id", "S1", "--since", "9999-12-31T23:59:59-14:00"),
            "not a date and time",
        ),
        (("sync", "--shop-id", "S1", "--since", "1969-12-31"), "out of range: from 1970"),
        (("serve", "--workers", "9" * 5000), "not a whole number"),
    ],
)
def test_an_overflowing_option_exits_2_with_the_usage(
    cli: Cli, args: tuple[str, ...], phrase: str
) -> None:
    result = cli(*args)

    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr + result.stdout
    assert phrase in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        (b"tokens", b"create", b"--seller", b"\xff\xfe"),
        (b"tokens", b"create", b"--seller", b"acme", b"--name", b"ok\xff"),
        (b"tokens", b"list", b"--seller", b"\xff"),
        (
            b"shops",
            b"add",
            b"--seller",
            b"acme",
            b"--shop-id",
            b"Z9",
            b"--region",
            b"ID",
            b"--name",
            b"n\xff",
        ),
    ],
)
def test_an_argument_that_is_not_utf8_is_one_error_line(
    tmp_path: Path, args: tuple[bytes, ...]
) -> None:
    assert AFTERSALES
    result = subprocess.run(
        [AFTERSALES.encode(), *args],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert_clean_failure(result, "is not valid UTF-8")
    assert not (tmp_path / "cli.sqlite3").exists()  # refused before anything was opened


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SWEEP_INTERVAL_SECONDS", "100000000000000000000"),
        ("DISPUTE_WINDOW_SECONDS", "1000000000000000"),
        ("DISPUTE_WINDOW_REGION_SECONDS", "ID=1000000000000000"),
        ("TIKTOK_RETRY_MAX_SECONDS", "100000000000000000000"),
        ("WEBHOOK_MAX_BYTES", "1000000000000000000000000000000"),
        ("TIKTOK_API_BASE_URL", "http://[::1"),
    ],
)
def test_a_huge_or_malformed_setting_is_one_error_line(cli: Cli, name: str, value: str) -> None:
    result = cli("shops", "list", **{name: value})

    assert_clean_failure(result, name)


@pytest.mark.parametrize("seconds", ["inf", "nan", "1e300"])
def test_simulate_refuses_a_duration_it_cannot_plan(cli: Cli, seconds: str) -> None:
    result = cli("simulate", "--url", "http://127.0.0.1:1", "--duration", seconds)

    assert_clean_failure(result, "--duration")
