"""What a real `aftersales serve` does with requests that arrive too big or too slowly
(api/server.py, webhooks/http.py), over raw sockets: a stranger cannot make it hold memory or
connections open. READ_TIMEOUT_SECONDS is 1 here, so a deadline is seconds, not minutes."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.server import MAX_HEAD_BYTES
from tests.support.live import LiveServer, start_server, stop_server

pytestmark = pytest.mark.live  # a real `aftersales serve` over raw sockets

READ_TIMEOUT = 1


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder: Path = tmp_path_factory.mktemp("limits")
    proc, live = start_server(folder, {"READ_TIMEOUT_SECONDS": str(READ_TIMEOUT)})
    try:
        yield live
    finally:
        stop_server(proc)


def connect(server: LiveServer) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    sock.settimeout(READ_TIMEOUT + 5)  # never wait forever for an answer that does not come
    return sock


def answer(sock: socket.socket) -> bytes:
    """Everything the server sent until it closed the connection."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_a_header_line_over_the_limit_is_refused_and_the_connection_closed(
    server: LiveServer,
) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Flood: ")
        # Just over the limit, so the server has read all of it when it answers (what it has
        # not read when it closes would reset the connection, and the answer with it).
        for _ in range(MAX_HEAD_BYTES // 4096 + 1):
            sock.sendall(b"a" * 4096)

        response = answer(sock)

    assert status(response) == 431


def test_headers_that_stop_arriving_are_cut_off_at_the_deadline(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()

        response = answer(sock)

    assert status(response) == 408
    assert time.monotonic() - started < READ_TIMEOUT + 3


@pytest.mark.parametrize("path", ["/webhooks/tiktok", "/webhooks/logistics"])
def test_a_webhook_body_that_stops_arriving_is_cut_off_with_408(
    server: LiveServer, path: str
) -> None:
    with connect(server) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 100000\r\n\r\n".encode()
            + b"x" * 1000
        )
        started = time.monotonic()

        response = answer(sock)

    assert status(response) == 408
    assert time.monotonic() - started < READ_TIMEOUT + 3


def test_a_graphql_body_that_stops_arriving_is_cut_off_with_408(server: LiveServer) -> None:
    token = server.create_seller_token("slow", "SLOW1", "ID")
    with connect(server) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\n"
            b"Content-Length: 100000\r\n\r\n" + b'{"query": "'
        )

        response = answer(sock)

    assert status(response) == 408


def test_a_graphql_body_without_a_token_is_never_waited_for(server: LiveServer) -> None:
    with connect(server) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n" + b'{"query": "'
        )
        sock.settimeout(READ_TIMEOUT / 2)  # answered before any deadline

        response = sock.recv(65536)

    assert status(response) == 401


def test_a_large_body_sent_at_once_with_its_headers_is_not_taken_for_a_large_head(
    server: LiveServer,
) -> None:
    token = server.create_seller_token("large", "LARGE1", "ID")
    query = b'{"query": "{ shops { shopId } }' + b" " * (4 * MAX_HEAD_BYTES // 2) + b'"}'
    with connect(server) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nAuthorization: Bearer " + token.encode() + b"\r\n"
            b"Content-Length: " + str(len(query)).encode() + b"\r\n\r\n" + query
        )

        response = answer(sock)

    assert status(response) == 200
    assert b'"shopId":"LARGE1"' in response
