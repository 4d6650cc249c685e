"""A real `aftersales serve` as an operator runs it: SIGTERM drains requests in flight before the
process stops, the grace period bounds that wait, and LOG_FORMAT=json makes every line on stderr
(uvicorn's own included) one JSON object.

Each test starts its own server on a free port with a temporary SQLite database, with stdout and
stderr in files, so the logs can be read whole after it stops.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.cli.serve import GRACEFUL_SHUTDOWN_SECONDS
from tests.support.eventually import eventually
from tests.support.live import AFTERSALES, free_port

pytestmark = pytest.mark.live  # a real `aftersales serve`

APP_KEY, APP_SECRET = "live-app-key", "live-app-secret"


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    port: int
    stdout: Path
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, as an orchestrator sends it; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def logs(self) -> str:
        return self.stderr.read_text(encoding="utf-8")


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite://{tmp_path / 'ops.sqlite3'}",
        "TIKTOK_APP_KEY": APP_KEY,
        "TIKTOK_APP_SECRET": APP_SECRET,
        "LOGISTICS_WEBHOOK_SECRET": "live-logistics-secret",
        **extra,
    }


Start = Callable[..., Served]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Start]:
    """Starts `aftersales serve` (extra environment as keywords), answering /healthz; whatever
    is still running at the end of the test is killed."""
    started: list[Served] = []

    def start(**extra_env: str) -> Served:
        port = free_port()
        out, err = tmp_path / "serve.out", tmp_path / "serve.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(
                [AFTERSALES, "serve", "--port", str(port)],
                env=environment(tmp_path, **extra_env),
                cwd=tmp_path,
                stdout=stdout,
                stderr=stderr,
            )
        served = Served(proc, port, out, err)
        started.append(served)
        _until_up(served)
        return served

    try:
        yield start
    finally:
        for served in started:
            if served.proc.poll() is None:
                served.proc.kill()
                served.proc.wait(timeout=10)


def _until_up(served: Served) -> None:
    def status() -> int:
        if served.proc.poll() is not None:
            raise AssertionError(f"aftersales serve exited early:\n{served.logs()}")
        return httpx.get(f"{served.url}/healthz", timeout=1).status_code

    eventually(
        status,
        until=lambda code: code == 200,
        what="aftersales serve answers /healthz",
        ignoring=(httpx.TransportError,),
    )


def _signed_report() -> tuple[bytes, str]:
    body = json.dumps(
        {
            "type": 12,
            "tts_notification_id": "ops-0001",
            "shop_id": "7494049642642440001",
            "timestamp": int(time.time()),
            "data": {
                "order_id": "576486316948400001",
                "return_id": "576486316948490001",
                "return_role": "BUYER",
                "return_type": "RETURN_AND_REFUND",
                "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
                "create_time": int(time.time()) - 60,
                "update_time": int(time.time()) - 60,
            },
        }
    ).encode()
    signature = hmac.new(APP_SECRET.encode(), APP_KEY.encode() + body, hashlib.sha256)
    return body, signature.hexdigest()


def _start_slow_webhook(port: int) -> tuple[socket.socket, bytes]:
    """A signed webhook whose headers and first bytes are sent: the server is handling it and
    waits for the rest of the body. Returns the socket and the bytes still to send."""
    body, signature = _signed_report()
    head = (
        "POST /webhooks/tiktok HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Authorization: {signature}\r\n"
        "X-Request-ID: in-flight-1\r\n"
        "\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(head + body[:20])
    time.sleep(0.5)  # the server has read the headers and started the request
    return sock, body[20:]


def _refuses_new_connections(port: int, within: float = 5) -> bool:
    def refused() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        return False

    return eventually(refused, what=f"port {port} refuses connections", seconds=within, every=0.05)


def _read_response(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_request_in_flight_at_sigterm_completes_with_200_while_new_ones_are_refused(
    serve: Start,
) -> None:
    served = serve()
    sock, rest = _start_slow_webhook(served.port)

    served.proc.send_signal(signal.SIGTERM)
    refused = _refuses_new_connections(served.port)
    sock.sendall(rest)
    response = _read_response(sock)  # to the end: the server closes the connection after it
    sock.close()
    status = served.proc.wait(timeout=15)

    assert refused, "the server still accepted connections after SIGTERM"
    head = response.split(b"\r\n\r\n")[0].decode().lower()
    assert head.startswith("http/1.1 200 ok"), response
    assert "x-request-id: in-flight-1" in head
    assert status == -signal.SIGTERM  # uvicorn re-raises the signal once it has drained
    logs = served.logs()
    assert "POST /webhooks/tiktok 200" in logs
    assert logs.index("POST /webhooks/tiktok 200") < logs.index("scheduler stopped")
    assert "Traceback" not in logs


def test_a_request_that_never_finishes_is_cancelled_after_the_grace_period(
    serve: Start,
) -> None:
    # A read deadline beyond the grace period: the body's deadline would end it first (408).
    served = serve(READ_TIMEOUT_SECONDS=str(GRACEFUL_SHUTDOWN_SECONDS * 6))
    sock, _ = _start_slow_webhook(served.port)  # the rest of the body never comes

    started = time.monotonic()
    status = served.stop(timeout=GRACEFUL_SHUTDOWN_SECONDS + 15)
    waited = time.monotonic() - started
    sock.close()

    assert status == -signal.SIGTERM
    assert GRACEFUL_SHUTDOWN_SECONDS - 1 <= waited < GRACEFUL_SHUTDOWN_SECONDS + 10
    logs = served.logs()
    assert "timeout graceful shutdown exceeded" in logs
    assert "scheduler stopped" in logs


def test_json_logs_put_every_line_on_stderr_in_one_object_uvicorns_included(
    serve: Start,
) -> None:
    served = serve(LOG_FORMAT="json")

    ready = httpx.get(f"{served.url}/readyz", headers={"X-Request-ID": "json-live-1"})
    served.stop()

    assert ready.status_code == 200
    assert ready.headers["x-request-id"] == "json-live-1"
    lines = [json.loads(line) for line in served.logs().splitlines()]  # each one is JSON
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    loggers = {line["logger"] for line in lines}
    assert {"uvicorn.error", "aftersales.scheduler", "aftersales.access"} <= loggers
    assert "uvicorn.access" not in loggers  # one access line per request: ours
    [access] = [line for line in lines if line.get("path") == "/readyz"]
    assert access["request_id"] == "json-live-1"
    assert access["status"] == 200
    assert "serving GraphQL on" in served.stdout.read_text()  # what people read stays on stdout


def test_a_bad_log_format_stops_any_command_with_one_error_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [AFTERSALES, "migrate"],
        env=environment(tmp_path, LOG_FORMAT="yaml"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert done.stderr == "error: LOG_FORMAT must be 'text' or 'json', got 'yaml'\n"
