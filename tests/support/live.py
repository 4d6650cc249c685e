"""A real `aftersales serve` process on a free port, for tests that need real HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.eventually import eventually

BIN = Path(sys.executable).parent
AFTERSALES = shutil.which("aftersales", path=str(BIN)) or "aftersales"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    cwd: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AFTERSALES, *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def create_seller_token(self, seller: str, shop_id: str, region: str) -> str:
        added = self.cli(
            "shops", "add", "--seller", seller, "--shop-id", shop_id, "--region", region
        )
        assert added.returncode == 0, added.stderr
        created = self.cli("tokens", "create", "--seller", seller)
        assert created.returncode == 0, created.stderr
        return created.stdout.strip().splitlines()[-1]


def start_server(
    tmp_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], LiveServer]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path / 'live.sqlite3'}",
        "TIKTOK_APP_KEY": "live-app-key",
        "TIKTOK_APP_SECRET": "live-app-secret",
        "LOGISTICS_WEBHOOK_SECRET": "live-logistics-secret",
        **(extra_env or {}),
    }
    proc = subprocess.Popen(
        [AFTERSALES, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    server = LiveServer(url=f"http://127.0.0.1:{port}", env=env, cwd=tmp_path)
    try:
        wait_until_serving(proc, server.url, what="aftersales serve answers /health")
    except BaseException:
        stop_server(proc)
        raise
    return proc, server


def wait_until_serving(
    proc: subprocess.Popen[Any], url: str, *, what: str, seconds: float = 30
) -> None:
    """Wait until `url`/health answers 200; fail with the process's output if it exits first."""

    def healthy() -> bool:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            if isinstance(output, bytes):
                output = output.decode(errors="replace")
            raise AssertionError(f"exited with {proc.returncode} before {what}:\n{output}")
        return httpx.get(f"{url}/health", timeout=1).status_code == 200

    eventually(healthy, what=what, seconds=seconds, ignoring=(httpx.HTTPError,))


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    proc, server = start_server(tmp_path)
    try:
        yield server
    finally:
        stop_server(proc)


def gql(server: LiveServer, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The `data` of a GraphQL operation sent to a live server (fails on any error)."""
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


@contextmanager
def sandbox_process(folder: Path, env: dict[str, str]) -> Iterator[str]:
    """`aftersales tiktok-sandbox` in a process of its own, for the block; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [AFTERSALES, "tiktok-sandbox", "--port", str(port)],
        env={**os.environ, **env, "DATABASE_URL": f"sqlite://{folder}/sandbox.sqlite3"},
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        eventually(
            lambda: httpx.get(f"{url}/sandbox/calls", timeout=1).status_code == 200,
            what="the sandbox answers",
            seconds=20,
            ignoring=(httpx.HTTPError,),
        )
        yield url
    finally:
        stop_server(proc)
