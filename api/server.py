"""How `aftersales serve` runs uvicorn: event loop, HTTP parser and the limits a request meets
before the app sees it (docs/deployment.md).

uvicorn's httptools parser (the fast one, used whenever it is installed) buffers a request's
header lines without any limit and waits for them forever: one connection sending an
unfinished 200 MiB header line, or many sending a byte now and then, held memory and sockets
unauthenticated. `BoundedHttpTools` refuses a request head (request line and headers) over
MAX_HEAD_BYTES with 431, and closes a connection whose head has not arrived within
READ_TIMEOUT_SECONDS with 408. The body is read by the endpoints themselves, within a size
limit and the same deadline (webhooks/http.py). A proxy in front should still bound both
(docs/deployment.md): these limits are the last line, not the only one.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from aftersales.settings import Settings

# A request's line and headers together; nginx's default buffers hold 4 x 8 KiB (h11: 16 KiB).
MAX_HEAD_BYTES = 64 * 1024
# Connections (and requests in progress) at once; past it uvicorn answers 503. Each costs a
# file descriptor and some memory: keep it under the process's descriptor limit.
MAX_CONCURRENCY = 2000
# Seconds an idle keep-alive connection stays open after its last response (uvicorn's default).
KEEP_ALIVE_SECONDS = 5
DEFAULT_READ_TIMEOUT_SECONDS = 10.0
LINGER_SECONDS = 2.0
# Python's cycle collector runs its youngest generation after this many new container objects
# (its default: 700). A page of 50 after-sales builds tens of thousands of short-lived ones
# (rows, records, objects, the response's dicts): at 700 it ran several times a request, each
# time walking what the request still held and promoting it to older generations, which then
# got walked again; `aftersales serve` spent about a sixth of a page's CPU there. Objects
# without cycles are freed by reference counting whatever this is; cycles wait a little longer.
GC_YOUNG_THRESHOLD = 10_000


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.Config's keyword arguments for serving this app: uvloop and the bounded httptools
    parser when they are installed (they are dependencies; a platform without a wheel falls back
    to asyncio and h11, bounded by h11's own head limit), and the connection limits."""
    fast_parser = importlib.util.find_spec("httptools") is not None
    return {
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "http": f"{__name__}:BoundedHttpTools" if fast_parser else "h11",
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "limit_concurrency": MAX_CONCURRENCY,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }


def settle_heap() -> None:
    """Once the server process has built its app: what is alive then (modules, the schema, the
    app) lives as long as the process, so it is moved out of the cycle collector's sight
    (`gc.freeze`; a full collection otherwise walked those ~100,000 objects again and again),
    and the youngest generation is collected less often (GC_YOUNG_THRESHOLD). Never in tests
    or other in-process uses of the app: frozen objects are never collected."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


class BoundedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol with a size limit and a deadline on each request's head.

    The head's size is what arrived while it was still incomplete, counted per chunk received:
    a chunk that completes the head (and carries the start of the body) is not counted, so the
    limit never touches bodies. The deadline runs from the connection's start, and after each
    response until the next head is complete; it never runs while a request is being answered.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = getattr(config, "settings", None)
        self.read_timeout = (
            settings.read_timeout.total_seconds()
            if isinstance(settings, Settings)
            else DEFAULT_READ_TIMEOUT_SECONDS
        )
        self.reading_head = True
        self.head_bytes = 0
        self.head_deadline: asyncio.TimerHandle | None = None
        self.refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return  # the rest of a refused request: dropped while the answer is read
        super().data_received(data)
        if not self.reading_head or self.transport.is_closing():
            return
        self.head_bytes += len(data)
        if self.head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, "Request header fields too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_head = True
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        self.reading_head = False
        self._disarm_head_deadline()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self.reading_head = True
            self.head_bytes = 0
            self._arm_head_deadline()

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        self.head_deadline = self.loop.call_later(self.read_timeout, self._head_overdue)

    def _disarm_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _head_overdue(self) -> None:
        self.head_deadline = None
        answering = self.cycle is not None and not self.cycle.response_complete
        if self.reading_head and not answering and not self.transport.is_closing():
            if self.head_bytes:  # a request started and stalled; an idle connection just ends
                self._refuse(408, "Request headers not received in time.")
            else:
                self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        """Answer `status` with a short text, then close. What the client is still sending is
        read and dropped for LINGER_SECONDS first: closing with unread data resets the
        connection, and the client would lose the answer that says why."""
        body = message.encode("ascii")
        reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (status, reason, len(body), body)
        )
        self.refused = True
        self.reading_head = False
        self._disarm_head_deadline()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)
