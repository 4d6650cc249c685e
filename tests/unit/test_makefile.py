"""`make run` serves where PORT says, from the command line or the environment, and where HOST
says on the command line only (zsh sets HOST to the machine's name in every environment)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _planned_serve(*args: str, **env: str) -> str:
    """The `aftersales serve` line `make run` would run (`make -n` runs nothing)."""
    result = subprocess.run(
        ["make", "-n", "run", *args],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k not in ("PORT", "HOST")}, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return next(line for line in result.stdout.splitlines() if "aftersales serve" in line)


pytestmark = [
    pytest.mark.live,  # runs `make -n`
    pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed"),
]


def test_make_run_serves_on_the_port_from_the_environment_but_not_its_host() -> None:
    line = _planned_serve(PORT="8123", HOST="my-laptop")

    assert line.endswith("serve --host 127.0.0.1 --port 8123")


def test_make_run_serves_on_the_host_from_the_command_line() -> None:
    line = _planned_serve("HOST=0.0.0.0")

    assert line.endswith("serve --host 0.0.0.0 --port 8000")


def test_make_run_arguments_win_over_the_environment() -> None:
    line = _planned_serve("PORT=8124", PORT="8123")

    assert line.endswith("serve --host 127.0.0.1 --port 8124")


def test_make_run_serves_on_8000_by_default() -> None:
    line = _planned_serve()

    assert line.endswith("serve --host 127.0.0.1 --port 8000")
