"""A real `aftersales serve` process on a free port, for tests that need real HTTP."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"aftersales serve exited early:\n{output}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                return proc, server
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("aftersales serve did not answer /health within 30 s")


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
