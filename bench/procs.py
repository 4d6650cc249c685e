"""The processes under load: `aftersales serve` and the bare baselines, each on its own
loopback port, started and stopped by the bench. Their output goes to files under the run's
work directory (a pipe nobody reads would fill up and stall them)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
AFTERSALES = shutil.which("aftersales", path=str(BIN)) or "aftersales"
KEY, SECRET = "bench-app-key", "bench-app-secret-0123456789abcdef"


# BENCH_PORT=N: the processes a run starts listen on N, N+1, ... (at most PORTS of them, each
# on the next port); unset, each gets a free port from the system.
PORTS = 10
_next_port = 0


def free_port() -> int:
    """The next of BENCH_PORT's ports, or a free one from the system."""
    global _next_port
    raw = os.environ.get("BENCH_PORT", "").strip()
    if raw:
        if not raw.isdigit() or not 1024 <= int(raw) <= 65535 - PORTS:
            raise SystemExit(f"error: BENCH_PORT must be a port from 1024 to {65535 - PORTS}")
        port = int(raw) + _next_port % PORTS
        _next_port += 1
        return port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    pid: int
    log: Path


def service_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "AFTERSALES_ENV": "production",
        "TIKTOK_APP_KEY": KEY,
        "TIKTOK_APP_SECRET": SECRET,
        "LOGISTICS_WEBHOOK_SECRET": "bench-logistics-secret-0123456789",
        "AFTERSALES_SECRET_KEY": os.environ.get(
            "AFTERSALES_SECRET_KEY", "aGVsbG8tYmVuY2gtc2VjcmV0LWtleS0zMi1ieXRlcyE="
        ),
        "GRAPHIQL": "off",
    }


@contextmanager
def running(name: str, argv: Sequence[str], env: dict[str, str], workdir: Path) -> Iterator[Server]:
    """Start `argv` (it serves GET /health on the port in its argv), wait until it answers,
    stop it (SIGTERM, then SIGKILL) when the block ends."""
    port = argv[argv.index("--port") + 1]
    log = workdir / f"{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(argv, env=env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, f"http://127.0.0.1:{port}", proc.pid, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer /health within 60 s")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def service(database_url: str, workdir: Path, *, workers: int = 1) -> Iterator[Server]:
    port = str(free_port())
    argv = [AFTERSALES, "serve", "--host", "127.0.0.1", "--port", port]
    if workers != 1:
        argv += ["--workers", str(workers)]
    return running(f"service-w{workers}", argv, service_env(database_url), workdir)  # type: ignore[return-value]


def bare(module: str, database_url: str, workdir: Path) -> Iterator[Server]:
    port = str(free_port())
    argv = [sys.executable, "-m", module, "--port", port]
    root = str(Path(__file__).resolve().parent.parent)
    env = {**service_env(database_url), "PYTHONPATH": root}
    return running(module, argv, env, workdir)  # type: ignore[return-value]
