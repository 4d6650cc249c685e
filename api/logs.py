"""Logging: the one place that sets it up, the request id, and one access line per request.

- `configure(format)` (called by the CLI's `main` with LOG_FORMAT): every log line of every
  command goes to stderr as text (`2026-12-01 19:47:02,013 INFO aftersales.access: ...`) or, with
  `json`, as one JSON object a line: `time`, `level`, `logger`, `message`, `request_id` when
  there is one, `exception` with the traceback, and the access line's fields.
- `RequestContextMiddleware` gives each HTTP request an id: the client's `X-Request-ID` when it
  is sane (1 to 128 letters, digits and `._:+/=-`), else a new one. Every line logged while the
  request is handled carries it, and the response echoes it in `X-Request-ID`.
- The same middleware logs one line per request (`aftersales.access`). `aftersales serve` turns
  uvicorn's own access log off: ours has the request id and the time taken, in our format.
  uvicorn's other lines (start, shutdown, tracebacks) go through our handler like any other.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import IO, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields the access line adds to its record; the JSON format writes them out as they are.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms", "client")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("aftersales.access")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being handled (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        if not rid:
            return line
        first, newline, rest = line.partition("\n")  # a traceback stays below the line
        return f"{first} [request_id={rid}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line, whatever the message or traceback holds."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            entry["request_id"] = rid
        for name in ACCESS_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _OurHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler `configure` installs (and replaces when called again)."""


def configure(log_format: str = "text", *, stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record at INFO and above to `stream` (stderr) in `log_format` (`text` or
    `json`). Calling it again replaces the handler it installed; other handlers stay."""
    handler = _OurHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _OurHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Tortoise narrates every connect and shutdown at INFO: noise around a command's one line.
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    logging.captureWarnings(True)  # warnings become records, so JSON stays one object a line
    return handler


def incoming_request_id(scope: Scope) -> str:
    """The client's X-Request-ID when it is sane, else a new id."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            text = value.decode("latin-1")
            return text if SANE_REQUEST_ID.fullmatch(text) else uuid.uuid4().hex
    return uuid.uuid4().hex


def _path(scope: Scope) -> str:
    """The path as the client sent it (still percent-encoded, without the query string)."""
    raw = scope.get("raw_path")
    path = raw.partition(b"?")[0].decode("latin-1") if raw else scope.get("path", "")
    printable = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in path)
    return printable[:500]


class RequestContextMiddleware:
    """Request id for every HTTP request (the logs' and the response's), and its access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(scope)
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != REQUEST_ID_HEADER.encode()
                ]
                message = {**message, "headers": [*headers, (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
            client = scope.get("client")
            fields = {
                "method": scope["method"],
                "path": _path(scope),
                "status": status,
                "duration_ms": elapsed_ms,
                "client": client[0] if client else None,
            }
            access_log.info(
                "%s %s %s %d %.1fms",
                fields["client"] or "-",
                fields["method"],
                fields["path"],
                status,
                elapsed_ms,
                extra=fields,
            )
            request_id.reset(token)
