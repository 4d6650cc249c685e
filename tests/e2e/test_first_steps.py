"""The README's First steps, run as written: `make run` in one process, the second terminal's
commands with bash, on a fresh database. They must show data through seller acme's token, and a
restarted service must accept new traffic signed with the secrets kept from the first start.

The README's text runs unchanged: the block names the service once, `URL=${URL:-...}`, and the
test sets URL to the free port it serves on. (tests/e2e/test_docs_shell.py runs every other
block of the docs.)"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.live import free_port, wait_until_serving

pytestmark = pytest.mark.live  # `make run` and the README's commands

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- first-steps:start -->\s*```sh\n(.*?)```\s*<!-- first-steps:end -->", re.S)
SECRET_NAMES = ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "LOGISTICS_WEBHOOK_SECRET")


def first_steps() -> str:
    found = BLOCK.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert found is not None, "README.md lost its first-steps block"
    return found.group(1)


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    for tool in ("make", "bash", "curl"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    env = {k: v for k, v in os.environ.items() if k not in SECRET_NAMES}
    env["DATABASE_URL"] = f"sqlite://{tmp_path / 'first-steps.sqlite3'}"
    env.pop("AFTERSALES_ENV", None)
    return env


@contextmanager
def make_run(env: dict[str, str], port: int) -> Iterator[str]:
    """`make run PORT=...` from the repository root, stopped (with its children) afterwards."""
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, url, what="make run serves", seconds=120)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def aftersales(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [".venv/bin/aftersales", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def acme_total(env: dict[str, str], url: str) -> int:
    token = aftersales(env, "tokens", "create", "--seller", "acme").stdout.splitlines()[-1]
    response = httpx.post(
        f"{url}/graphql",
        json={"query": "{ afterSales(first: 1) { totalCount } }"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return int(response.json()["data"]["afterSales"]["totalCount"])


def test_the_readme_first_steps_show_acme_data_and_survive_a_restart(
    environment: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    script = first_steps()

    with make_run(environment, port) as url:
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPO,
            env={**environment, "URL": url},  # the block's one base-URL variable
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        before = acme_total(environment, url)
    with make_run(environment, port) as url:
        more = aftersales(
            environment, "simulate", "--url", url, "--register", "--seller", "acme",
            "--count", "40", "--rate", "0",
        )  # fmt: skip
        after = acme_total(environment, url)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert '"afterSaleCounts"' in ran.stdout
    assert '"status":"AWAITING_BUYER_SHIPMENT"' in ran.stdout.replace(" ", "")
    assert '"userErrors":[]' in ran.stdout.replace(" ", "")
    assert before > 0
    assert more.returncode == 0, more.stdout + more.stderr  # every delivery answered 200
    assert after > before
    assert "local secrets from" in more.stdout  # the file kept at the first start, reused
    assert (tmp_path / "aftersales.secrets").exists()
    assert not (REPO / "aftersales.secrets").exists()


def test_make_run_takes_the_port_from_the_environment_but_not_zshs_host(
    environment: dict[str, str],
) -> None:
    env = {**environment, "PORT": "8123", "HOST": "my-laptop"}

    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "run"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[-1].endswith("serve --host 127.0.0.1 --port 8123")
